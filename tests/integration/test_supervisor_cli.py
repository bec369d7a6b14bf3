"""The supervisors' commands as real processes against a real stack: `arrears override`,
`arrears payments` and `arrears status`, with `arrears up` and `arrears worker` running.

One stack serves the whole module. Cases are started directly through the client on a
business clock that starts at 10:00 bank time on 2026-03-02 and runs at 24x real time:
after the contact attempt made when a case opens, nothing is due before 08:00 the next
business day (about 55 minutes away), so the business date stays 2026-03-02 and a case
changes only when a test changes it. Every override kind gets a case of its own.

`--actor` must name an active user whose role covers `--role`: the module adds one user
per role (`<role>-7`, as `given_by` names them) before any test runs.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from arrears.intake.csv_forms import placement_row
from arrears.people.users import add_user, disable_user
from domain.commands import Override
from domain.intake import open_case
from domain.localtime import zone
from domain.policy import Policy
from tests.integration.conftest import Stack
from tests.support import free_port, wait_until
from workflows.case import CaseWorkflow
from workflows.case_io import (
    BusinessClock,
    CaseInput,
    OverrideRequest,
    OverrideResult,
    PaymentSignal,
)

pytestmark = pytest.mark.integration

ORIGIN = datetime(2026, 3, 2, 10, 0, tzinfo=zone("Asia/Shanghai"))
DAY_SECONDS = 3600.0  # one business day per real hour: the business date holds still
DEBTOR_NAME = "Zhang Sanfeng"
MOBILE = "+8613912345678"
OVERRIDE = TypeAdapter[Any](Override)
RUN = str(uuid.uuid4().int)[:8]  # account ids of this module's run (the stack is fresh)
ROLES = ("collector", "supervisor", "manager", "auditor")
PASSWORD = "a password nobody types here"


# --- the stack, its users and its cases -----------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
async def users(stack: Stack) -> None:
    """One active user per role, `<role>-7`: the actors `given_by` names."""
    async with stack.pool.acquire() as conn:
        for role in ROLES:
            await add_user(conn, f"{role}-7", role, None, PASSWORD, datetime.now(ORIGIN.tzinfo))


def account(name: str) -> str:
    return f"S{RUN}-{name}"[:32]


async def start_case(stack: Stack, name: str, **row: Any) -> str:
    """Start a case (an M0 account of 10,150.00 unless `row` says otherwise) and wait until
    it has opened and made the contact attempts due at opening."""
    placement = placement_row(
        {
            "account_id": account(name),
            "debtor_name": DEBTOR_NAME,
            "mobile": MOBILE,
            "credit_limit": "20000.00",
            "principal": "10000.00",
            "interest": "100.00",
            "fees": "50.00",
            "statement_day": 5,
            "oldest_unpaid_due_date": "2026-02-25",
            "unpaid_minimum": "1000.00",
            **row,
        }
    )
    case_input = CaseInput(
        case_id=placement.case_id,
        policy=Policy(),
        clock=BusinessClock(origin=ORIGIN, day_seconds=DAY_SECONDS),
        open=open_case(placement),
    )
    await stack.client.start_workflow(
        CaseWorkflow.run, case_input, id=placement.case_id, task_queue=stack.task_queue
    )
    await wait_until(lambda: settled(stack, placement.case_id), f"{placement.case_id} to open")
    return placement.case_id


async def settled(stack: Stack, case_id: str) -> bool:
    """Opened, nothing due for the next business hour, and the event store caught up."""
    view = await stack.view(case_id)
    at = view.next_action.at
    if not view.state.opened or (at is not None and at < view.business_now + timedelta(hours=1)):
        return False
    stored = await stack.pool.fetchval("SELECT last_seq FROM cases WHERE case_id = $1", case_id)
    return bool(stored == view.state.seq)


async def override(stack: Stack, case_id: str, kind: str, role: str, **args: Any) -> None:
    """An override given through the client (to set a case up for the one under test)."""
    command = OVERRIDE.validate_python(
        {"kind": kind, "actor": {"id": f"{role}-0", "role": role}, "reason": "setup", **args}
    )
    await stack.client.get_workflow_handle(case_id).execute_update(
        "override", OverrideRequest(override=command), result_type=OverrideResult
    )


# --- every override kind: accepted from a role that may give it, refused from one that may not


@dataclass(frozen=True)
class Kind:
    action: str
    args: tuple[str, ...]
    allowed: str
    refused: str
    rule: str  # the rule that refuses it
    events: tuple[str, ...]  # what accepting it causes, after `override_applied`
    row: tuple[tuple[str, Any], ...] = ()
    setup: tuple[tuple[str, str, tuple[tuple[str, Any], ...]], ...] = ()  # (kind, role, args)


KINDS = {
    "promise_to_pay": Kind(
        "promise-to-pay", ("--amount", "500.00", "--date", "2026-03-20"),
        "collector", "auditor", "authority", ("promise_made",),
    ),
    "installment_plan": Kind(
        "installment-plan", ("--installments", "12", "--first-due", "2026-03-20"),
        "supervisor", "collector", "authority", ("plan_agreed",),
    ),
    "waiver": Kind(
        "waiver", ("--amount", "100.00"), "supervisor", "collector", "waiver_limit",
        ("balance_waived",),
    ),
    "settlement": Kind(
        "settlement", ("--amount", "9000.00"), "manager", "collector", "waiver_limit",
        ("balance_waived",),
    ),
    "pause": Kind(
        "pause", ("--until", "2026-03-10"), "supervisor", "collector", "authority",
        ("hold_started",),
    ),
    "resume": Kind(
        "resume", (), "supervisor", "collector", "authority", ("hold_ended",),
        setup=(("pause", "supervisor", ()),),
    ),
    "cease_contact": Kind(
        "cease-contact", (), "collector", "auditor", "authority", ("hold_started",)
    ),
    "dispute_open": Kind(
        "dispute_open", (), "collector", "auditor", "authority", ("hold_started",)
    ),
    "dispute_resolve": Kind(
        "dispute-resolve", (), "supervisor", "collector", "authority", ("hold_ended",),
        setup=(("dispute_open", "collector", ()),),
    ),
    "escalate": Kind(
        "escalate", ("--to-stage", "letter"), "supervisor", "collector", "authority",
        ("stage_changed",),
    ),
    "early_placement": Kind(
        "early-placement", (), "supervisor", "collector", "authority",
        ("stage_changed", "placed"), row=(("flags", "suspected_fraud"),),
    ),
    "package_placement": Kind(
        "package-placement", ("--rate", "0.40", "--agency", "agency-c"), "supervisor",
        "collector", "authority", ("stage_changed", "placed"),
    ),
    "recall": Kind(
        "recall", (), "supervisor", "collector", "authority", ("recalled",),
        setup=(("package_placement", "supervisor", (("rate", "0.40"),)),),
    ),
    "legal_milestone": Kind(
        "legal-milestone", ("--milestone", "lawyer_letter_sent"), "manager", "collector",
        "authority", ("legal_milestone",), row=(("oldest_unpaid_due_date", "2025-11-25"),),
        setup=(("escalate", "supervisor", (("to_stage", "legal"),)),),
    ),
    "close": Kind(
        "close", ("--outcome", "written_off"), "manager", "supervisor", "authority",
        ("case_closed",),
    ),
}  # fmt: skip


@pytest.fixture(scope="module")
async def kind_cases(stack: Stack) -> dict[str, str]:
    """One case per override kind, each set up so that its override can be accepted."""

    async def prepare(kind: str, spec: Kind) -> str:
        case_id = await start_case(stack, kind.replace("_", "-"), **dict(spec.row))
        for setup_kind, role, args in spec.setup:
            await override(stack, case_id, setup_kind, role, **dict(args))
        await wait_until(lambda: settled(stack, case_id), f"{case_id} to settle after setup")
        return case_id

    ids = await asyncio.gather(*(prepare(kind, spec) for kind, spec in KINDS.items()))
    return dict(zip(KINDS, ids, strict=True))


def given_by(role: str) -> tuple[str, ...]:
    return ("--actor", f"{role}-7", "--role", role, "--reason", "asked on the phone")


@pytest.mark.parametrize("kind", list(KINDS))
async def test_each_override_is_refused_from_a_role_that_may_not_give_it_and_accepted_from_one_that_may(  # noqa: E501
    stack: Stack, kind_cases: dict[str, str], kind: str
) -> None:
    spec, case_id = KINDS[kind], kind_cases[kind]
    before = await stack.state(case_id)

    code, out, err = await stack.arrears(
        "override", case_id, spec.action, *spec.args, *given_by(spec.refused)
    )

    assert code == 1, (out, err)
    assert err.strip().splitlines() == [err.strip()], err
    assert err.startswith(f"arrears: rejected: {spec.rule}: "), err
    assert spec.refused in err
    assert out == ""
    assert await stack.state(case_id) == before  # a refusal changes nothing

    code, out, err = await stack.arrears(
        "override", account(kind.replace("_", "-")), spec.action, *spec.args,
        *given_by(spec.allowed),
    )  # fmt: skip

    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[0] == f"{case_id}: {kind} applied"
    events = [line.split()[:2] for line in lines[1:]]
    assert events[0] == [str(before.seq + 1), "override_applied"]
    assert [e[1] for e in events[1:]][: len(spec.events)] == list(spec.events)
    assert [int(e[0]) for e in events] == list(range(before.seq + 1, before.seq + 1 + len(events)))
    assert f"actor={spec.allowed}-7 ({spec.allowed})" in lines[1]
    assert "asked on the phone" not in out  # the free-text reason is not echoed
    # What the override caused is in the case (a new stage may also bring a contact attempt).
    assert (await stack.state(case_id)).seq >= before.seq + len(events)


# --- refusals change nothing, unknown cases, bad arguments, no server -----------------------


def comparable(status: dict[str, Any]) -> dict[str, Any]:
    """A case's status without the moment it was asked."""
    return {k: v for k, v in status.items() if k != "business_now"}


