"""`arrears status [CASE]`: one case as a supervisor sees it, or the book in numbers.

With a case: the workflow's `state` query (stage, balance, placement, holds, promise or
plan, the next planned action), its search attributes (bucket and DPD as the worklists
see them) and the last five contact attempts from the `contact_attempts` read model.

Without: the book in numbers, Temporal beside PostgreSQL (`arrears.cases.book_status`).
Nothing printed is personal data: ids, amounts, dates, and the policy's vocabulary.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg
from rich.console import Console, Group
from rich.table import Table
from temporalio.client import Client, WorkflowQueryFailedError

from arrears.cases.book_status import book_status, render_book
from arrears.cases.client import (
    RPC_TIMEOUT,
    latest_episode,
    require_worker,
    resolve_case_id,
    temporal_errors,
)
from arrears.errors import ArrearsError
from arrears.policies import load_policy
from arrears.settings import Settings
from arrears.store.db import create_pool
from arrears.store.override_log import OverrideFilter, override_log
from domain.delinquency import bucket_label
from domain.localtime import zone
from domain.policy import Policy
from domain.state import CaseState
from workflows.case_io import CaseView
from workflows.case_views import BUCKET, DPD

LAST_CONTACTS = 5
LAST_OVERRIDES = 5


# --- one case -----------------------------------------------------------------------------


def _money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _time(at: datetime | None, tz: str) -> str | None:
    return at.astimezone(zone(tz)).isoformat() if at is not None else None


def case_json(
    view: CaseView,
    attributes: dict[str, Any],
    workflow_status: str,
    contacts: list[dict[str, Any]],
    bank_tz: str,
    overrides: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Everything `status CASE` shows, as JSON-ready values (amounts as strings)."""
    s: CaseState = view.state
    return {
        "case_id": view.case_id,
        "account_id": s.account.account_id if s.account else None,
        "workflow": workflow_status,
        "policy": s.policy,
        "arm": s.arm,
        "business_now": _time(view.business_now, bank_tz),
        "stage": s.stage,
        "stage_entered_at": _time(s.stage_entered_at, bank_tz),
        "bucket": attributes.get("bucket") or f"M{s.bucket}",
        "dpd": attributes["dpd"] if attributes.get("dpd") is not None else s.dpd,
        "charged_off": s.charged_off,
        "outcome": s.outcome,
        "balance": {
            "principal": _money(s.principal),
            "interest": _money(s.interest),
            "fees": _money(s.fees),
            "total": _money(s.total),
        },
        "placement": _placement_json(s, bank_tz),
        "holds": list(s.holds),
        "pause_until": _time(s.pause_until, bank_tz),
        **_arrangements_json(s, bank_tz),
        "unapplied_credit": _money(s.unapplied_credit),
        "conflict": None
        if view.conflict is None
        else {
            "since": _time(view.conflict.at, bank_tz),
            "seqs": view.conflict.seqs,
            "message": view.conflict.message,
        },
        "next_action": {
            "at": _time(view.next_action.at, bank_tz),
            "what": view.next_action.what,
        },
        "last_event_seq": s.seq,
        "contact_attempts": contacts,
        "overrides": overrides or [],
    }


def _placement_json(s: CaseState, bank_tz: str) -> dict[str, Any] | None:
    if s.placement is None:
        return None
    return {
        "agency": s.placement.agency,
        "hand": s.placement.hand,
        "rate": str(s.placement.rate),
        "placed_at": _time(s.placement.placed_at, bank_tz),
        "term_ends": _time(s.placement.term_ends, bank_tz),
    }


def _arrangements_json(s: CaseState, bank_tz: str) -> dict[str, Any]:
    """The promise, the installment plan and the settlement the debtor agreed to, if any."""
    return {
        "promise": None
        if s.promise is None
        else {
            "amount": _money(s.promise.amount),
            "due": s.promise.due.isoformat(),
            "paid": _money(s.promise.paid),
            "contact_paused_until": _time(s.promise.pause_until, bank_tz),
        },
        "plan": None
        if s.plan is None
        else {
            "installments": s.plan.installments,
            "installment_amount": _money(s.plan.installment_amount),
            "first_due": s.plan.first_due.isoformat(),
            "installments_paid": s.plan.installments_paid,
            "paid": _money(s.plan.paid),
        },
        "settlement": _money(s.settlement) if s.settlement is not None else None,
    }


