"""The decider's working memory: events emitted so far, and the state they lead to.

Rules cascade (a statement date raises the bucket, which moves the stage, which places
the case with an agency). Each rule sees the state *after* the events before it, because
`emit` evolves the state as it goes; `fold(decide(...))` therefore equals the decider's
own state by construction.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from domain.delinquency import bucket_label
from domain.errors import DomainError
from domain.events import (
    Event,
    LegalReferred,
    Placed,
    Recalled,
    StageChanged,
)
from domain.evolve import evolve
from domain.localtime import local_date
from domain.outsourcing import agency_for, next_regular_hand, term_ends
from domain.policy import STAGES, Hand, Policy, Stage
from domain.state import CaseState


class Decision:
    __slots__ = ("events", "now", "policy", "state")  # one per decision, read at every rule

    def __init__(self, state: CaseState, now: datetime, policy: Policy) -> None:
        if now.tzinfo is None:  # `check`, without building its arguments on every decision
            raise DomainError("time", "`now` must carry a time zone", now=now)
        self.state = state
        self.now = now
        self.policy = policy
        self.events: list[Event] = []

    def emit(self, event_type: type[Any], at: datetime | None = None, **fields: Any) -> None:
        # Every event is stamped in UTC, also those a calendar rule dates at a bank-local
        # midnight: durations added to an event's time later (the letter's 10 days) are
        # then the same before and after the state is serialised (continue-as-new turns
        # a zone into a fixed offset, which would move a deadline across daylight saving).
        fields["seq"], fields["at"] = self.state.seq + 1, (at or self.now).astimezone(UTC)
        # Validated as `event_type(**fields)` validates, without the call through
        # `BaseModel.__init__` (which only hands the same dict to the same validator).
        event = event_type.__pydantic_validator__.validate_python(fields)
        self.state = evolve(self.state, event)
        self.events.append(event)

    # --- shared facts ---------------------------------------------------------------

    def bank_date(self, moment: datetime | None = None) -> date:
        return local_date(moment or self.now, self.policy.cycle.bank_timezone)

    def label(self, bucket: int) -> str:
        return bucket_label(bucket, self.policy.delinquency.top_bucket)

    # --- effects shared by rules and overrides ------------------------------------

    def enter_stage(self, stage: Stage, reason: str, at: datetime | None = None) -> None:
        """Move forward to `stage` and do what entering it means (POLICY §3, §4)."""
        previous = self.state.stage
        if stage == previous:
            return
        if stage == "legal":
            self.refer_to_legal(reason, at)
            return
        self.emit(StageChanged, at, stage=stage, previous=previous, reason=reason)
        if stage == "outsourcing" and self.state.placement is None:
            self.place(next_regular_hand(self.state.regular_hands), at)

    def place(
        self, hand: Hand, at: datetime | None = None, *, rate: Any = None, agency: str | None = None
    ) -> None:
        policy = self.policy.outsourcing
        assert self.state.account is not None
        start = at or self.now
        self.emit(
            Placed,
            at,
            agency=agency
            or agency_for(self.state.account.account_id, self.state.placements_made, policy),
            hand=hand,
            commission_rate=rate if rate is not None else policy.rates[hand],
            term_ends=term_ends(start, policy, self.policy.cycle.bank_timezone),
            balance=self.state.total,
        )

    def recall(self, reason: str, at: datetime | None = None) -> None:
        placement = self.state.placement
        if placement is not None:
            self.emit(Recalled, at, agency=placement.agency, hand=placement.hand, reason=reason)

    def refer_to_legal(self, reason: str, at: datetime | None = None) -> None:
        """POLICY §4: the case leaves the agency and goes to the legal team."""
        if self.state.stage == "legal":
            return
        self.recall("legal_referral", at)
        self.emit(LegalReferred, at, reason=reason, balance=self.state.total)
        self.emit(StageChanged, at, stage="legal", previous=self.state.stage, reason=reason)


def stage_rank(stage: Stage) -> int:
    return STAGES.index(stage)
