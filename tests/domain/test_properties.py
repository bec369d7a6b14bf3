"""Properties of the decider that must hold for every account and every history.

1. Money never loses a cent: what payments applied plus what is still owed equals what
   was owed at opening plus everything charged minus everything waived.
2. The bucket rises only when a statement date passes (by one M at a time), and falls
   only when a payment lands.
3. Folding the events reproduces the decider's state, also after the events went through
   JSON (the event store) and when folding starts from a snapshot.
4. No contact is planned or recorded outside the debtor's window or during a hold (nor
   while a promise or a plan runs), whatever the time zone, profile or wake-up times.

Each property runs a bounded number of generated histories (`settings` below) so that
it stays within about ten seconds.
"""

from __future__ import annotations

import contextlib
import random
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, get_args

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from domain.case import next_wakeup
from domain.commands import (
    AdvanceTime,
    CeaseContact,
    CloseCase,
    Command,
    EarlyPlacement,
    Escalate,
    InstallmentPlan,
    OpenDispute,
    Override,
    PackagePlacement,
    Pause,
    PromiseToPay,
    Recall,
    ReceivePayment,
    RecordContactAttempt,
    RecordLegalMilestone,
    ResolveDispute,
    Resume,
    Settlement,
    Waiver,
)
from domain.contact import plan
from domain.errors import DomainError
from domain.events import (
    Actor,
    BalanceWaived,
    BucketChanged,
    CaseOpened,
    ContactAttempted,
    Event,
    FeeCharged,
    InterestCharged,
    Outcome,
    PaymentReceived,
    StatementIssued,
)
from domain.evolve import evolve, fold
from domain.localtime import local_date, zone
from domain.policy import STAGES, ContactPolicy, Policy
from domain.simulation import CaseRun
from domain.state import CaseState
from tests.domain.casework import OutcomeOf, drive, wake
from tests.domain.conftest import make_row, open_case

D = Decimal
CENT = D("0.01")
BANK = "Asia/Shanghai"
CN_CARD = Policy()
US_REG_F = Policy(
    name="us-reg-f",
    contact=ContactPolicy(
        window_end=time(21, 0),
        max_calls_per_7_days=7,
        quiet_days_after_conversation=7,
        third_party_calls_per_contact_total=1,
    ),
)
ZONES = (
    "Asia/Shanghai",
    "America/New_York",
    "America/Los_Angeles",
    "Europe/London",
    "Asia/Kolkata",  # +05:30
    "Asia/Kathmandu",  # +05:45
    "Australia/Lord_Howe",  # a 30-minute daylight saving shift
    "Pacific/Kiritimati",  # +14
    "Pacific/Pago_Pago",  # -11
)
# Every outcome the vocabulary has, so a new one is drawn here too.
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)
_EVENTS: TypeAdapter[Event] = TypeAdapter(Event)


def differences(rebuilt: CaseState, decided: CaseState) -> list[str]:
    """The fields in which two states differ, with both values, for a readable failure."""
    left, right = asdict(rebuilt), asdict(decided)
    return [f"{k}: {left[k]!r} != {right[k]!r}" for k in left if left[k] != right[k]]


def bank_at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone(BANK))


def cents(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda n: D(n) / 100)


def is_cents(amount: Decimal) -> bool:
    return amount == amount.quantize(CENT)


# --- accounts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    row: dict[str, Any]
    opened: date


@st.composite
def accounts(
    draw: st.DrawFn, *, zones: tuple[str, ...] = ("Asia/Shanghai",), days_missed: int = 400
) -> Account:
    principal = draw(cents(0, 6_000_000))
    interest = draw(cents(0, 100_000))
    fees = draw(cents(0, 50_000))
    total = principal + interest + fees
    if total == 0:
        principal = total = D("100.00")
    opened = date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 365)))
    missed = opened - timedelta(days=draw(st.integers(1, days_missed)))
    minimum = draw(st.integers(1, int(total * 100)).map(lambda n: D(n) / 100))
    row = {
        "principal": f"{principal:.2f}",
        "interest": f"{interest:.2f}",
        "fees": f"{fees:.2f}",
        "credit_limit": f"{draw(cents(100_000, 6_000_000)):.2f}",
        "statement_day": draw(st.integers(1, 28)),
        "grace_days": draw(st.integers(0, 25)),
        "oldest_unpaid_due_date": missed.isoformat(),
        "unpaid_minimum": f"{minimum:.2f}",
        "timezone": draw(st.sampled_from(zones)),
        "flags": draw(st.sampled_from(["", "cash_out"])),
    }
    return Account(row=row, opened=opened)


