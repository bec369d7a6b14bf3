"""Portfolio simulation: every case of a placement file through the policy, with seeded
random debtor behaviour, summarised the way a collections department reads its book.

Behaviour is a model, not a forecast: each debtor gets a propensity to pay (drawn from
the seed and the account id, so a run is reproducible and independent of file order),
pays after some statements, and answers contact attempts with a mix of outcomes.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import cast

from pydantic import BaseModel

from domain.billing import add_months
from domain.commands import ReceivePayment
from domain.contact import PlannedContact
from domain.delinquency import bucket_label
from domain.errors import DomainError
from domain.events import (
    CommissionEarned,
    ContactAttempted,
    Event,
    Outcome,
    PaymentReceived,
    StatementIssued,
)
from domain.intake import open_case
from domain.localtime import start_of_day, utc_at_local
from domain.loop import Input
from domain.money import charge
from domain.placement import PlacementRow
from domain.policy import Policy
from domain.simulation import (
    DEFAULT_OUTCOME_MIX,
    CaseRun,
    ContactReply,
    drive,
    pick_outcome,
    reply,
)


class Debtor:
    """One simulated debtor: pays some statements, answers some calls."""

    def __init__(self, seed: int, account_id: str, policy: Policy) -> None:
        self.rng = random.Random(f"{seed}:{account_id}")
        self.propensity = self.rng.random()
        self.policy = policy
        self.payments = 0

    def reply(self, planned: PlannedContact, attempt_key: str) -> ContactReply:
        return reply(self._outcome(planned), planned, attempt_key, "sim")

    def _outcome(self, planned: PlannedContact) -> Outcome:
        return pick_outcome(DEFAULT_OUTCOME_MIX, planned.channel, self.rng.random())

    def react(self, events: list[Event]) -> list[Input]:
        """After a statement, maybe pay part or all of what is due before the due date."""
        inputs = []
        for event in events:
            # `type(...) is`, not `isinstance`: see the tally in `simulate_accounts`.
            if type(event) is not StatementIssued or self.rng.random() > self.propensity * 0.5:
                continue
            share = (
                Decimal(1) if self.rng.random() < 0.4 else Decimal(self.rng.randint(30, 100)) / 100
            )
            amount = charge(event.minimum_due_total * share)
            if amount <= 0:
                continue
            self.payments += 1
            day = event.statement_date + timedelta(
                days=self.rng.randint(1, max(1, (event.due_date - event.statement_date).days))
            )
            at = utc_at_local(day, time(12, 0), self.policy.cycle.bank_timezone)
            inputs.append(
                Input(at=at, command=ReceivePayment(reference=f"SIM-{event.seq}", amount=amount))
            )
        return inputs


class MonthRow(BaseModel):
    month: int
    as_of: date
    accounts: dict[str, int]
    balance: dict[str, str]


class PortfolioReport(BaseModel):
    accounts: int
    account_cycles: int
    months: list[MonthRow]
    roll_rates: dict[str, str]
    cure_rate: str
    outcomes: dict[str, int]
    opening_balance: str
    recovered: str
    recovery_rate: str
    commissions: dict[str, str]
    contact_attempts: dict[str, int]


def simulate_portfolio(
    rows: Iterable[PlacementRow], start: date, months: int, seed: int, policy: Policy
) -> PortfolioReport:
    """Every case of `rows` through the policy for `months` months: the portfolio report."""
    return portfolio_report(simulate_accounts(rows, start, months, seed, policy), policy)


@dataclass
class Tally:
    """What the portfolio report adds up, over some of its accounts.

    Tallies of disjoint sets of accounts merge into the tally of their union, whatever
    the split: each debtor's behaviour is drawn from the seed and its own account id,
    and every figure is a count or an exact Decimal sum. So a large book can be
    simulated in parts (`arrears simulate --portfolio --jobs N`) and give the very
    report of one pass."""

    start: date
    months: int
    accounts: int = 0
    cycles: int = 0
    opening: Decimal = Decimal(0)
    recovered: Decimal = Decimal(0)
    counts: list[Counter[str]] = field(init=False)  # per month end: accounts by bucket
    balances: list[defaultdict[str, Decimal]] = field(init=False)  # and their balances
    transitions: Counter[tuple[str, str]] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    commissions: defaultdict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    attempts: Counter[str] = field(default_factory=Counter)
    #: Placements the policy refused to open, by rule and reason: left out, not fatal.
    refused: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.counts = [Counter() for _ in range(self.months)]
        self.balances = [defaultdict(Decimal) for _ in range(self.months)]

    def merge(self, other: Tally) -> None:
        """Add `other`'s accounts (none of them may be in this tally already)."""
        if (other.start, other.months) != (self.start, self.months):
            raise ValueError("tallies of different periods do not merge")
        self.accounts += other.accounts
        self.cycles += other.cycles
        self.opening += other.opening
        self.recovered += other.recovered
        for mine, theirs in zip(self.counts, other.counts, strict=True):
            mine.update(theirs)
        for sums, more in zip(self.balances, other.balances, strict=True):
            _add_sums(sums, more)
        self.transitions.update(other.transitions)
        self.outcomes.update(other.outcomes)
        _add_sums(self.commissions, other.commissions)
        self.attempts.update(other.attempts)
        self.refused.update(other.refused)


