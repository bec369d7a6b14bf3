"""Contact channels: SMS gateway, dialer, mail house and field team, behind one interface.

A real provider implements `ContactProvider.attempt`; the default providers are
simulators that answer deterministically from a seed and the attempt's key, so a retried
activity gets the same answer and a run can be reproduced. A provider's *permanent*
refusal (an invalid number) is an outcome, returned normally; only a provider that is
unavailable raises `ProviderUnavailable`, and Temporal retries the activity with backoff.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from pydantic import BaseModel
from temporalio import activity

from domain.contact import PlannedContact
from domain.events import Channel, Outcome, PhoneLine, Target
from domain.simulation import (
    DEFAULT_OUTCOME_MIX,
    ContactOutcomes,
    ContactReply,
    OutcomeMix,
    pick_outcome,
    reply,
)


class ContactRequest(BaseModel):
    case_id: str
    attempt_key: str  # idempotency key: the same key is the same attempt
    channel: Channel
    target: Target
    planned_at: datetime  # business time the policy planned it for
    line: PhoneLine | None = None
    contact_index: int | None = None


class ContactResult(BaseModel):
    outcome: Outcome
    attempted_at: datetime  # wall-clock time the provider made the attempt
    collector_ids: tuple[str, ...] = ()
    recording_ref: str | None = None
    provider_ref: str | None = None


class ProviderUnavailable(Exception):
    """The provider could not be reached: retry later (not an outcome)."""


class ContactProvider(Protocol):
    async def attempt(self, request: ContactRequest) -> ContactResult: ...


def _planned(request: ContactRequest) -> PlannedContact:
    return PlannedContact(
        channel=request.channel,
        target=request.target,
        planned_at=request.planned_at,
        line=request.line,
        contact_index=request.contact_index,
        purpose="attempt",
    )


def _result(answer: ContactReply, attempted_at: datetime) -> ContactResult:
    return ContactResult(attempted_at=attempted_at, **answer._asdict())


class SimulatedProvider:
    """Answers each attempt from `mix`, seeded by the attempt key (reproducible)."""

    def __init__(
        self,
        mix: OutcomeMix = DEFAULT_OUTCOME_MIX,
        seed: int = 0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._mix = mix
        self._seed = seed
        self._clock = clock

    async def attempt(self, request: ContactRequest) -> ContactResult:
        roll = random.Random(f"{self._seed}:{request.attempt_key}").random()
        outcome = pick_outcome(self._mix, request.channel, roll)
        answer = reply(outcome, _planned(request), request.attempt_key, "sim")
        return _result(answer, self._clock())


class ScriptedProvider:
    """Answers every attempt of a channel with one outcome (`simulate` scenarios)."""

    def __init__(self, outcomes: ContactOutcomes) -> None:
        self._outcomes = outcomes

    async def attempt(self, request: ContactRequest) -> ContactResult:
        answer = self._outcomes.for_attempt(_planned(request), request.attempt_key)
        return _result(answer, datetime.now(UTC))


class ContactActivities:
    def __init__(self, provider: ContactProvider) -> None:
        self._provider = provider

    @activity.defn(name="attempt_contact")
    async def attempt_contact(self, request: ContactRequest) -> ContactResult:
        result = await self._provider.attempt(request)
        activity.logger.debug(
            "contact attempted",
            extra={
                "case_id": request.case_id,
                "channel": request.channel,
                "outcome": result.outcome,
            },
        )
        return result