async def test_a_refused_override_leaves_the_case_status_exactly_as_it_was(stack: Stack) -> None:
    case_id = await start_case(stack, "refused")
    code, out, err = await stack.arrears("status", case_id, "--json")
    assert code == 0, err
    before = json.loads(out)

    refusals = [
        ("waiver", "--amount", "5000.00", *given_by("supervisor")),  # over the 20 % limit
        ("close", *given_by("supervisor")),  # a manager's decision
        ("resume", *given_by("manager")),  # not paused
        ("promise-to-pay", "--amount", "50.00", "--date", "2026-05-20", *given_by("collector")),
    ]
    rules = []
    for args in refusals:
        code, out, err = await stack.arrears("override", case_id, *args)
        assert code == 1, (args, out, err)
        rules.append(err.removeprefix("arrears: rejected: ").split(":")[0])
    code, out, err = await stack.arrears("status", case_id, "--json")

    assert rules == ["waiver_limit", "authority", "hold_inactive", "promise_date"]
    assert code == 0, err
    assert comparable(json.loads(out)) == comparable(before)
    assert (
        await stack.pool.fetchval("SELECT count(*) FROM overrides WHERE case_id = $1", case_id) == 0
    )


async def test_an_override_to_a_closed_case_is_refused_naming_its_outcome(stack: Stack) -> None:
    case_id = await start_case(stack, "closed")
    await override(stack, case_id, "close", "manager", outcome="closed")
    await stack.client.get_workflow_handle(case_id).result()

    code, out, err = await stack.arrears("override", case_id, "cease-contact", *given_by("manager"))

    assert code == 1, out
    assert err.strip() == "arrears: rejected: case_open: the case is closed (outcome=closed)"
    code, out, err = await stack.arrears("status", case_id, "--json")
    assert code == 0, err
    assert (json.loads(out)["workflow"], json.loads(out)["outcome"]) == ("completed", "closed")