def _add_sums(sums: defaultdict[str, Decimal], more: dict[str, Decimal]) -> None:
    """`Counter.update` for Decimal sums. Every key is kept, zeros too: a cured bucket's
    balance of 0.00 at a month end is a line the report prints."""
    for key, amount in more.items():
        sums[key] += amount


def _snapshots(start: date, months: int, policy: Policy) -> list[datetime]:
    """The month ends the report reads the book at: the start date of each next month."""
    bank = policy.cycle.bank_timezone
    return [start_of_day(add_months(start, m), bank) for m in range(1, months + 1)]


def simulate_accounts(
    rows: Iterable[PlacementRow], start: date, months: int, seed: int, policy: Policy
) -> Tally:
    """Every case of `rows` through the policy, tallied (see `Tally`).

    A placement the policy refuses to open (its oldest unpaid due date is not before the
    start, say) is left out and counted by reason: one such row does not stop the
    others. A refusal later in a case's life would be a defect, and is raised."""
    bank = policy.cycle.bank_timezone
    snapshots = _snapshots(start, months, policy)
    t = Tally(start, months)
    for row in rows:
        run = CaseRun(policy, row.case_id)
        try:
            run.apply(open_case(row), start_of_day(start, bank))
        except DomainError as refusal:
            t.refused[f"{refusal.rule}: {refusal.message}"] += 1
            continue
        t.accounts += 1
        debtor = Debtor(seed, row.account_id, policy)
        t.opening += run.state.total
        inputs: list[Input] = []
        previous = _label(run, policy)
        for index, moment in enumerate(snapshots):
            drive(run, inputs, moment, debtor.reply, debtor.react)
            label = _label(run, policy)
            t.counts[index][label] += 1
            t.balances[index][label] += run.state.total if not run.state.closed else Decimal(0)
            t.transitions[(previous, label)] += 1
            previous = label
            if not run.state.closed:
                t.cycles += 1
        t.outcomes[run.state.outcome or "open"] += 1
        for event in run.events:
            # `type(...) is`, not `isinstance`: event classes have no subclasses, and a
            # pydantic class's `isinstance` goes through `ABCMeta`, several times slower
            # over every event of every case.
            kind = type(event)
            if kind is ContactAttempted:  # the commonest first
                t.attempts[cast(ContactAttempted, event).channel] += 1
            elif kind is PaymentReceived:
                paid = cast(PaymentReceived, event)
                t.recovered += paid.amount - paid.unapplied
            elif kind is CommissionEarned:
                earned = cast(CommissionEarned, event)
                t.commissions[f"{earned.agency}/{earned.hand}"] += earned.amount
    return t


def portfolio_report(t: Tally, policy: Policy) -> PortfolioReport:
    """The report of a tally: what a collections department reads of its book."""
    return PortfolioReport(
        accounts=t.accounts,
        account_cycles=t.cycles,
        months=[
            MonthRow(
                month=i + 1,
                as_of=add_months(t.start, i + 1),  # the day `_snapshots` reads the book on
                accounts=dict(sorted(t.counts[i].items())),
                balance={k: f"{v:.2f}" for k, v in sorted(t.balances[i].items())},
            )
            for i in range(t.months)
        ],
        roll_rates=_roll_rates(t.transitions, policy),
        cure_rate=_share(t.outcomes["cured"], t.accounts),
        outcomes=dict(sorted(t.outcomes.items())),
        opening_balance=f"{t.opening:.2f}",
        recovered=f"{t.recovered:.2f}",
        recovery_rate=_share(t.recovered, t.opening),
        commissions={k: f"{v:.2f}" for k, v in sorted(t.commissions.items())},
        contact_attempts=dict(sorted(t.attempts.items())),
    )


def _label(run: CaseRun, policy: Policy) -> str:
    if run.state.closed:
        return str(run.state.outcome)
    return bucket_label(run.state.bucket, policy.delinquency.top_bucket)


def _roll_rates(transitions: Counter[tuple[str, str]], policy: Policy) -> dict[str, str]:
    """Share of accounts in M_n at one month end found in M_(n+1) at the next."""
    top = policy.delinquency.top_bucket
    rates = {}
    for n in range(top):
        source, target = bucket_label(n, top), bucket_label(n + 1, top)
        total = sum(c for (a, _), c in transitions.items() if a == source)
        if total:
            rates[f"{source}->{target}"] = _share(transitions[(source, target)], total)
    return rates


def _share(part: Decimal | int, whole: Decimal | int) -> str:
    if not whole:
        return "0.0000"
    return f"{Decimal(part) / Decimal(whole):.4f}"
