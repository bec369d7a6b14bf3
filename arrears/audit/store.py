"""The event store of one case as the audit reads it: every query in one REPEATABLE READ
transaction, so the events, their chain and the read models are one moment's state
(the read models are written in the same transaction as the events they come from, so
in one snapshot they must agree exactly).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

import asyncpg
from pydantic import ValidationError

from arrears.audit.findings import Finding
from arrears.store.events import chain_problems, event_from_payload
from domain.events import Event

#: Money read models: table, the event type that writes a row, the amount's field.
_MONEY = (
    ("payments", "payment_received", "amount"),
    ("commissions", "commission_earned", "amount"),
)


@dataclass(frozen=True)
class StoreSnapshot:
    """`events`: seq -> event (None: its payload is no longer a valid event)."""

    events: dict[int, Event | None]
    chain: list[Finding]
    attempts: set[int]
    money: dict[str, dict[int, Decimal]]


def _event(payload: dict[str, object]) -> Event | None:
    try:
        return event_from_payload(payload)
    except ValidationError:
        return None


async def read_snapshot(pool: asyncpg.Pool, case_id: str) -> StoreSnapshot:
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        rows = await conn.fetch(
            "SELECT seq, payload, prev_hash, hash FROM case_events WHERE case_id = $1 ORDER BY seq",
            case_id,
        )
        attempts = await conn.fetch("SELECT seq FROM contact_attempts WHERE case_id = $1", case_id)
        money = {
            table: {
                r["seq"]: Decimal(r["amount"])
                for r in await conn.fetch(
                    f"SELECT seq, {column} AS amount FROM {table} WHERE case_id = $1", case_id
                )
            }
            for table, _, column in _MONEY
        }
    chain = [
        Finding(kind="chain", seq=p.seq, detail=f"event store: event {p.seq} {p.problem}")
        for p in chain_problems(case_id, rows)
    ]
    return StoreSnapshot(
        events={r["seq"]: _event(r["payload"]) for r in rows},
        chain=chain,
        attempts={r["seq"] for r in attempts},
        money=money,
    )


def read_model_findings(reference: Mapping[int, Event], snapshot: StoreSnapshot) -> list[Finding]:
    """The read models against the stored events (in the version the history decided,
    `reference`): a row for every event that writes one, and no other."""
    findings: list[Finding] = []
    expected = {seq for seq, e in reference.items() if e.type == "contact_attempted"}
    for seq in sorted(expected - snapshot.attempts):
        findings.append(
            Finding(
                kind="read_model",
                seq=seq,
                detail=f"contact attempt {seq} is missing from contact_attempts",
            )
        )
    for seq in sorted(snapshot.attempts - expected):
        findings.append(
            Finding(
                kind="read_model",
                seq=seq,
                detail=f"contact_attempts row {seq} has no stored contact event",
            )
        )
    for table, kind, field_name in _MONEY:
        rows = snapshot.money[table]
        wanted = {s: getattr(e, field_name) for s, e in reference.items() if e.type == kind}
        for seq in sorted(wanted.keys() | rows.keys()):
            if wanted.get(seq) != rows.get(seq):
                findings.append(
                    Finding(
                        kind="read_model",
                        seq=seq,
                        detail=f"{table} row {seq}: history says {wanted.get(seq)}, "
                        f"table says {rows.get(seq)}",
                    )
                )
    return findings