# --- inputs from the outside world ----------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """An input at day `day` after opening, `hour:minute` bank time."""

    day: int
    hour: int
    minute: int
    command: Command

    def at(self, opened: date) -> datetime:
        return bank_at(opened + timedelta(days=self.day), self.hour, self.minute)


def _moment() -> st.SearchStrategy[tuple[int, int, int]]:
    return st.tuples(st.integers(0, 200), st.integers(0, 23), st.sampled_from([0, 15, 30, 59]))


@st.composite
def payments(draw: st.DrawFn, largest: int = 8_000_000) -> Step:
    day, hour, minute = draw(_moment())
    reference = f"P-{draw(st.integers(0, 10**9))}"
    amount = draw(st.one_of(cents(1, 50_000), cents(1, 200_000), cents(1, largest)))
    return Step(day, hour, minute, ReceivePayment(reference=reference, amount=amount))


ROLES = st.sampled_from(["collector", "supervisor", "manager", "auditor"])


@st.composite
def overrides(draw: st.DrawFn, opened: date, kinds: tuple[str, ...] | None = None) -> Step:
    day, hour, minute = draw(_moment())
    today = opened + timedelta(days=day)
    actor = Actor(id="a-1", role=draw(ROLES))
    ahead = today + timedelta(days=draw(st.integers(-1, 33)))
    kind = draw(st.sampled_from(kinds or tuple(_OVERRIDE_KINDS)))
    common: dict[str, Any] = {"actor": actor, "reason": "generated"}
    command: Override
    match kind:
        case "promise_to_pay":
            command = PromiseToPay(**common, amount=draw(cents(0, 500_000)), date=ahead)
        case "installment_plan":
            command = InstallmentPlan(
                **common, installments=draw(st.integers(0, 62)), first_due=ahead
            )
        case "waiver":
            command = Waiver(**common, amount=draw(cents(0, 2_000_000)))
        case "settlement":
            command = Settlement(**common, amount=draw(cents(0, 6_000_000)))
        case "pause":
            command = Pause(**common, until=draw(st.none() | st.just(ahead)))
        case "resume":
            command = Resume(**common)
        case "cease_contact":
            command = CeaseContact(**common)
        case "dispute_open":
            command = OpenDispute(**common)
        case "dispute_resolve":
            command = ResolveDispute(**common)
        case "escalate":
            command = Escalate(**common, to_stage=draw(st.sampled_from(STAGES)))
        case "early_placement":
            command = EarlyPlacement(**common)
        case "package_placement":
            command = PackagePlacement(
                **common, rate=draw(st.sampled_from(["0.30", "0.40", "0.55"]))
            )
        case "recall":
            command = Recall(**common)
        case "legal_milestone":
            command = RecordLegalMilestone(
                **common,
                milestone=draw(
                    st.sampled_from(["lawyer_letter_sent", "suit_filed", "judgment", "closed"])
                ),
            )
        case _:
            command = CloseCase(**common)
    return Step(day, hour, minute, command)


_OVERRIDE_KINDS = (
    "promise_to_pay",
    "installment_plan",
    "waiver",
    "settlement",
    "pause",
    "resume",
    "cease_contact",
    "dispute_open",
    "dispute_resolve",
    "escalate",
    "early_placement",
    "package_placement",
    "recall",
    "legal_milestone",
    "close",
)
_HOLDS = ("promise_to_pay", "installment_plan", "pause", "resume", "cease_contact")
_HOLDS += ("dispute_open", "dispute_resolve", "escalate")


_WEIGHTS = {"no_answer": 30, "delivered": 20, "busy": 5, "left_message": 5}
_WEIGHTS |= {"right_party_contact": 5, "third_party_contact": 3, "dispute": 1}


def random_outcomes(rng: random.Random) -> OutcomeOf:
    """Mostly unanswered calls and delivered messages; now and then anything, a dispute
    included (about one attempt in a hundred)."""
    weights = [_WEIGHTS.get(o, 2) for o in OUTCOMES]
    return lambda _planned: rng.choices(OUTCOMES, weights)[0]


def run_history(
    account: Account,
    steps: list[Step],
    *,
    policy: Policy = CN_CARD,
    days: int = 200,
    outcome_of: OutcomeOf | None = None,
    contacts: bool = True,
) -> tuple[CaseRun, int]:
    """Open the case, feed the steps in time order, and let time run to the horizon
    (making the contact attempts the plan calls for, when `contacts`). Returns the run
    and the number of events the opening decided."""
    run = open_case(make_row(**account.row), at=bank_at(account.opened, 0), policy=policy)
    opening = len(run.events)
    horizon = bank_at(account.opened + timedelta(days=days), 0)
    for step in sorted(steps, key=lambda s: (s.day, s.hour, s.minute)):
        at = step.at(account.opened)
        if run.state.closed:
            break
        if contacts:
            drive(run, at, outcome_of)
        with contextlib.suppress(DomainError):  # refused by a rule: nothing was recorded
            run.apply(step.command, at)
    if not run.state.closed:
        if contacts:
            drive(run, horizon, outcome_of)
        else:
            run.apply(AdvanceTime(), max(horizon, run.state.as_of or horizon))
    return run, opening


