"""`simulate`: one account through the policy on a simulated clock (CONTRACTS.md §2).

The case loop is `domain.loop`'s, the one the workflow carries out: wake at
`next_wakeup`, let the calendar rules run, make the contact attempts that are due, feed in
payments and overrides at their times. Here its moves are carried out by direct calls.
Contact outcomes come from the scenario's script, never from the policy.
Scripted overrides arrive at 10:00 and payments at 12:00 bank time on their dates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from domain.case import check_forward
from domain.commands import AdvanceTime, Command, Override, ReceivePayment
from domain.contact import PlannedContact
from domain.cycle import calendar_due
from domain.delinquency import bucket_label, days_past_due, oldest_past_due
from domain.events import Actor, Channel, Event, Outcome
from domain.intake import open_case
from domain.localtime import local_date, start_of_day, utc_at_local, zone
from domain.loop import (
    Input,
    RunCalendar,
    TakeInput,
    attempt_key,
    attempt_made,
    decide_scripted_with_state,
    next_attempt,
    next_move,
)
from domain.money import PositiveMoney
from domain.placement import PlacementRow, case_id_for
from domain.policy import Policy
from domain.state import CaseState

OVERRIDE_TIME = time(10, 0)
PAYMENT_TIME = time(12, 0)
_override_adapter: TypeAdapter[Override] = TypeAdapter(Override)
#: One `AdvanceTime` for every wake-up: it carries no data and is frozen, so sharing it
#: is the same as making a new one each time.
_ADVANCE = AdvanceTime()


class ScriptedPayment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    date: date
    amount: PositiveMoney
    reference: str = Field(min_length=1, max_length=64)


class ScriptedOverride(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    date: date
    type: str
    actor: Actor
    reason: str
    args: dict[str, Any] = Field(default_factory=dict)

    def command(self) -> Override:
        return _override_adapter.validate_python(
            {"kind": self.type, "actor": self.actor, "reason": self.reason, **self.args}
        )


class ContactOutcomes(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    default: Outcome = "no_answer"
    by_channel: dict[Channel, Outcome] = Field(default_factory=dict)

    def for_attempt(self, planned: PlannedContact, attempt_key: str) -> ContactReply:
        return reply(
            self.by_channel.get(planned.channel, self.default), planned, attempt_key, "script"
        )


class ContactReply(NamedTuple):
    """What a provider reports about one attempt (its outcome is an input to the policy).

    A plain tuple: the activity turns it into its validated `ContactResult`, and the
    simulations into a validated `RecordContactAttempt`."""

    outcome: Outcome
    collector_ids: tuple[str, ...] = ()
    recording_ref: str | None = None
    provider_ref: str | None = None


_DIALER = ("dialer",)  # who makes a simulated call
_FIELD_TEAM = ("field-1", "field-2")  # who makes a simulated visit: two, as POLICY §5 asks


def reply(
    outcome: Outcome, planned: PlannedContact, attempt_key: str, provider: str
) -> ContactReply:
    """A simulated provider's reply, carrying what POLICY §5 requires of each attempt: a
    recording reference for every call, two collectors on every field visit."""
    provider_ref = f"{provider}-{attempt_key}"
    if planned.channel == "call":
        return ContactReply(outcome, _DIALER, f"rec-{attempt_key}", provider_ref)
    if planned.channel == "visit":
        return ContactReply(outcome, _FIELD_TEAM, None, provider_ref)
    return ContactReply(outcome, (), None, provider_ref)


ReplyTo = Callable[[PlannedContact, str], ContactReply]

OutcomeMix = Mapping[Channel, tuple[tuple[Outcome, float], ...]]

#: How simulated debtors answer, per channel (shares sum to 1): the simulated providers
#: behind the workflow's activities and the portfolio simulation use the same mix.
DEFAULT_OUTCOME_MIX: OutcomeMix = {
    "sms": (("delivered", 0.95), ("undelivered", 0.05)),
    "call": (
        ("no_answer", 0.50),
        ("busy", 0.10),
        ("left_message", 0.12),
        ("right_party_contact", 0.18),
        ("third_party_contact", 0.06),
        ("wrong_number", 0.02),
        ("refusal", 0.02),
    ),
    "letter": (("delivered", 0.97), ("undelivered", 0.03)),
    "visit": (("visited", 0.4), ("not_found", 0.6)),
}


def pick_outcome(mix: OutcomeMix, channel: Channel, roll: float) -> Outcome:
    """The outcome a uniform `roll` in [0, 1) lands on in the channel's mix."""
    for outcome, share in mix[channel]:
        if roll < share:
            return outcome
        roll -= share
    return mix[channel][-1][0]  # only rounding can leave a remainder


