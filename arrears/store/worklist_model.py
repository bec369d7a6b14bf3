"""The worklist read model (`case_worklist`, migration 0009): per case, the facts the
console's worklists and Book select on that the `cases` row does not hold (the open
promise, the running plan, the last breach of either, dispute and cease-contact holds,
the last right-party contact, the current placement, when the case opened and ended).

Written from each event in the append's transaction (`project_event` calls it), one
statement per event that changes it, so a worklist is exactly as current as the events.
The migration's backfill computes the same columns from `case_events` in SQL; the tests
compare the two on the same book.
"""

from __future__ import annotations

from typing import Any

from arrears.store.db import Conn
from domain.contact import is_right_party
from domain.events import Event

#: A new promise or plan takes a case off the broken-promise and missed-installment lists.
_AGREED = "promise_broken_at = NULL, promise_broken_amount = NULL, plan_missed_at = NULL," \
    " plan_missed_number = NULL"  # fmt: skip
_NO_PLAN = "plan_installments = NULL, plan_installment_amount = NULL, plan_first_due = NULL," \
    " plan_installments_paid = NULL, plan_next_due = NULL"  # fmt: skip


def _change(event: Event) -> tuple[str, tuple[Any, ...]] | None:
    """The SET clause (parameters from $2) this event makes, or None: one row a type,
    read side by side with the migration's columns."""
    match event.type:
        case "stage_changed":
            return "stage = $2", (event.stage,)
        case "promise_made":
            return f"promise_amount = $2, promise_due = $3, {_AGREED}", (event.amount, event.due)
        case "promise_kept":
            return "promise_amount = NULL, promise_due = NULL", ()
        case "promise_broken":
            return (
                "promise_amount = NULL, promise_due = NULL, promise_broken_at = $2,"
                " promise_broken_amount = $3",
                (event.at, event.amount),
            )
        case "plan_agreed":
            return (
                "plan_installments = $2, plan_installment_amount = $3, plan_first_due = $4,"
                f" plan_installments_paid = 0, plan_next_due = $4, {_AGREED}",
                (event.installments, event.installment_amount, event.first_due),
            )
        case "installment_paid":
            # The next due is first_due + paid months, clipped to the month's end like
            # domain.billing.add_months (PostgreSQL's month arithmetic clips the same way).
            return (
                "plan_installments_paid = $2,"
                " plan_next_due = (plan_first_due + make_interval(months => $2))::date",
                (event.number,),
            )
        case "plan_broken":
            return f"{_NO_PLAN}, plan_missed_at = $2, plan_missed_number = $3", (
                event.at,
                event.number,
            )
        case "plan_completed":
            return _NO_PLAN, ()
        case "hold_started" | "hold_ended" if event.kind in ("dispute", "cease_contact"):
            column = "dispute_open" if event.kind == "dispute" else "cease_contact"
            return f"{column} = $2", (event.type == "hold_started",)
        case "contact_attempted" if event.target == "debtor" and is_right_party(event.outcome):
            return "last_rpc_at = $2", (event.at,)
        case "placed":
            return "agency = $2, term_ends = $3", (event.agency, event.term_ends)
        case "recalled":
            return "agency = NULL, term_ends = NULL", ()
        case "legal_referred":
            return "legal_referred_at = $2", (event.at,)
        case "case_closed":
            return "closed_at = $2, outcome = $3", (event.at, event.outcome)
        case "arm_changed":  # the profile the case follows now (its legal threshold)
            return "policy = $2", (event.policy,)
        case _:
            return None


async def project_worklist(conn: Conn, case_id: str, event: Event) -> None:
    if event.type == "case_opened":
        await conn.execute(
            "INSERT INTO case_worklist (case_id, policy, opened_at) VALUES ($1, $2, $3)"
            " ON CONFLICT DO NOTHING",
            case_id, event.policy, event.at,
        )  # fmt: skip
        return
    change = _change(event)
    if change is not None:
        clause, args = change
        await conn.execute(f"UPDATE case_worklist SET {clause} WHERE case_id = $1", case_id, *args)
