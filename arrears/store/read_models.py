"""The read models: tables the commands query, written from the events in the same
transaction as the events themselves (`EventStore.append`), so a reader never sees an
event without its projection or the other way round.

`CaseSummary` travels inside the `append_events` activity's request (`AppendEvents`), so
it is part of recorded workflow histories: its fields (names and JSON forms) must not
change, or the golden histories in tests/histories/ no longer replay.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel

from arrears.store.db import Conn
from arrears.store.worklist_model import project_worklist
from domain.events import Event


class CaseSummary(BaseModel):
    """The case row of the read model, from the workflow's state (= the fold of events)."""

    account_id: str
    policy: str
    stage: str
    bucket: str
    dpd: int
    principal: Decimal
    interest: Decimal
    fees: Decimal
    agency: str | None
    hand: str | None
    holds: list[str]
    charged_off: bool
    outcome: str | None
    opened_at: datetime
    as_of: datetime
    #: Added with champion / challenger: a summary recorded before reads as champion, so
    #: the golden histories replay unchanged.
    arm: str = "champion"


async def project_event(conn: Conn, case_id: str, event: Event) -> None:
    """The per-event read models (contact attempts, placements, commissions, overrides,
    payments, and the case's worklist row: `worklist_model`); `ON CONFLICT DO NOTHING`
    keeps them idempotent like the events.

    Long on purpose: it is a table, one event type and its one statement a row, read
    (and checked against the migrations) best side by side."""
    match event.type:
        case "contact_attempted":
            await conn.execute(
                "INSERT INTO contact_attempts (case_id, seq, channel, target, line, contact_index,"
                " outcome, planned_at, attempted_at, collector_ids, recording_ref, provider_ref)"
                " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) ON CONFLICT DO NOTHING",
                case_id, event.seq, event.channel, event.target, event.line, event.contact_index,
                event.outcome, event.planned_at, event.at, list(event.collector_ids),
                event.recording_ref, event.provider_ref,
            )  # fmt: skip
        case "placed":
            await conn.execute(
                "INSERT INTO placements (case_id, seq, agency, hand, commission_rate, placed_at,"
                " term_ends) VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING",
                case_id, event.seq, event.agency, event.hand, event.commission_rate, event.at,
                event.term_ends,
            )  # fmt: skip
        case "recalled":
            await conn.execute(
                "UPDATE placements SET recalled_at = $2, recall_reason = $3 WHERE case_id = $1"
                " AND seq = (SELECT max(seq) FROM placements WHERE case_id = $1)",
                case_id, event.at, event.reason,
            )  # fmt: skip
        case "commission_earned":
            await conn.execute(
                "INSERT INTO commissions (case_id, seq, agency, hand, rate, payment_reference,"
                " amount, earned_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT DO NOTHING",
                case_id, event.seq, event.agency, event.hand, event.rate, event.payment_reference,
                event.amount, event.at,
            )  # fmt: skip
        case "override_applied" | "override_rejected":
            applied = event.type == "override_applied"
            await conn.execute(
                "INSERT INTO overrides (case_id, seq, kind, actor_id, role, reason, args, applied,"
                " message, at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT DO NOTHING",
                case_id, event.seq, event.override, event.actor.id, event.actor.role,
                event.reason, getattr(event, "args", {}), applied,
                getattr(event, "message", None), event.at,
            )  # fmt: skip
        case "payment_received":
            # Its stage and agency are the case's when it came in (case_worklist is
            # projected from the earlier events already): recovery by stage and agency.
            await conn.execute(
                "INSERT INTO payments (case_id, seq, reference, amount, to_fees, to_interest,"
                " to_principal, unapplied, paid_on, stage, agency)"
                " SELECT $1,$2,$3,$4,$5,$6,$7,$8,$9, w.stage, w.agency"
                " FROM (SELECT) one LEFT JOIN case_worklist w ON w.case_id = $1"
                " ON CONFLICT DO NOTHING",
                case_id, event.seq, event.reference, event.amount, event.to_fees,
                event.to_interest, event.to_principal, event.unapplied, event.paid_on,
            )  # fmt: skip
        case _:
            pass
    await project_worklist(conn, case_id, event)


async def project_case(conn: Conn, case_id: str, s: CaseSummary, last_seq: int) -> None:
    """The case's one row, replaced only by a summary of later events (`last_seq`), so a
    retried append of older events never moves the row back; and its standing as of the
    summary's business time appended to `case_snapshots` (migration 0011), the history
    the reports of past periods read (the `cases` row only knows the present)."""
    await conn.execute(
        """INSERT INTO case_snapshots (case_id, last_seq, as_of, policy, stage, bucket, dpd,
               principal, interest, fees, charged_off, outcome)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) ON CONFLICT DO NOTHING""",
        case_id, last_seq, s.as_of, s.policy, s.stage, s.bucket, s.dpd, s.principal,
        s.interest, s.fees, s.charged_off, s.outcome,
    )  # fmt: skip
    await conn.execute(
        """INSERT INTO cases (case_id, account_id, policy, stage, bucket, dpd, principal, interest,
               fees, balance, agency, hand, holds, charged_off, outcome, last_seq, opened_at,
               updated_at, arm)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19)
           ON CONFLICT (case_id) DO UPDATE SET policy = $3, stage = $4, bucket = $5, dpd = $6,
               principal = $7, interest = $8, fees = $9, balance = $10, agency = $11,
               hand = $12, holds = $13, charged_off = $14, outcome = $15, last_seq = $16,
               updated_at = $18, arm = $19
           WHERE cases.last_seq < $16""",
        case_id, s.account_id, s.policy, s.stage, s.bucket, s.dpd, s.principal, s.interest,
        s.fees, s.principal + s.interest + s.fees, s.agency, s.hand, s.holds, s.charged_off,
        s.outcome, last_seq, s.opened_at, s.as_of, s.arm,
    )  # fmt: skip