# --- 1. money -------------------------------------------------------------------------------


@st.composite
def money_histories(draw: st.DrawFn) -> tuple[Account, list[Step]]:
    account = draw(accounts())
    steps = draw(st.lists(payments(), max_size=8))
    steps += draw(st.lists(overrides(account.opened, ("waiver", "settlement")), max_size=3))
    return account, steps


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(money_histories())
def test_money_never_loses_a_cent(history: tuple[Account, list[Step]]) -> None:
    account, steps = history
    run, _ = run_history(account, steps, contacts=False)
    events = run.events
    [opened] = [e for e in events if isinstance(e, CaseOpened)]
    opening = opened.principal + opened.interest + opened.fees
    interest = sum((e.amount for e in events if isinstance(e, InterestCharged)), D(0))
    fees = sum((e.amount for e in events if isinstance(e, FeeCharged)), D(0))
    waived = sum(
        (
            e.from_fees + e.from_interest + e.from_principal
            for e in events
            if isinstance(e, BalanceWaived)
        ),
        D(0),
    )
    paid = [e for e in events if isinstance(e, PaymentReceived)]
    applied = sum((p.to_fees + p.to_interest + p.to_principal for p in paid), D(0))

    assert applied + run.state.total == opening + interest + fees - waived
    for p in paid:  # every payment is accounted for to the cent, overpayment included
        assert p.to_fees + p.to_interest + p.to_principal + p.unapplied == p.amount
        assert min(p.to_fees, p.to_interest, p.to_principal, p.unapplied) >= 0
    state = run.state
    for amount in (state.principal, state.interest, state.fees, interest, fees, waived):
        assert amount >= 0 and is_cents(amount)
    assert all(d.amount > 0 and is_cents(d.amount) for d in state.dues)


# --- 2. the bucket --------------------------------------------------------------------------


