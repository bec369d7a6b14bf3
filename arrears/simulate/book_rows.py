"""One simulated case as the rows the live store would hold: `case_events` and
`case_snapshots`, ready for COPY into a scratch database (`arrears.simulate.to_postgres`).

The case is stepped exactly as `domain.portfolio.simulate_accounts` steps it (the same
`Debtor`, `drive` to each month end), so the events are the ones the portfolio report
tallies; only what is recorded of them differs. A snapshot is taken after every step of
`drive` that produced events, from the same `case_summary` the live store writes with
every append, so a report reading `case_snapshots` sees a simulated case move as it
would see a live one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, get_args

from arrears.store.events import payload_of
from domain.arms import CHAMPION, Arm, assign_arm
from domain.billing import add_months
from domain.errors import DomainError
from domain.events import Event
from domain.intake import open_case
from domain.localtime import start_of_day
from domain.loop import Input
from domain.placement import PlacementRow
from domain.policy import Policy
from domain.portfolio import Debtor
from domain.simulation import CaseRun, drive
from workflows.case_views import case_summary

#: What the hash columns of a simulated event hold: nothing was chained, and a row that
#: says so cannot pass for a live one (a live hash is 64 hex digits).
SIMULATED = "simulated"

#: Every event type the domain decides: a recording of these holds a case's whole history.
EVERY_EVENT_TYPE = frozenset(
    member.model_fields["type"].default for member in get_args(get_args(Event)[0])
)

EVENT_COLUMNS = ("case_id", "seq", "type", "at", "payload", "prev_hash", "hash")
SNAPSHOT_COLUMNS = (
    "case_id", "last_seq", "as_of", "policy", "stage", "bucket", "dpd",
    "principal", "interest", "fees", "charged_off", "outcome",
)  # fmt: skip


@dataclass(frozen=True)
class Challenger:
    """A champion / challenger run: the challenger profile and its share of accounts."""

    profile: str
    split: Decimal


@dataclass(frozen=True)
class BookRun:
    """What to simulate: the placement file, the period and the profiles."""

    path: Path
    months: int
    seed: int
    start: date
    policy: str
    challenger: Challenger | None = None

    @property
    def last_day(self) -> date:
        """The last bank day simulated: each case is driven to the month end after it."""
        return add_months(self.start, self.months) - timedelta(days=1)


@dataclass
class SimulatedCase:
    """A case's rows, in COPY column order (`EVENT_COLUMNS`, `SNAPSHOT_COLUMNS`), or
    why the policy refused to open it (`refused`: rule and reason, no rows)."""

    refused: str | None = None
    events: list[tuple[Any, ...]] = field(default_factory=list)
    snapshots: list[tuple[Any, ...]] = field(default_factory=list)


@dataclass(frozen=True)
class Recording:
    """What of a simulated book is loaded: the event types the chosen report reads
    (`case_opened` always: it scopes every report), and snapshots when it reads them."""

    event_types: frozenset[str]
    snapshots: bool


def month_ends(start: date, months: int, policy: Policy) -> list[datetime]:
    """The instants a portfolio run drives each case to: the bank's midnight opening the
    same day of each following month (as `simulate_accounts` does)."""
    bank = policy.cycle.bank_timezone
    return [start_of_day(add_months(start, m), bank) for m in range(1, months + 1)]


def event_row(case_id: str, event: Event) -> tuple[Any, ...]:
    """The `case_events` row of an event: the payload the live `EventStore` writes
    (`payload_of`; `case_opened` carries the arm)."""
    return (case_id, event.seq, event.type, event.at, payload_of(event), SIMULATED, SIMULATED)


def snapshot_row(run: CaseRun) -> tuple[Any, ...]:
    """The `case_snapshots` row of the case as it stands now (`case_summary`)."""
    s = case_summary(run.state, run.policy)
    return (
        run.case_id, run.state.seq, s.as_of, s.policy, s.stage, s.bucket, s.dpd,
        s.principal, s.interest, s.fees, s.charged_off, s.outcome,
    )  # fmt: skip


def simulate_case(
    row: PlacementRow,
    start: date,
    months: int,
    seed: int,
    policy: Policy,
    recording: Recording,
    arm: Arm | None = None,
) -> SimulatedCase:
    """The case's rows after `months` months, or its refusal: a placement the policy
    refuses to open is left out, as the portfolio report leaves it out."""
    run = CaseRun(policy, row.case_id)
    try:
        run.apply(open_case(row, arm or CHAMPION), start_of_day(start, policy.cycle.bank_timezone))
    except DomainError as refusal:
        return SimulatedCase(refused=f"{refusal.rule}: {refusal.message}")
    debtor = Debtor(seed, row.account_id, policy)
    rows = SimulatedCase()
    if recording.snapshots:
        rows.snapshots.append(snapshot_row(run))

    def react(new: list[Event]) -> list[Input]:
        # Called by `drive` after each of its steps: the moment the live store appends.
        if new and recording.snapshots:
            rows.snapshots.append(snapshot_row(run))
        return debtor.react(new)

    inputs: list[Input] = []
    for moment in month_ends(start, months, policy):
        drive(run, inputs, moment, debtor.reply, react)
    keep = recording.event_types
    rows.events = [event_row(run.case_id, e) for e in run.events if e.type in keep]
    return rows


@dataclass(frozen=True)
class BookSimulator:
    """Accounts of a book run simulated each under its arm's profile: in this process,
    or (it pickles) in the worker processes of `--jobs`, a chunk of rows at a time."""

    book: BookRun
    policies: dict[Arm, Policy]
    recording: Recording

    def case(self, row: PlacementRow) -> SimulatedCase:
        """One account: its arm (`domain.arms.assign_arm`, as the live import assigns
        it) when the run has a challenger, simulated under that arm's profile."""
        book, challenger = self.book, self.book.challenger
        arm: Arm | None = None
        if challenger is not None:
            arm = assign_arm(row.account_id, challenger.profile, challenger.split)
        policy = self.policies[arm or CHAMPION]
        return simulate_case(row, book.start, book.months, book.seed, policy, self.recording, arm)

    def __call__(self, rows: list[PlacementRow]) -> list[SimulatedCase]:
        return [self.case(row) for row in rows]