async def test_an_unknown_case_is_exit_code_1_with_no_such_case(stack: Stack) -> None:
    missing = account("never-imported")

    override_run = await stack.arrears("override", missing, "resume", *given_by("supervisor"))
    status_run = await stack.arrears("status", f"case-{missing}")

    for code, out, err in (override_run, status_run):
        assert code == 1, (out, err)
        assert err.strip() == f"arrears: no such case: case-{missing}"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ("waiver", "--amount", "10.005"),
            "arrears: --amount: amount '10.005' has more than 2 decimal places",
            id="amount-below-a-cent",
        ),
        pytest.param(
            ("promise-to-pay", "--amount", "10.00", "--date", "2026-02-30"),
            "arrears: --date: '2026-02-30' is not a date (YYYY-MM-DD)",
            id="impossible-date",
        ),
        pytest.param(
            ("promise-to-pay", "--amount", "10.00", "--date", "20/05/2026"),
            "arrears: --date: '20/05/2026' is not a date (YYYY-MM-DD)",
            id="date-not-iso",
        ),
        pytest.param(("forgive",), "arrears: unknown action 'forgive': use one of", id="action"),
        pytest.param(
            ("recall", "--role", "boss"),
            "arrears: --role: input should be 'collector', 'supervisor', 'manager' or 'auditor'",
            id="role",
        ),
        pytest.param(
            ("escalate", "--to-stage", "court"),
            "arrears: --to-stage: input should be 'reminder', 'phone', 'letter'",
            id="stage",
        ),
        pytest.param(
            ("escalate",), "arrears: escalate needs --to-stage: escalate --to-stage", id="missing"
        ),
        pytest.param(
            ("resume", "--amount", "1.00"), "arrears: --amount does not apply to resume", id="stray"
        ),
        pytest.param(
            ("settlement", "--amount", "-5.00"),
            "arrears: --amount: '-5.00' is not more than zero",
            id="negative-amount",
        ),
        pytest.param(
            ("package-placement", "--rate", "forty"),
            "arrears: --rate: 'forty' is not a number",
            id="rate",
        ),
        pytest.param(
            ("cease-contact", "--id", "x" * 129),
            "arrears: --id: must be 1 to 128 characters",
            id="request-id",
        ),
    ],
)
async def test_a_malformed_override_is_one_line_and_exit_code_2(
    stack: Stack, args: tuple[str, ...], message: str
) -> None:
    # Defaults first: a parametrized role replaces the default one (the last option wins).
    code, out, err = await stack.arrears(
        "override", account("any"), args[0], *given_by("supervisor"), *args[1:]
    )

    assert code == 2, (out, err)
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith(message), err