async def _last_contacts(pool: asyncpg.Pool, case_id: str, bank_tz: str) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT seq, attempted_at, channel, target, line, outcome FROM contact_attempts"
        " WHERE case_id = $1 ORDER BY seq DESC LIMIT $2",
        case_id,
        LAST_CONTACTS,
    )
    return [
        {
            "seq": r["seq"],
            "at": _time(r["attempted_at"], bank_tz),
            "channel": r["channel"],
            "target": r["target"],
            "line": r["line"],
            "outcome": r["outcome"],
        }
        for r in rows
    ]


async def _last_overrides(pool: asyncpg.Pool, case_id: str, bank_tz: str) -> list[dict[str, Any]]:
    """Who steered the case lately: each override's kind, actor, role and result (the
    reason is free text, and stays on the case page and the Audit page)."""
    async with pool.acquire() as conn:
        page = await override_log(conn, OverrideFilter(case_id=case_id), limit=LAST_OVERRIDES)
    return [
        {"seq": o.seq, "at": _time(o.at, bank_tz), "kind": o.kind, "actor": o.actor_id,
         "role": o.role, "applied": o.applied, "message": o.message}
        for o in page.rows
    ]  # fmt: skip


@dataclass(frozen=True)
class CaseReading:
    """What a case says about itself right now: the workflow's `state` query, its search
    attributes (bucket and DPD as the worklists see them) and its workflow status. Read
    by `arrears status CASE` and by the console's case page, so both show the same."""

    view: CaseView
    attributes: dict[str, Any]
    workflow_status: str


async def read_case(client: Client, case_id: str, policy: Policy) -> CaseReading:
    """The case as its workflow has it; `NoSuchCase` (exit 1) or `ServiceUnavailable`
    (exit 3: no server, or no worker to answer the query) otherwise."""
    handle = client.get_workflow_handle(case_id)
    with temporal_errors(case_id):
        description = await handle.describe(rpc_timeout=RPC_TIMEOUT)
    await require_worker(client, description.task_queue, "a case's state is read from a worker")
    with temporal_errors(case_id):
        try:
            view: CaseView = await handle.query(
                "state", result_type=CaseView, rpc_timeout=RPC_TIMEOUT
            )
        except WorkflowQueryFailedError as err:
            raise ArrearsError(f"the case {case_id} could not answer: {err}") from None
    found = description.typed_search_attributes
    attributes = {"bucket": found.get(BUCKET), "dpd": found.get(DPD)}
    if attributes["bucket"] is None:
        attributes["bucket"] = bucket_label(view.state.bucket, policy.delinquency.top_bucket)
    status = description.status.name.lower() if description.status else "unknown"
    return CaseReading(view=view, attributes=attributes, workflow_status=status)


async def case_status(
    client: Client, pool: asyncpg.Pool, case_id: str, policy: Policy
) -> dict[str, Any]:
    reading = await read_case(client, case_id, policy)
    tz = policy.cycle.bank_timezone
    contacts = await _last_contacts(pool, case_id, tz)
    overrides = await _last_overrides(pool, case_id, tz)
    return case_json(
        reading.view, reading.attributes, reading.workflow_status, contacts, tz, overrides
    )


def render_case(data: dict[str, Any]) -> Group:
    summary = Table(title=f"{data['case_id']} ({data['workflow']})", show_header=False)
    summary.add_column("what", style="bold")
    summary.add_column("value")
    rows = [*_standing_rows(data), *_arrangement_rows(data)]
    if conflict := data["conflict"]:
        rows.append(
            (
                "STOPPED",
                f"event store conflict since {conflict['since']} (events {conflict['seqs']}): "
                "waits for a supervisor (`arrears retry-append`)",
            )
        )
    rows.append(("next action", f"{data['next_action']['what']} at {data['next_action']['at']}"))
    for what, value in rows:
        summary.add_row(what, value)
    return Group(
        summary, _contacts_table(data["contact_attempts"]), _overrides_table(data["overrides"])
    )