def bucket_number(label: str) -> int:
    return int(label.removeprefix("M").removesuffix("+"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(money_histories())
def test_the_bucket_rises_only_when_a_statement_date_passes(
    history: tuple[Account, list[Step]],
) -> None:
    account, steps = history
    run, opening = run_history(account, steps, days=300, contacts=False)
    events = run.events
    for i, event in enumerate(events):
        if not isinstance(event, BucketChanged) or i < opening:
            continue  # the opening sets the bucket the placement row calls for
        new, old = bucket_number(event.bucket), bucket_number(event.previous)
        same_moment = [e for e in events[:i] if e.at == event.at]
        if new > old:
            statements = [e for e in same_moment if isinstance(e, StatementIssued)]
            assert statements, (
                f"{event.previous} -> {event.bucket} at {event.at} without a statement"
            )
            assert statements[-1].statement_date == local_date(event.at, BANK)
            assert new == old + 1
        else:
            assert any(isinstance(e, PaymentReceived) for e in same_moment), (
                f"{event.previous} -> {event.bucket} at {event.at} without a payment"
            )


# --- 3. fold ----------------------------------------------------------------------------------


@st.composite
def rich_histories(draw: st.DrawFn) -> tuple[Account, list[Step], int]:
    account = draw(accounts(zones=ZONES, days_missed=60))
    account = Account(
        row={
            **account.row,
            "home_phone": draw(st.sampled_from([None, "01088888888"])),
            "home_address": draw(st.sampled_from([None, "1 Home Road"])),
            "work_address": draw(st.sampled_from([None, "2 Office Street"])),
            "contacts": draw(st.sampled_from(["", "A:friend:+8613800000011"])),
        },
        opened=account.opened,
    )
    steps = draw(st.lists(payments(largest=500_000), max_size=4))
    steps += draw(st.lists(overrides(account.opened), max_size=6))
    resolve = ResolveDispute(actor=Actor(id="s-1", role="supervisor"), reason="verified")
    steps += [Step(day, 10, 0, resolve) for day in range(20, 200, 20)]
    return account, steps, draw(st.integers(0, 2**32))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rich_histories(), st.data())
def test_folding_the_events_rebuilds_the_deciders_state(
    history: tuple[Account, list[Step], int], data: st.DataObject
) -> None:
    account, steps, seed = history
    outcome_of = random_outcomes(random.Random(seed))
    run, _ = run_history(account, steps, days=150, outcome_of=outcome_of)
    events = run.events
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert differences(fold(events), run.state) == []
    # through JSON, as the event store keeps them
    stored = [_EVENTS.validate_json(_EVENTS.dump_json(e)) for e in events]
    assert stored == events
    assert differences(fold(stored), run.state) == []
    # from a snapshot taken anywhere
    cut = data.draw(st.integers(0, len(events)), label="snapshot after event")
    assert differences(fold(events[cut:], fold(events[:cut])), run.state) == []
    # and the timeline runs forward in time
    stamps = [e.at for e in events]
    assert stamps == sorted(stamps)


@pytest.mark.parametrize("day", [14, 15, 16, 17])
def test_a_case_rebuilt_from_stored_events_equals_the_live_one_across_a_clock_change(
    day: int,
) -> None:
    # A New York debtor called daily at 08:00 local time from 2026-03-05, across the
    # change to daylight-saving time on 2026-03-08: 08:00 EST and 08:00 EDT a week apart
    # are 7 days minus an hour apart. The event store gives the times back with fixed
    # offsets; the state rebuilt from them must equal the live one (the contact memory
    # keeps the same calls) and must plan the same next attempts. 21:00 in Shanghai is
    # just after that day's 08:00 call in New York.
    run = open_case(make_row(timezone="America/New_York"), policy=CN_CARD)
    drive(run, bank_at(date(2026, 3, day), 21))
    stored = [_EVENTS.validate_json(_EVENTS.dump_json(e)) for e in run.events]
    rebuilt = fold(stored)
    assert differences(rebuilt, run.state) == []
    assert plan(rebuilt, CN_CARD) == plan(run.state, CN_CARD)


# --- 4. contact window and holds ----------------------------------------------------------------


def in_window_by_hand(moment: datetime, tz: str, policy: Policy) -> bool:
    clock = moment.astimezone(zone(tz)).time()
    return policy.contact.window_start <= clock < policy.contact.window_end


def may_contact(state: CaseState) -> bool:
    return not (state.closed or state.holds or state.promise or state.plan)


@st.composite
def contact_histories(draw: st.DrawFn) -> tuple[Account, list[Step], int, Policy, list[int]]:
    account, steps, seed = draw(rich_histories())
    steps += draw(st.lists(overrides(account.opened, _HOLDS), max_size=6))
    policy = draw(st.sampled_from([CN_CARD, US_REG_F]))
    # wake-up delays in minutes: mostly on time, sometimes late (a worker that was down)
    delays = draw(st.lists(st.sampled_from([0, 0, 0, 0, 45, 600, 840, 1380]), min_size=1))
    return account, steps, seed, policy, delays


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contact_histories())
def test_no_contact_is_planned_or_recorded_outside_the_window_or_during_a_hold(
    history: tuple[Account, list[Step], int, Policy, list[int]],
) -> None:
    account, steps, seed, policy, delays = history
    tz = account.row["timezone"]
    rng = random.Random(seed)
    outcome_of = random_outcomes(rng)
    run = open_case(make_row(**account.row), at=bank_at(account.opened, 0), policy=policy)
    horizon = bank_at(account.opened + timedelta(days=150), 0)
    inputs = sorted(steps, key=lambda s: (s.day, s.hour, s.minute))
    clock: datetime | None = None
    for n in range(3000):
        if run.state.closed:
            break
        for planned in plan(run.state, policy, clock):
            assert in_window_by_hand(planned.planned_at, tz, policy), planned
        moment = next_wakeup(run.state, policy, clock)
        late = moment + timedelta(minutes=delays[n % len(delays)]) if moment else None
        if inputs and (late is None or inputs[0].at(account.opened) <= late):
            step = inputs.pop(0)
            now = max(step.at(account.opened), run.state.as_of or horizon)
            if now > horizon:
                break
            with contextlib.suppress(DomainError):
                run.apply(step.command, now)
            # someone also reports an attempt of their own at that moment: the guard
            # accepts it only inside the window and with no hold
            rogue = RecordContactAttempt(
                channel="sms", target="debtor", outcome="delivered", planned_at=now
            )
            before = run.state
            try:
                run.apply(rogue, now)
            except DomainError:
                assert not may_contact(before) or not in_window_by_hand(now, tz, policy)
            clock = now
            continue
        if late is None or late > horizon:
            break
        wake(run, late, outcome_of)
        clock = late

    state = CaseState()
    for event in run.events:
        if isinstance(event, ContactAttempted):
            assert in_window_by_hand(event.at, tz, policy), (event.at, tz)
            assert may_contact(state), (event, state.holds, state.promise, state.plan)
        state = evolve(state, event)