async def test_a_case_that_is_not_an_account_id_is_exit_code_2(stack: Stack) -> None:
    for command in (("override", "no such id!", "resume", *given_by("manager")), ("status", "x")):
        code, _, err = await stack.arrears(*command)
        assert code == 2, err
        assert err.startswith("arrears: CASE is neither an account id nor a case id"), err


# --- the actor is a user: unknown, disabled or over-claimed actors send nothing -------------


async def updates_in_history(stack: Stack, case_id: str) -> int:
    handle = stack.client.get_workflow_handle(case_id)
    accepted = [
        event.HasField("workflow_execution_update_accepted_event_attributes")
        async for event in handle.fetch_history_events()
    ]
    return sum(accepted)


async def test_an_override_or_retry_by_someone_who_is_not_an_active_user_is_exit_2_and_not_sent(
    stack: Stack,
) -> None:
    case_id = await start_case(stack, "actors")
    async with stack.pool.acquire() as conn:
        await add_user(conn, "s-left", "supervisor", None, PASSWORD, datetime.now(ORIGIN.tzinfo))
        await disable_user(conn, "s-left", datetime.now(ORIGIN.tzinfo))
    before, updates = await stack.state(case_id), await updates_in_history(stack, case_id)
    attempts = {  # the reason given, and who claims which role
        "'nobody-9' is not a user": ("nobody-9", "collector"),
        "'s-left' is disabled": ("s-left", "supervisor"),
        "above collector-7's role (collector)": ("collector-7", "supervisor"),
        "above supervisor-7's role (supervisor)": ("supervisor-7", "manager"),
        "above manager-7's role (manager)": ("manager-7", "auditor"),
    }
    for message, (actor, role) in attempts.items():
        who = ("--actor", actor, "--role", role, "--reason", "asked on the phone")
        for command in (
            ("override", case_id, "cease-contact", *who),
            ("retry-append", case_id, *who),
        ):
            code, out, err = await stack.arrears(*command)
            assert code == 2, (command, out, err)
            assert out == "" and len(err.strip().splitlines()) == 1, err
            assert message in err, err

    assert await stack.state(case_id) == before
    assert await updates_in_history(stack, case_id) == updates