def _standing_rows(data: dict[str, Any]) -> list[tuple[str, str]]:
    """Where the case stands: stage, bucket, balance, outcome, placement and holds."""
    balance = data["balance"]
    rows: list[tuple[str, str]] = [
        ("as of (business)", data["business_now"] or "-"),
        ("policy / arm", f"{data['policy']} / {data['arm']}"),
        ("stage", f"{data['stage']} (since {data['stage_entered_at'] or '-'})"),
        ("bucket / DPD", f"{data['bucket']} / {data['dpd']}"),
        (
            "balance",
            f"{balance['total']} = principal {balance['principal']} + interest "
            f"{balance['interest']} + fees {balance['fees']}",
        ),
    ]
    if data["outcome"]:
        rows.append(("outcome", data["outcome"]))
    if data["charged_off"]:
        rows.append(("charged off", "yes"))
    placement = data["placement"]
    rows.append(
        (
            "placement",
            f"{placement['agency']}, {placement['hand']} hand, rate {placement['rate']}, "
            f"term ends {placement['term_ends']}"
            if placement
            else "-",
        )
    )
    holds = ", ".join(data["holds"]) or "-"
    if data["pause_until"]:
        holds += f" (pause until {data['pause_until']})"
    rows.append(("holds", holds))
    return rows


def _arrangement_rows(data: dict[str, Any]) -> list[tuple[str, str]]:
    """What the debtor agreed to (promise, plan, settlement) and credit not applied yet."""
    rows: list[tuple[str, str]] = []
    promise, plan = data["promise"], data["plan"]
    if promise:
        rows.append(("promise", f"{promise['amount']} by {promise['due']}, paid {promise['paid']}"))
    if plan:
        rows.append(
            (
                "plan",
                f"{plan['installments']} x {plan['installment_amount']} from "
                f"{plan['first_due']}, {plan['installments_paid']} paid",
            )
        )
    if data["settlement"]:
        rows.append(("settlement", data["settlement"]))
    if not promise and not plan:
        rows.append(("promise / plan", "-"))
    if data["unapplied_credit"] != "0.00":
        rows.append(("unapplied credit", f"{data['unapplied_credit']} (to refund or apply)"))
    return rows


def _contacts_table(attempts: list[dict[str, Any]]) -> Table:
    contacts = Table(title=f"Last {LAST_CONTACTS} contact attempts")
    for column in ("seq", "at", "channel", "target", "line", "outcome"):
        contacts.add_column(column, justify="right" if column == "seq" else "left")
    for c in attempts:
        contacts.add_row(str(c["seq"]), c["at"], c["channel"], c["target"], c["line"] or "-",
                         c["outcome"])  # fmt: skip
    return contacts


def _overrides_table(overrides: list[dict[str, Any]]) -> Table:
    table = Table(title=f"Last {LAST_OVERRIDES} overrides")
    for column in ("seq", "at", "kind", "actor", "role", "result"):
        table.add_column(column, justify="right" if column == "seq" else "left")
    for o in overrides:
        result = "applied" if o["applied"] else f"rejected: {o['message']}"
        table.add_row(str(o["seq"]), o["at"], o["kind"], o["actor"], o["role"], result)
    return table


# --- the command --------------------------------------------------------------------------


async def _status(
    settings: Settings, given: str | None, case_id: str | None, policy: Policy
) -> dict[str, Any]:
    from arrears.stack.temporal import connect

    client = await connect(settings)
    if given is not None and case_id is not None:
        case_id = await latest_episode(given, case_id, settings.db_url)
    pool = await create_pool(settings.db_url, min_size=1, max_size=2)
    try:
        if case_id is not None:
            return await case_status(client, pool, case_id, policy)
        return await book_status(client, pool, policy)
    finally:
        await pool.close()


def run_status(case: str | None, as_json: bool) -> None:
    """Print one case or the book: rich tables, or one JSON document with `--json`."""
    settings = Settings()
    case_id = resolve_case_id(case) if case is not None else None
    policy = load_policy(settings.policy)
    data = asyncio.run(_status(settings, case, case_id, policy))
    if as_json:
        print(json.dumps(data, ensure_ascii=False), flush=True)
        return
    console = Console()
    console.print(render_case(data) if case_id is not None else render_book(data))
