"""Contact channels: SMS gateway, dialer, mail house and field team, behind one interface.

A real provider implements `ContactProvider.attempt` (`activities.providers.http` is one);
the default providers are simulators that answer deterministically from a seed and the
attempt's key, so a retried activity gets the same answer and a run can be reproduced. A
provider's *permanent* refusal (an invalid number) is an outcome, returned normally; only
a provider that is unavailable raises `ProviderUnavailable`, and Temporal retries the
activity with backoff.

The workflow's request names only *which* line or address to use (`line`,
`contact_index`, `target`), so workflow histories never hold personal data. The activity
looks up the one phone number or address the attempt needs (`DestinationLookup`) and
hands it to the provider in a `ProviderRequest`, which exists only inside the activity.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict, SecretStr
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


class Destination(BaseModel):
    """Where one attempt goes: a phone number, or a postal address with its addressee.

    `SecretStr`, so a repr, a log line or an error message built from a request shows
    `**********` and never the value: only `payload()` reads them, for the provider."""

    model_config = ConfigDict(frozen=True)

    phone: SecretStr | None = None
    address: SecretStr | None = None
    addressee: SecretStr | None = None  # who a letter or a visit is for (the debtor)

    def payload(self) -> dict[str, str]:
        """The values as the provider receives them (only the ones set)."""
        fields = {"phone": self.phone, "address": self.address, "addressee": self.addressee}
        return {k: v.get_secret_value() for k, v in fields.items() if v is not None}


class ProviderRequest(ContactRequest):
    """What a provider receives: the workflow's request plus its destination.

    Built inside the activity and never returned, so the destination never reaches the
    workflow's history. None when nothing is on record for the attempt (a case without a
    placement record, or personal data purged): a provider that needs one refuses."""

    destination: Destination | None = None


class DestinationLookup(Protocol):
    """The one phone number or address an attempt needs (`activities.providers`)."""

    async def destination(self, request: ContactRequest) -> Destination | None: ...


class ContactResult(BaseModel):
    outcome: Outcome
    attempted_at: datetime  # wall-clock time the provider made the attempt
    collector_ids: tuple[str, ...] = ()
    recording_ref: str | None = None
    provider_ref: str | None = None


class ProviderUnavailable(Exception):
    """The provider could not be reached: retry later (not an outcome)."""


class ContactProvider(Protocol):
    async def attempt(self, request: ProviderRequest) -> ContactResult: ...


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
    """`destinations` None: no personal data is looked up (the simulations and the
    workflow tests run on scripted providers and an in-memory store, with no database)."""

    def __init__(
        self, provider: ContactProvider, destinations: DestinationLookup | None = None
    ) -> None:
        self._provider = provider
        self._destinations = destinations

    @activity.defn(name="attempt_contact")
    async def attempt_contact(self, request: ContactRequest) -> ContactResult:
        destination = None
        if self._destinations is not None:
            destination = await self._destinations.destination(request)
        result = await self._provider.attempt(
            ProviderRequest(**dict(request), destination=destination)
        )
        activity.logger.debug(
            "contact attempted",
            extra={
                "case_id": request.case_id,
                "channel": request.channel,
                "outcome": result.outcome,
            },
        )
        return result