async def test_a_manager_may_act_in_a_role_below_their_own(stack: Stack) -> None:
    case_id = await start_case(stack, "lower-role")
    code, out, err = await stack.arrears(
        "override", case_id, "cease-contact", "--actor", "manager-7", "--role", "collector",
        "--reason", "written request",
    )  # fmt: skip
    assert code == 0, err
    assert "actor=manager-7 (collector)" in out


async def test_without_temporal_every_supervisor_command_is_exit_code_3(
    stack: Stack, tmp_path: Path
) -> None:
    feed = tmp_path / "payments.csv"
    feed.write_text(f"account_id,amount,date,reference\n{account('x1')},1.00,2026-03-02,R\n")
    down = {"ARREARS_TEMPORAL_PORT": str(free_port())}

    runs = await asyncio.gather(
        stack.arrears("override", account("x1"), "resume", *given_by("manager"), **down),
        stack.arrears("status", **down),
        stack.arrears("status", account("x1"), **down),
        stack.arrears("payments", str(feed), **down),
    )

    for code, out, err in runs:
        assert code == 3, (out, err)
        assert len(err.strip().splitlines()) == 1 and "is unreachable" in err, err


async def test_a_case_that_no_worker_serves_is_exit_code_3_and_nothing_is_sent(
    stack: Stack,
) -> None:
    placement_id = f"case-{account('unserved')}"
    handle = await stack.client.start_workflow(
        "Case",
        CaseInput(case_id=placement_id, policy=Policy()),
        id=placement_id,
        task_queue=f"nobody-polls-{uuid.uuid4().hex[:6]}",
    )
    try:
        override_run = await stack.arrears(
            "override", placement_id, "cease-contact", *given_by("collector")
        )
        status_run = await stack.arrears("status", placement_id)
    finally:
        await handle.terminate("test over")

    for code, out, err in (override_run, status_run):
        assert code == 3, (out, err)
        assert err.startswith("arrears: no worker polls task queue 'nobody-polls-"), err
    assert "nothing was sent" in override_run[2]
    history = [event async for event in handle.fetch_history_events()]
    assert not any(event.HasField("workflow_execution_update_accepted_event_attributes")
                   for event in history)  # fmt: skip


# --- payments ---------------------------------------------------------------------------------


async def test_a_payments_file_posts_good_rows_once_and_reports_unknown_accounts_and_bad_amounts(
    stack: Stack, tmp_path: Path
) -> None:
    case_id = await start_case(stack, "payer")
    before = await stack.state(case_id)
    reference = f"PAY-{uuid.uuid4().hex[:8]}"
    feed = tmp_path / "payments.csv"
    feed.write_text(
        "account_id,amount,date,reference\n"
        f"{account('payer')},300.00,2026-03-02,{reference}\n"
        f"{account('payer')},300.00,2026-03-02,{reference}\n"
        f"{account('nobody')},25.00,2026-03-02,PAY-X\n"
        f"{account('payer')},12.345,2026-03-02,PAY-Y\n",
        encoding="utf-8",
    )

    code, out, err = await stack.arrears("payments", str(feed))

    assert code == 1, err
    assert out.strip().splitlines() == [
        f"line 4: unknown_account: account {account('nobody')}: no such case",
        "line 5: rejected: amount: has a fraction of a cent (amounts are whole cents)",
        '{"posted": 2, "unknown_account": 1, "rejected": 1, "to_ended_cases": 0}',
    ]

    async def paid() -> bool:
        return reference in (await stack.state(case_id)).payment_references

    await wait_until(paid, "the payment to be applied")
    after = await stack.state(case_id)
    assert after.payment_references == (reference,)  # the repeated reference was ignored
    assert before.total - after.total == 300
    await wait_until(lambda: settled(stack, case_id), "the event store to catch up")
    assert (
        await stack.pool.fetchval("SELECT count(*) FROM payments WHERE case_id = $1", case_id) == 1
    )