class Scenario(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    account: PlacementRow
    start: date
    horizon_days: int = Field(ge=1, le=3660)
    profile: str = "cn-card"
    payments: list[ScriptedPayment] = Field(default_factory=list)
    overrides: list[ScriptedOverride] = Field(default_factory=list)
    contact_outcomes: ContactOutcomes = ContactOutcomes()


class Final(BaseModel):
    stage: str
    bucket: str
    dpd: int
    balance: dict[str, str]


class Timeline(BaseModel):
    account_id: str
    outcome: Literal["cured", "settled", "closed", "written_off", "open"]
    final: Final
    events: list[dict[str, Any]]


def scripted_inputs(scenario: Scenario, policy: Policy) -> list[Input]:
    bank = policy.cycle.bank_timezone
    inputs = [
        Input(at=utc_at_local(o.date, OVERRIDE_TIME, bank), command=o.command())
        for o in scenario.overrides
    ] + [
        Input(
            at=utc_at_local(p.date, PAYMENT_TIME, bank),
            command=ReceivePayment(reference=p.reference, amount=p.amount),
        )
        for p in scenario.payments
    ]
    return sorted(inputs, key=lambda i: i.at)


class CaseRun:
    """A case and its events, carried through the case loop by direct calls
    (`domain.loop`: the workflow carries out the same moves with activities)."""

    def __init__(self, policy: Policy, case_id: str = "case") -> None:
        self.policy = policy
        self.case_id = case_id
        self.state = CaseState()
        self.events: list[Event] = []

    def apply(self, command: Command, now: datetime) -> list[Event]:
        # The decider's own state is `fold(new, self.state)` by construction: taking it
        # saves evolving every event twice, and keeps the very object whose plan and
        # schedule the decider already worked out (`domain.contact.plan` and
        # `domain.cycle.scheduled` remember their last answer by state identity).
        new, self.state = decide_scripted_with_state(self.state, command, now, self.policy)
        self.events.extend(new)
        return new

    def wake(self, at: datetime, outcome_of: ReplyTo) -> list[Event]:
        """Carry out a wake-up at `at`: its calendar rules, then its contact attempts as
        `next_attempt` names them, each answered by `outcome_of`.

        Most wake-ups are for a contact attempt with no calendar rule due: then the
        `AdvanceTime` decision would emit nothing and return the same state, so it is
        not asked for (its time guard still runs)."""
        if calendar_due(self.state, at, self.policy):
            new = self.apply(_ADVANCE, at)
        else:
            check_forward(self.state, at)
            new = []
        made = 0
        while (planned := next_attempt(self.state, at, made, self.policy)) is not None:
            answer = outcome_of(planned, attempt_key(self.case_id, self.state.seq + 1))
            new += self.apply(attempt_made(planned, *answer), at)
            made += 1
        return new


def drive(
    run: CaseRun,
    inputs: list[Input],
    until: datetime,
    outcome_of: ReplyTo,
    react: Callable[[list[Event]], list[Input]] | None = None,
) -> None:
    """Carry the case through the loop's moves up to `until` (`domain.loop.next_move`,
    with business time standing at the horizon, so every step up to it is due).

    `inputs` is consumed in place (what is left lies after `until`); `react` may add
    inputs in answer to new events (a simulated debtor paying after a statement).
    """
    until = until.astimezone(UTC)  # compared at every step (`domain.localtime`)
    policy = run.policy
    while True:
        move = next_move(run.state, policy, until, inputs, False, until)
        if type(move) is RunCalendar:
            new = run.wake(move.at, outcome_of)
        elif type(move) is TakeInput:
            new = run.apply(inputs.pop(0).command, move.at)
        else:
            return  # the horizon, or the case closed
        if react is not None and (more := react(new)):
            inputs.extend(more)
            inputs.sort(key=lambda i: i.at)


def simulate(scenario: Scenario, policy: Policy) -> Timeline:
    """CONTRACTS §2 `--engine domain`: the scenario's account over its horizon."""
    bank = policy.cycle.bank_timezone
    run = CaseRun(policy, case_id_for(scenario.account.account_id))
    end = horizon(scenario, policy)
    run.apply(open_case(scenario.account), start_of_day(scenario.start, bank))
    drive(run, scripted_inputs(scenario, policy), end, scenario.contact_outcomes.for_attempt)
    return timeline(run.state, run.events, scenario.account.account_id, end, policy)


def horizon(scenario: Scenario, policy: Policy) -> datetime:
    return start_of_day(
        scenario.start + timedelta(days=scenario.horizon_days), policy.cycle.bank_timezone
    )


def timeline(
    state: CaseState, events: Sequence[Event], account_id: str, end: datetime, policy: Policy
) -> Timeline:
    bank = policy.cycle.bank_timezone
    as_of = state.as_of if state.closed and state.as_of else end
    today = local_date(as_of, bank)
    oldest = oldest_past_due(state.dues, today)
    return Timeline(
        account_id=account_id,
        outcome=state.outcome or "open",
        final=Final(
            stage=state.stage,
            bucket=bucket_label(state.bucket, policy.delinquency.top_bucket),
            dpd=days_past_due(oldest, today),
            balance={
                "principal": f"{state.principal:.2f}",
                "interest": f"{state.interest:.2f}",
                "fees": f"{state.fees:.2f}",
                "total": f"{state.total:.2f}",
            },
        ),
        events=[event_json(e, bank) for e in events],
    )


def event_json(event: Event, bank_tz: str) -> dict[str, Any]:
    """An event as the timeline prints it: every time in the bank's zone (the time of
    the event, and those it carries: `planned_at`, `term_ends`, `pause_until`, `until`),
    amounts as strings. The same instant can be written in any zone; printing them all
    in one makes a timeline read, and compare, the same however it was computed."""
    data = event.model_dump(mode="json")
    bank = zone(bank_tz)
    for name, value in event:
        if isinstance(value, datetime):
            data[name] = value.astimezone(bank).isoformat()
    return {"seq": data.pop("seq"), "at": data.pop("at"), "type": data.pop("type"), **data}
