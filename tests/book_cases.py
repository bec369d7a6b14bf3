"""Small books for the read-side tests: a case's story told event by event (the domain's
own event types), stored through the real `EventStore` with the `cases` row a worker
would write, so every read model is the one production code projects.

A story may be appended in several batches, each with the standing a worker would have
written then (`standing`), so the case has snapshots at different business times (the
reports of past periods read them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg

from arrears.store.events import EventStore
from arrears.store.read_models import CaseSummary
from domain.events import CaseOpened, Event, PaymentReceived
from tests.stored_cases import opened_event

#: 12:00 in Shanghai on 2026-06-10: "now" for the read-side tests.
NOW = datetime(2026, 6, 10, 4, 0, tzinfo=UTC)
TODAY = NOW.date()


class _OpenedInArm(CaseOpened):
    """A `case_opened` carrying the arm it was assigned to, for a tree whose CaseOpened has
    no `arm` field yet (the reports read `payload->>'arm'`, absent = champion)."""

    arm: str


def _opened(at: datetime, account_id: str, policy: str, arm: str | None) -> CaseOpened:
    event = opened_event(1, at, account_id).model_copy(update={"policy": policy})
    if arm is None:
        return event
    if "arm" in CaseOpened.model_fields:
        return event.model_copy(update={"arm": arm})
    return _OpenedInArm(**event.model_dump(), arm=arm)


class Story:
    """One case: `then(EventType, at, **fields)` adds an event with the next seq; the
    summary fields (stage, bucket, balance ...) are what the `cases` row will say.

    `standing(as_of, **fields)` closes a batch: the events told so far are appended
    together with a summary changed by `fields` as of `as_of` (a snapshot then); events
    told after the last standing are appended with that standing's summary."""

    def __init__(
        self,
        account_id: str,
        *,
        opened_at: datetime = NOW - timedelta(days=10),
        stage: str = "phone",
        bucket: str = "M1",
        dpd: int = 40,
        balance: str = "1000.00",
        agency: str | None = None,
        outcome: str | None = None,
        policy: str = "cn-card",
        arm: str | None = None,
    ) -> None:
        self.case_id = f"case-{account_id}"
        self.events: list[Event] = [_opened(opened_at, account_id, policy, arm)]
        self.batches: list[tuple[int, CaseSummary]] = []
        self.summary = CaseSummary(
            account_id=account_id, policy=policy, stage=stage, bucket=bucket, dpd=dpd,
            principal=Decimal(balance), interest=Decimal("0.00"), fees=Decimal("0.00"),
            agency=agency, hand="first" if agency else None, holds=[], charged_off=False,
            outcome=outcome, opened_at=opened_at, as_of=opened_at,
        )  # fmt: skip

    def then(self, event_type: type[Any], at: datetime, **fields: Any) -> Story:
        self.events.append(event_type(seq=len(self.events) + 1, at=at, **fields))
        return self

    def standing(self, as_of: datetime, *, balance: str | None = None, **fields: Any) -> Story:
        """End a batch here: the summary from now on is the current one with `fields`
        (CaseSummary's names; `balance` sets the principal) as of `as_of`."""
        if balance is not None:
            fields["principal"] = Decimal(balance)
        changed = {**self.summary.model_dump(), **fields, "as_of": as_of}
        self.summary = CaseSummary.model_validate(changed)
        self.batches.append((len(self.events), self.summary))
        return self

    def paid(self, at: datetime, amount: str, unapplied: str = "0.00") -> Story:
        money = Decimal(amount)
        applied = money - Decimal(unapplied)
        return self.then(
            PaymentReceived, at, reference=f"P{len(self.events) + 1}-{self.case_id}",
            amount=money, to_fees=Decimal("0.00"), to_interest=Decimal("0.00"),
            to_principal=applied, unapplied=Decimal(unapplied), paid_on=at.date(),
        )  # fmt: skip

    async def store(self, pool: asyncpg.Pool) -> str:
        """Append the story in its batches (one batch when it has no standing)."""
        store, start = EventStore(pool), 0
        cuts = [*self.batches]
        if not cuts or cuts[-1][0] < len(self.events):
            cuts.append((len(self.events), self.summary))
        for end, summary in cuts:
            if end > start:
                await store.append(self.case_id, self.events[start:end], summary)
            start = end
        return self.case_id


async def store_all(pool: asyncpg.Pool, *stories: Story) -> list[str]:
    return [await story.store(pool) for story in stories]
