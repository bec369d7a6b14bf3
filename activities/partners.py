"""Collection agencies and the legal team: told when a case is placed, recalled or
referred. Real integrations implement `PartnerGateway`; the default one only logs."""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel
from temporalio import activity

from domain.events import LegalReferred, Placed, Recalled


class PartnerNotice(BaseModel):
    case_id: str
    event: Placed | Recalled | LegalReferred


class PartnerGateway(Protocol):
    async def notify(self, notice: PartnerNotice) -> None: ...


class LoggingPartnerGateway:
    """Stands in for the agencies' and the legal team's systems."""

    async def notify(self, notice: PartnerNotice) -> None:
        activity.logger.debug(
            "partner notified",
            extra={"case_id": notice.case_id, "notice": notice.event.type, "seq": notice.event.seq},
        )


class PartnerActivities:
    def __init__(self, gateway: PartnerGateway) -> None:
        self._gateway = gateway

    @activity.defn(name="notify_partner")
    async def notify_partner(self, notice: PartnerNotice) -> None:
        await self._gateway.notify(notice)