async def stored_payments(stack: Stack, case_id: str) -> dict[str, tuple[Decimal, Decimal]]:
    rows = await stack.pool.fetch(
        "SELECT reference, amount, unapplied FROM payments WHERE case_id = $1", case_id
    )
    return {r["reference"]: (r["amount"], r["unapplied"]) for r in rows}


async def test_a_curing_payment_and_another_in_the_same_file_are_both_recorded_to_the_cent(
    stack: Stack, tmp_path: Path
) -> None:
    case_id = await start_case(stack, "cure-and-more")
    due = (await stack.state(case_id)).minimum_due_total
    feed = tmp_path / "payments.csv"
    feed.write_text(
        "account_id,amount,date,reference\n"
        f"{account('cure-and-more')},{due},2026-03-02,CURE-1\n"
        f"{account('cure-and-more')},10.00,2026-03-02,MORE-1\n",
        encoding="utf-8",
    )

    code, out, err = await stack.arrears("payments", str(feed))

    assert code == 0, out + err
    assert (await stack.client.get_workflow_handle(case_id).result())["outcome"] == "cured"

    async def both() -> bool:
        return len(await stored_payments(stack, case_id)) == 2

    await wait_until(both, "both payments in the payments table")
    stored = await stored_payments(stack, case_id)
    assert stored["CURE-1"][0] == due and stored["MORE-1"] == (Decimal("10.00"), Decimal("10.00"))


async def test_a_payment_to_an_ended_case_is_recorded_on_it_as_unapplied_credit_once(
    stack: Stack, tmp_path: Path
) -> None:
    case_id = await start_case(stack, "ended-payer")
    await override(stack, case_id, "close", "manager", outcome="closed")
    await stack.client.get_workflow_handle(case_id).result()
    feed = tmp_path / "late.csv"
    feed.write_text(
        f"account_id,amount,date,reference\n{account('ended-payer')},42.10,2026-03-09,LATE-1\n",
        encoding="utf-8",
    )

    for _ in range(2):  # the same file twice: recorded once
        code, out, err = await stack.arrears("payments", str(feed))
        assert code == 0, out + err
        *notes, summary = out.strip().splitlines()
        assert notes == [
            f"line 2: to_ended_case: account {account('ended-payer')}: the case has ended "
            "(closed); the payment is recorded on it as unapplied credit"
        ]
        assert json.loads(summary) == {
            "posted": 1, "unknown_account": 0, "rejected": 0, "to_ended_cases": 1
        }  # fmt: skip
        await stack.client.get_workflow_handle(case_id).result()  # the after-close run

    assert await stored_payments(stack, case_id) == {"LATE-1": (Decimal("42.10"),) * 2}
    code, out, err = await stack.arrears("status", case_id, "--json")
    assert code == 0, err
    assert (json.loads(out)["outcome"], json.loads(out)["unapplied_credit"]) == ("closed", "42.10")
    code, out, err = await stack.arrears("audit", case_id, "--format", "jsonl")
    assert code == 0, out + err


async def test_an_override_sent_twice_with_one_id_is_applied_once(stack: Stack) -> None:
    case_id = await start_case(stack, "twice")
    request_id = f"ovr-{uuid.uuid4().hex}"
    sent = ("waiver", "--amount", "1.00", *given_by("supervisor"), "--id", request_id)

    first = await stack.arrears("override", case_id, *sent)
    second = await stack.arrears("override", case_id, *sent)

    assert first[0] == second[0] == 0, first[2] + second[2]
    assert second[1] == first[1]  # the same events, answered again
    waivers = await stack.pool.fetchval(
        "SELECT count(*) FROM overrides WHERE case_id = $1 AND kind = 'waiver'", case_id
    )
    assert waivers == 1


