"""Overrides (POLICY §6): who may give each one, the limits, and refusals that change
nothing and say why.

Most tests use a case opened on 2026-03-10 00:00 bank time, after the statement of
03-05: it is in M1 (stage `phone`) at once and no interest accrues before 04-05, so its
balance is exactly the principal, 10,000.00. "Today" is 2026-03-10 in the bank's zone.
Authority is the default of `domain.policy.AuthorityPolicy`, written out by hand below.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from domain.case import decide
from domain.commands import (
    AdvanceTime,
    CeaseContact,
    CloseCase,
    EarlyPlacement,
    Escalate,
    InstallmentPlan,
    MoveArm,
    OpenDispute,
    Override,
    PackagePlacement,
    Pause,
    PromiseToPay,
    Recall,
    RecordContactAttempt,
    RecordLegalMilestone,
    ResolveDispute,
    Resume,
    Settlement,
    Waiver,
)
from domain.errors import DomainError, OverrideRejected
from domain.events import (
    Actor,
    BalanceWaived,
    Event,
    LegalReferred,
    OverrideApplied,
    PlanAgreed,
    PromiseMade,
)
from domain.events import OverrideRejected as OverrideRejectedEvent
from domain.policy import AuthorityPolicy, Policy, Role
from domain.simulation import CaseRun
from tests.domain.conftest import advance, bank_time, of_type, open_case, send

D = Decimal
POLICY = Policy()
ROLES: tuple[Role, ...] = ("collector", "supervisor", "manager", "auditor")
NOW = bank_time("2026-03-10", 10)  # the bank's 2026-03-10, 10:00


def by(role: Role) -> Actor:
    return Actor(id=f"{role}-7", role=role)


def m1_case(**row: str) -> CaseRun:
    """Opened 2026-03-10: M1, stage `phone`, balance 10,000.00 exactly (see the docstring)."""
    run = open_case(at=bank_time("2026-03-10"), **row)
    assert (run.state.bucket, run.state.stage, run.state.total) == (1, "phone", D("10000.00"))
    return run


def accepted(run: CaseRun, override: Override, now: datetime = NOW) -> list[Event]:
    """The events of an accepted override (its `override_applied` leads them)."""
    events = decide(run.state, override, now, run.policy)
    applied = of_type(events, OverrideApplied)
    assert [(a.override, a.actor) for a in applied] == [(override.kind, override.actor)]
    return events


def refused(run: CaseRun, override: Override, now: datetime = NOW) -> OverrideRejected:
    """The refusal of `override`; checks that the state was left as it was."""
    before = asdict(run.state)
    with pytest.raises(OverrideRejected) as error:
        decide(run.state, override, now, run.policy)
    assert asdict(run.state) == before
    return error.value


# --- who may do what --------------------------------------------------------------------

STAFF = {"collector", "supervisor", "manager"}
APPROVERS = {"supervisor", "manager"}


@dataclass(frozen=True)
class Case:
    """A case in which the override is valid for a role allowed to give it."""

    prepare: Callable[[], CaseRun]
    override: Callable[[Actor], Override]
    allowed: set[str]
    now: datetime = NOW


def _paused() -> CaseRun:
    run = m1_case()
    send(run, Pause(actor=by("supervisor"), reason="hospital"), bank_time("2026-03-10", 9))
    return run


def _disputed() -> CaseRun:
    run = m1_case()
    send(run, OpenDispute(actor=by("collector"), reason="not mine"), bank_time("2026-03-10", 9))
    return run


def _placed_early() -> CaseRun:
    run = m1_case(flags="cash_out")
    send(run, EarlyPlacement(actor=by("supervisor"), reason="cash-out"), bank_time("2026-03-10", 9))
    assert run.state.placement is not None
    return run


def _in_legal() -> CaseRun:
    run = m1_case()
    advance(run, bank_time("2026-05-05", 1))  # M3 at the statement of 05-05
    send(
        run,
        Escalate(actor=by("supervisor"), reason="assets", to_stage="legal"),
        bank_time("2026-05-06", 10),
    )
    assert run.state.stage == "legal"
    return run


CASES: dict[str, Case] = {
    "promise_to_pay": Case(
        m1_case,
        lambda a: PromiseToPay(actor=a, reason="r", amount=D("500.00"), date=date(2026, 3, 15)),
        STAFF,
    ),
    "installment_plan": Case(
        m1_case,
        lambda a: InstallmentPlan(
            actor=a, reason="r", installments=12, first_due=date(2026, 3, 20)
        ),
        APPROVERS,
    ),
    # 10 % of the balance: within a supervisor's 20 %, beyond a collector's 0 %
    "waiver": Case(m1_case, lambda a: Waiver(actor=a, reason="r", amount=D("1000.00")), APPROVERS),
    "settlement": Case(
        m1_case, lambda a: Settlement(actor=a, reason="r", amount=D("9000.00")), APPROVERS
    ),
    "pause": Case(
        m1_case, lambda a: Pause(actor=a, reason="r", until=date(2026, 3, 20)), APPROVERS
    ),
    "resume": Case(_paused, lambda a: Resume(actor=a, reason="r"), APPROVERS),
    "cease_contact": Case(m1_case, lambda a: CeaseContact(actor=a, reason="r"), STAFF),
    "dispute_open": Case(m1_case, lambda a: OpenDispute(actor=a, reason="r"), STAFF),
    "dispute_resolve": Case(_disputed, lambda a: ResolveDispute(actor=a, reason="r"), APPROVERS),
    "escalate": Case(
        m1_case, lambda a: Escalate(actor=a, reason="r", to_stage="letter"), APPROVERS
    ),
    "early_placement": Case(
        lambda: m1_case(flags="cash_out"), lambda a: EarlyPlacement(actor=a, reason="r"), APPROVERS
    ),
    "package_placement": Case(
        m1_case, lambda a: PackagePlacement(actor=a, reason="r", rate=D("0.40")), APPROVERS
    ),
    "recall": Case(_placed_early, lambda a: Recall(actor=a, reason="r"), APPROVERS),
    "legal_milestone": Case(
        _in_legal,
        lambda a: RecordLegalMilestone(actor=a, reason="r", milestone="lawyer_letter_sent"),
        APPROVERS,
        bank_time("2026-05-07", 10),
    ),
    "close": Case(m1_case, lambda a: CloseCase(actor=a, reason="r"), {"manager"}),
    # champion / challenger: the domain takes any arm but the one the case is in (the
    # workflow refuses a case that is in no test: tests/arrears/intake/test_arms.py)
    "move_arm": Case(m1_case, lambda a: MoveArm(actor=a, reason="r", arm="challenger"), APPROVERS),
}


def override_kinds() -> set[str]:
    union = typing.get_args(typing.get_args(Override)[0])
    return {typing.get_args(cls.model_fields["kind"].annotation)[0] for cls in union}


def test_the_role_matrix_covers_every_override() -> None:
    assert set(CASES) == override_kinds()


def test_the_default_waiver_limits_are_zero_twenty_and_fifty_percent() -> None:
    limits = AuthorityPolicy().waiver_limits
    assert limits == {
        "collector": D("0"),
        "supervisor": D("0.20"),
        "manager": D("0.50"),
        "auditor": D("0"),
    }


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", sorted(CASES))
def test_each_override_is_accepted_or_rejected_by_role(kind: str, role: Role) -> None:
    case = CASES[kind]
    run = case.prepare()
    override = case.override(by(role))
    if role in case.allowed:
        accepted(run, override, case.now)
        return
    error = refused(run, override, case.now)
    if kind in ("waiver", "settlement") and role == "collector":
        # a collector may give the override, but may waive 0 % of the balance
        assert error.rule == "waiver_limit"
        assert "collector" in str(error) and "0%" in str(error)
    else:
        assert error.rule == "authority"
        assert f"a {role} may not give `{kind}`" in str(error)


def test_an_auditor_only_reads() -> None:
    refusals = {
        kind: refused(case.prepare(), case.override(by("auditor")), case.now).rule
        for kind, case in CASES.items()
    }
    assert set(refusals.values()) == {"authority"}


# --- waiver limits -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "at_limit", "over"),
    [
        ("supervisor", "2000.00", "2000.01"),  # 20 % of 10,000.00
        ("manager", "5000.00", "5000.01"),  # 50 % of 10,000.00
    ],
)
def test_a_waiver_exactly_at_the_roles_limit_passes_and_one_cent_more_does_not(
    role: Role, at_limit: str, over: str
) -> None:
    run = m1_case()
    events = accepted(run, Waiver(actor=by(role), reason="hardship", amount=D(at_limit)))
    [waived] = of_type(events, BalanceWaived)
    assert waived.from_principal == D(at_limit)
    error = refused(run, Waiver(actor=by(role), reason="hardship", amount=D(over)))
    assert error.rule == "waiver_limit"


def test_a_collector_may_not_waive_a_single_cent() -> None:
    error = refused(m1_case(), Waiver(actor=by("collector"), reason="r", amount=D("0.01")))
    assert error.rule == "waiver_limit"


def test_the_limit_of_an_uneven_balance_is_not_rounded_up() -> None:
    # 20 % of 10,000.01 is 2,000.002: 2,000.00 is within it, 2,000.01 is not
    run = open_case(principal="10000.01", at=bank_time("2026-03-10"))
    accepted(run, Waiver(actor=by("supervisor"), reason="r", amount=D("2000.00")))
    assert refused(run, Waiver(actor=by("supervisor"), reason="r", amount=D("2000.01"))).rule == (
        "waiver_limit"
    )


@pytest.mark.parametrize(
    ("role", "at_limit", "over"),
    [("supervisor", "8000.00", "7999.99"), ("manager", "5000.00", "4999.99")],
)
def test_a_settlement_waives_the_rest_within_the_same_limits(
    role: Role, at_limit: str, over: str
) -> None:
    run = m1_case()
    [waived] = of_type(
        accepted(run, Settlement(actor=by(role), reason="r", amount=D(at_limit))), BalanceWaived
    )
    assert waived.settlement_amount == D(at_limit)
    assert waived.from_principal == D("10000.00") - D(at_limit)
    assert refused(run, Settlement(actor=by(role), reason="r", amount=D(over))).rule == (
        "waiver_limit"
    )


def test_a_waiver_takes_fees_then_interest_then_principal() -> None:
    # opened 03-01: interest 10,000.00 x 0.0005 x 4 days = 20.00 at 03-05; balance 10,020.00
    run = open_case(fees="30.00")
    advance(run, bank_time("2026-03-10", 9))
    assert (run.state.fees, run.state.interest) == (D("30.00"), D("20.00"))
    [waived] = of_type(
        accepted(run, Waiver(actor=by("supervisor"), reason="r", amount=D("100.00"))),
        BalanceWaived,
    )
    assert (waived.from_fees, waived.from_interest, waived.from_principal) == (
        D("30.00"),
        D("20.00"),
        D("50.00"),
    )


@pytest.mark.parametrize(
    ("amount", "rule"),
    [("0.00", "waiver_amount"), ("10000.01", "waiver_amount")],
    ids=["nothing", "more than the balance"],
)
def test_a_waiver_must_be_within_the_balance(amount: str, rule: str) -> None:
    assert (
        refused(m1_case(), Waiver(actor=by("manager"), reason="r", amount=D(amount))).rule == rule
    )


@pytest.mark.parametrize("kind", [Waiver, Settlement, PromiseToPay])
def test_an_override_amount_with_a_fraction_of_a_cent_cannot_even_be_written(kind: type) -> None:
    """POLICY §1: money is whole cents; such an amount is refused when the override is
    built (the CLI's and the update's input), before any rule runs."""
    extra = {"date": date(2026, 3, 15)} if kind is PromiseToPay else {}
    with pytest.raises(ValidationError, match="more than 2 decimal places"):
        kind(actor=by("manager"), reason="r", amount=D("100.005"), **extra)


@pytest.mark.parametrize("amount", ["0.00", "10000.00", "10000.01"])
def test_a_settlement_is_for_less_than_the_balance(amount: str) -> None:
    error = refused(m1_case(), Settlement(actor=by("manager"), reason="r", amount=D(amount)))
    assert error.rule == "settlement_amount"


# --- promises to pay --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("promised", "ok"),
    [
        ("2026-03-09", False),  # yesterday
        ("2026-03-10", False),  # today
        ("2026-03-11", True),  # tomorrow
        ("2026-04-09", True),  # 30 days: 21 left in March + 9 in April
        ("2026-04-10", False),  # 31 days
    ],
)
def test_a_promise_is_dated_from_tomorrow_to_thirty_days_ahead(promised: str, ok: bool) -> None:
    run = m1_case()
    override = PromiseToPay(
        actor=by("collector"), reason="r", amount=D("500.00"), date=date.fromisoformat(promised)
    )
    if ok:
        [made] = of_type(accepted(run, override), PromiseMade)
        assert made.due == date.fromisoformat(promised)
    else:
        error = refused(run, override)
        assert error.rule == "promise_date"
        assert f"date={promised}" in str(error) and "today=2026-03-10" in str(error)


def test_today_is_the_banks_date_not_utcs() -> None:
    # 07:00 in Shanghai on 2026-03-10 is still 2026-03-09 in UTC: a promise for the 10th
    # is for today, not for tomorrow
    run = m1_case()
    early = bank_time("2026-03-10", 7)
    override = PromiseToPay(
        actor=by("collector"), reason="r", amount=D("1.00"), date=date(2026, 3, 10)
    )
    assert refused(run, override, early).rule == "promise_date"


@pytest.mark.parametrize("amount", ["0.00", "10000.01"])
def test_a_promise_is_for_a_positive_part_of_the_balance(amount: str) -> None:
    override = PromiseToPay(
        actor=by("collector"), reason="r", amount=D(amount), date=date(2026, 3, 15)
    )
    assert refused(m1_case(), override).rule == "promise_amount"


# --- installment plans -----------------------------------------------------------------------


@pytest.mark.parametrize(("installments", "ok"), [(0, False), (2, True), (60, True), (61, False)])
def test_a_plan_has_up_to_sixty_installments(installments: int, ok: bool) -> None:
    run = m1_case()
    override = InstallmentPlan(
        actor=by("supervisor"), reason="r", installments=installments, first_due=date(2026, 3, 20)
    )
    if ok:
        [agreed] = of_type(accepted(run, override), PlanAgreed)
        # 10,000.00 / n, rounded up to the cent so that the installments cover the balance
        assert agreed.installment_amount * installments >= D("10000.00")
        assert (agreed.installment_amount - D("0.01")) * installments < D("10000.00")
    else:
        error = refused(run, override)
        assert error.rule == "plan_installments"
        assert f"installments={installments}" in str(error) and "60" in str(error)


# --- escalation and legal referral -------------------------------------------------------------


@pytest.mark.parametrize(
    ("to_stage", "ok"),
    [
        ("reminder", False),
        ("phone", False),
        ("letter", True),
        ("visit", True),
        ("outsourcing", True),
    ],
)
def test_an_escalation_moves_only_forward(to_stage: str, ok: bool) -> None:
    run = m1_case()  # stage `phone`
    override = Escalate.model_validate(
        {"actor": by("supervisor"), "reason": "r", "to_stage": to_stage}
    )
    if ok:
        events = accepted(run, override)
        assert [e.stage for e in events if e.type == "stage_changed"] == [to_stage]
    else:
        error = refused(run, override)
        assert error.rule == "stage_forward"
        assert f"stage=phone, to_stage={to_stage}" in str(error)


@pytest.mark.parametrize(
    ("until", "bucket", "ok"),
    [("2026-03-10", 1, False), ("2026-04-06", 2, False), ("2026-05-06", 3, True)],
)
def test_a_supervisor_refers_to_legal_from_m3_only(until: str, bucket: int, ok: bool) -> None:
    run = m1_case()
    now = bank_time(until, 10)
    advance(run, bank_time(until, 9))
    assert run.state.bucket == bucket
    override = Escalate(actor=by("supervisor"), reason="assets found", to_stage="legal")
    if ok:
        events = accepted(run, override, now)
        assert of_type(events, LegalReferred)
        assert [e.stage for e in events if e.type == "stage_changed"] == ["legal"]
    else:
        error = refused(run, override, now)
        assert error.rule == "legal_referral"
        assert f"bucket=M{bucket}" in str(error) and "from M3" in str(error)


def test_a_collector_may_not_refer_to_legal_even_in_m3() -> None:
    run = m1_case()
    advance(run, bank_time("2026-05-06", 9))
    override = Escalate(actor=by("collector"), reason="r", to_stage="legal")
    assert refused(run, override, bank_time("2026-05-06", 10)).rule == "authority"


# --- a closed case ------------------------------------------------------------------------------


def every_override(actor: Actor) -> list[Override]:
    return [
        PromiseToPay(actor=actor, reason="r", amount=D("1.00"), date=date(2026, 3, 20)),
        InstallmentPlan(actor=actor, reason="r", installments=6, first_due=date(2026, 3, 20)),
        Waiver(actor=actor, reason="r", amount=D("1.00")),
        Settlement(actor=actor, reason="r", amount=D("9000.00")),
        Pause(actor=actor, reason="r"),
        Resume(actor=actor, reason="r"),
        CeaseContact(actor=actor, reason="r"),
        OpenDispute(actor=actor, reason="r"),
        ResolveDispute(actor=actor, reason="r"),
        Escalate(actor=actor, reason="r", to_stage="letter"),
        EarlyPlacement(actor=actor, reason="r"),
        PackagePlacement(actor=actor, reason="r", rate=D("0.40")),
        Recall(actor=actor, reason="r"),
        RecordLegalMilestone(actor=actor, reason="r", milestone="suit_filed"),
        CloseCase(actor=actor, reason="r"),
        MoveArm(actor=actor, reason="r", arm="challenger"),
    ]


def test_every_override_kind_is_tried_on_a_closed_case() -> None:
    assert {o.kind for o in every_override(by("manager"))} == override_kinds()


@pytest.mark.parametrize("override", every_override(by("manager")), ids=lambda o: o.kind)
def test_a_closed_case_rejects_every_override(override: Override) -> None:
    run = m1_case(flags="cash_out")
    send(run, CloseCase(actor=by("manager"), reason="sold"), bank_time("2026-03-10", 9))
    assert run.state.closed
    error = refused(run, override)
    assert error.rule == "case_open"
    assert "closed" in str(error)


def test_a_closed_case_takes_no_contact_and_runs_no_calendar() -> None:
    run = m1_case()
    send(run, CloseCase(actor=by("manager"), reason="sold"), bank_time("2026-03-10", 9))
    with pytest.raises(DomainError):
        decide(
            run.state,
            RecordContactAttempt(
                channel="sms", target="debtor", outcome="delivered", planned_at=NOW
            ),
            NOW,
            run.policy,
        )
    assert decide(run.state, AdvanceTime(), bank_time("2027-03-10"), run.policy) == []


# --- a refusal changes nothing and says why ---------------------------------------------


def test_a_rejected_override_is_recorded_alone_and_changes_nothing_else() -> None:
    run, twin = m1_case(), m1_case()
    over = Waiver(actor=by("supervisor"), reason="hardship", amount=D("2000.01"))
    events = send(run, over, NOW)
    advance(twin, NOW)
    [rejection] = events
    assert isinstance(rejection, OverrideRejectedEvent)
    assert (rejection.override, rejection.actor, rejection.reason, rejection.rule) == (
        "waiver",
        by("supervisor"),
        "hardship",
        "waiver_limit",
    )
    assert replace(run.state, seq=0, as_of=None) == replace(twin.state, seq=0, as_of=None)
    assert run.state.total == D("10000.00")


def test_a_rejection_comes_after_the_calendar_rules_due_before_it() -> None:
    run = open_case()  # 2026-03-01; statement 03-05, due date check 03-26, statement 04-05
    send(
        run,
        PromiseToPay(actor=by("auditor"), reason="r", amount=D("1.00"), date=date(2026, 4, 20)),
        bank_time("2026-04-10", 10),
    )
    stamps = [e.at for e in run.events]
    assert stamps == sorted(stamps)
    assert run.events[-1].type == "override_rejected"
    assert run.state.bucket == 2  # the statements of 03-05 and 04-05 ran first


@pytest.mark.parametrize(
    ("override", "pieces"),
    [
        (
            Waiver(actor=by("supervisor"), reason="r", amount=D("2000.01")),
            [
                "waiver_limit",
                "supervisor",
                "20%",
                "waived=2000.01",
                "balance=10000.00",
                "most=2000.00",
            ],
        ),
        (
            InstallmentPlan(
                actor=by("collector"), reason="r", installments=6, first_due=date(2026, 3, 20)
            ),
            ["authority", "collector", "installment_plan", "allowed=supervisor/manager"],
        ),
        (
            InstallmentPlan(
                actor=by("manager"), reason="r", installments=61, first_due=date(2026, 3, 20)
            ),
            ["plan_installments", "2 to 60", "installments=61"],
        ),
        (
            Escalate(actor=by("supervisor"), reason="r", to_stage="reminder"),
            ["stage_forward", "stage=phone", "to_stage=reminder"],
        ),
        (
            Resume(actor=by("supervisor"), reason="r"),
            ["hold_inactive", "not paused"],
        ),
    ],
    ids=lambda v: v.kind if hasattr(v, "kind") else "",
)
def test_a_refusal_names_the_rule_and_the_values(override: Override, pieces: list[str]) -> None:
    message = str(refused(m1_case(), override))
    for piece in pieces:
        assert piece in message
