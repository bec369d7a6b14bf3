"""Messages in and out of the case workflow: one model per workflow, signal, update and
query, so fields can be added compatibly. No personal data in any of them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.commands import OpenCase, Override
from domain.events import Actor
from domain.loop import Input
from domain.money import PositiveMoney
from domain.policy import Policy
from domain.state import CaseState

DAY_SECONDS = 86400.0


class BusinessClock(BaseModel):
    """ARCHITECTURE decision 6: business time = origin + (now - started) x 86400 / day_seconds.

    Live cases use origin = start and 86400 (identity); demos and load tests use a short
    day to show months in minutes; `simulate --engine temporal` starts at the scenario's
    date. `started` is fixed by the first run and carried across continue-as-new.
    """

    model_config = ConfigDict(frozen=True)

    origin: datetime | None = None
    day_seconds: float = Field(default=DAY_SECONDS, gt=0)
    started: datetime | None = None

    @property
    def speed(self) -> float:
        return DAY_SECONDS / self.day_seconds

    def business(self, real: datetime) -> datetime:
        assert self.origin is not None and self.started is not None
        return self.origin + (real - self.started) * self.speed

    def real_delay(self, business_from: datetime, business_to: datetime) -> timedelta:
        return (business_to - business_from) / self.speed


class OverrideResult(BaseModel):
    events: list[dict[str, Any]]


class OverrideDone(BaseModel):
    """An override already applied, by its request id: the same id again gets this answer
    and changes nothing (the CLI retries, people click twice, scripts run twice)."""

    id: str
    result: OverrideResult


class OverrideMemory:
    """The overrides a case applied, by request id, newest last. Only the latest are kept:
    an id is sent again within seconds or minutes, not after a hundred later overrides."""

    KEPT = 100

    def __init__(self, carried: list[OverrideDone]) -> None:
        self._results = {d.id: d.result for d in carried}

    def answer(self, request: OverrideRequest) -> OverrideResult | None:
        """The first result, if this request's id was applied already."""
        return self._results.get(request.id) if request.id is not None else None

    def remember(self, request: OverrideRequest, result: OverrideResult) -> None:
        if request.id is None:
            return
        self._results[request.id] = result
        while len(self._results) > self.KEPT:
            del self._results[next(iter(self._results))]

    def carried(self) -> list[OverrideDone]:
        """What continue-as-new carries on."""
        return [OverrideDone(id=k, result=v) for k, v in self._results.items()]


class CaseInput(BaseModel):
    """Start (and continue-as-new) input of a case workflow."""

    case_id: str
    policy: Policy
    clock: BusinessClock = BusinessClock()
    open: OpenCase | None = None  # the first run opens the case
    # A run started for an input to a case that has ended (a late payment): it rebuilds
    # the case from the event store, records what came in, and ends again.
    after_close: bool = False
    state: CaseState | None = None  # carried across continue-as-new
    pending: list[Input] = Field(default_factory=list)  # inputs not yet applied
    overrides_done: list[OverrideDone] = Field(default_factory=list)  # the latest, by id
    script: list[Input] = Field(default_factory=list)  # simulations: inputs at set times
    until: datetime | None = None  # simulations: stop (outcome open) after this business time
    # The time-skipping test server knows no custom search attributes; everywhere else
    # the case publishes stage, bucket, DPD, agency and outcome.
    search_attributes: bool = True
    runs: int = 1
    #: Champion / challenger: the profile of the case's other arm, set by the importer
    #: when the profile names a challenger. A `move_arm` override swaps it with `policy`.
    other_arm: Policy | None = None


class PaymentSignal(BaseModel):
    """A payment from the payments feed; repeated references are ignored."""

    reference: str = Field(min_length=1, max_length=64)
    amount: PositiveMoney
    paid_on: date | None = None  # value date from the feed, recorded on the payment


class OverrideRequest(BaseModel):
    override: Override
    # One id per override a person gives: sent again (a retry, a second click), it is
    # applied once and answered with the first result. The CLI makes one per invocation.
    id: str | None = Field(default=None, min_length=1, max_length=128)


class StoreConflict(BaseModel):
    """The event store refused an append: it holds something else under those seqs. The
    case stops (retrying cannot make them agree) and waits for a supervisor."""

    at: datetime
    seqs: list[int]
    message: str


class RetryAppend(BaseModel):
    """A supervisor's word that the store has been looked at: try the append again."""

    actor: Actor
    reason: str = Field(min_length=1, max_length=500)


class NextAction(BaseModel):
    at: datetime | None
    what: str


class CaseView(BaseModel):
    """The `state` query: what a supervisor's status screen shows."""

    case_id: str
    business_now: datetime
    state: CaseState
    next_action: NextAction
    conflict: StoreConflict | None = None  # set while the case waits for a supervisor


class CaseResult(BaseModel):
    case_id: str
    outcome: str
    last_seq: int