async def test_a_payments_file_of_only_good_rows_is_exit_code_0(
    stack: Stack, tmp_path: Path
) -> None:
    case_id = await start_case(stack, "jsonl-payer")
    feed = tmp_path / "payments.jsonl"
    rows = [
        {"account_id": account("jsonl-payer"), "amount": "10.00", "date": "2026-03-02",
         "reference": f"J-{n}-{uuid.uuid4().hex[:6]}"}
        for n in range(2)
    ]  # fmt: skip
    feed.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")

    code, out, err = await stack.arrears("payments", str(feed))

    assert code == 0, err
    assert out.strip() == '{"posted": 2, "unknown_account": 0, "rejected": 0, "to_ended_cases": 0}'

    async def both_paid() -> bool:
        return len((await stack.state(case_id)).payment_references) == 2

    await wait_until(both_paid, "both payments to be applied")


# --- status -----------------------------------------------------------------------------------


async def test_status_of_a_case_shows_stage_balance_next_action_and_last_contacts(
    stack: Stack,
) -> None:
    case_id = await start_case(stack, "status", oldest_unpaid_due_date="2026-01-25")
    await override(stack, case_id, "promise_to_pay", "collector", amount="400.00",
                   date="2026-03-12")  # fmt: skip
    await wait_until(lambda: settled(stack, case_id), "the promise to be stored")
    attempts = await stack.pool.fetch(
        "SELECT seq, channel, outcome FROM contact_attempts WHERE case_id = $1 ORDER BY seq",
        case_id,
    )

    code, out, err = await stack.arrears("status", account("status"), "--json")
    table_code, table, _ = await stack.arrears("status", case_id)

    assert code == 0 and table_code == 0, err
    status = json.loads(out)
    view = await stack.view(case_id)
    assert status["case_id"] == case_id and status["workflow"] == "running"
    assert (status["stage"], status["bucket"]) == ("phone", "M1")
    assert status["dpd"] == 36
    assert status["balance"] == {
        "principal": "10000.00", "interest": "100.00", "fees": "50.00", "total": "10150.00"
    }  # fmt: skip
    assert status["placement"] is None and status["holds"] == []
    assert status["promise"]["amount"] == "400.00" and status["promise"]["due"] == "2026-03-12"
    assert status["plan"] is None
    assert status["next_action"]["what"] == view.next_action.what
    assert view.next_action.at is not None
    assert status["next_action"]["at"] == view.next_action.at.astimezone(ORIGIN.tzinfo).isoformat()
    assert [c["seq"] for c in status["contact_attempts"]] == [a["seq"] for a in attempts][::-1][:5]
    assert status["contact_attempts"][0]["channel"] == attempts[-1]["channel"]
    assert [(o["kind"], o["actor"], o["role"], o["applied"]) for o in status["overrides"]] == [
        ("promise_to_pay", "collector-0", "collector", True)
    ]
    for shown in ("phone", "M1", "10150.00", "400.00 by 2026-03-12", "Last 5 contact attempts",
                  "Last 5 overrides", "collector-0"):  # fmt: skip
        assert shown in table, table
    for personal in (DEBTOR_NAME, MOBILE, MOBILE[3:]):
        assert personal not in out and personal not in table


async def test_status_without_a_case_counts_the_same_book_in_temporal_and_postgresql(
    stack: Stack,
) -> None:
    await start_case(stack, "book-m3", oldest_unpaid_due_date="2025-11-25")
    ids = [
        w.id
        async for w in stack.client.list_workflows(
            'WorkflowType = "Case" AND ExecutionStatus = "Running"'
        )
    ]
    views = await asyncio.gather(*(stack.view(case_id) for case_id in ids))
    by_stage: dict[str, int] = {}
    for view in views:
        by_stage[view.state.stage] = by_stage.get(view.state.stage, 0) + 1
    shown: dict[str, Any] = {}

    async def consistent() -> bool:
        code, out, err = await stack.arrears("status", "--json")
        assert code == 0, err
        shown.update(json.loads(out))
        return bool(shown["consistent"])

    await wait_until(consistent, "Temporal's and PostgreSQL's counts to agree", timeout=60)

    open_book = shown["open"]
    assert open_book["total"] == {"temporal": len(ids), "postgres": len(ids)}
    assert {s: row["temporal"] for s, row in open_book["by_stage"].items() if row["temporal"]} == (
        by_stage
    )
    assert sum(row["postgres"] for row in open_book["by_bucket"].values()) == len(ids)
    assert open_book["by_bucket"]["M3"]["temporal"] >= 1
    code, table, err = await stack.arrears("status")
    assert code == 0, err
    for title in ("Open cases by stage", "Open cases by bucket", "Closed cases by outcome"):
        assert title in table


# --- a case stopped on an event store conflict ---------------------------------------------


async def test_a_case_stopped_on_a_store_conflict_shows_it_and_a_supervisor_restarts_it(
    stack: Stack,
) -> None:
    case_id = await start_case(stack, "conflict")
    seq = (await stack.state(case_id)).seq + 1
    # Someone else's row under the case's next seq: the store and the history now disagree.
    stray = {"seq": seq, "type": "hold_ended", "kind": "pause", "at": "2026-03-02T02:00:00Z"}
    await stack.pool.execute(
        "INSERT INTO case_events (case_id, seq, type, at, payload, prev_hash, hash)"
        " VALUES ($1, $2, 'hold_ended', now(), $3, 'x', 'y')",
        case_id, seq, stray,
    )  # fmt: skip
    handle = stack.client.get_workflow_handle(case_id)
    await handle.signal("payment", PaymentSignal(reference="P-C1", amount=Decimal("10.00")))

    async def stopped() -> bool:
        return (await stack.view(case_id)).conflict is not None

    await wait_until(stopped, "the case to stop on the conflict")
    code, out, err = await stack.arrears("status", case_id, "--json")
    assert code == 0, err
    assert json.loads(out)["conflict"]["seqs"][0] == seq
    code, out, err = await stack.arrears("status", "--json")
    assert code == 0, err
    assert json.loads(out)["stopped_on_conflict"] >= 1
    code, out, err = await stack.arrears("override", case_id, "cease-contact", *given_by("manager"))
    assert code == 1 and "store_conflict" in err, out + err
    code, out, err = await stack.arrears("retry-append", case_id, *given_by("collector"))
    assert code == 1 and "retry_authority" in err, out + err

    async with stack.pool.acquire() as conn, conn.transaction():  # the row looked at, removed
        await conn.execute("ALTER TABLE case_events DISABLE TRIGGER USER")
        await conn.execute("DELETE FROM case_events WHERE case_id = $1 AND seq = $2", case_id, seq)
        await conn.execute("ALTER TABLE case_events ENABLE TRIGGER USER")
    code, out, err = await stack.arrears("retry-append", case_id, *given_by("supervisor"))
    assert code == 0, out + err

    async def resumed() -> bool:
        view = await stack.view(case_id)
        return view.conflict is None and "P-C1" in view.state.payment_references

    await wait_until(resumed, "the case to resume")
    await wait_until(lambda: settled(stack, case_id), "the event store to catch up")
    assert (
        await stack.pool.fetchval(
            "SELECT count(*) FROM payments WHERE case_id = $1 AND reference = 'P-C1'", case_id
        )
        == 1
    )


async def test_a_retry_append_with_a_role_that_does_not_exist_is_one_line_and_exit_code_2(
    stack: Stack,
) -> None:
    code, out, err = await stack.arrears(
        "retry-append", account("any"), "--actor", "s-1", "--role", "boss", "--reason", "x"
    )

    assert code == 2, (out, err)
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("arrears: --role:"), err
