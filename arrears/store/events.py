"""The case event store in PostgreSQL, and its read models.

Every decided event is appended exactly once, idempotent on `(case_id, seq)`: a retried
activity that appends the same events again changes nothing, while a *different* event
under a recorded seq is a conflict (the history and the store disagree) and is refused.
Each row is hash-chained to the previous one of its case, so altering or removing a
stored event breaks every hash after it. The table itself refuses UPDATE and DELETE.
Read models are written in the same transaction as the events they come from.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from pydantic import BaseModel, TypeAdapter
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.events import Event

GENESIS = "0" * 64
Conn = asyncpg.Connection | PoolConnectionProxy  # what `pool.acquire()` hands out
_events: TypeAdapter[Event] = TypeAdapter(Event)


class EventConflict(Exception):
    """The store holds a different event under the same (case_id, seq), or a gap."""


#: The failure type a conflict reaches the workflow as: not retried (retrying cannot make
#: the history and the store agree), so the case stops and asks for a supervisor.
CONFLICT_FAILURE = "EventConflict"


def canonical(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev_hash: str, payload: dict[str, Any]) -> str:
    return hashlib.sha256(f"{prev_hash}\n{canonical(payload)}".encode()).hexdigest()


def payload_of(event: Event) -> dict[str, Any]:
    return event.model_dump(mode="json")


def event_from_payload(payload: dict[str, Any]) -> Event:
    return _events.validate_python(payload)


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


class AppendEvents(BaseModel):
    case_id: str
    events: list[Event]
    summary: CaseSummary


class LoadEvents(BaseModel):
    case_id: str


class StoredEvents(BaseModel):
    events: list[Event]


class Appended(BaseModel):
    appended: int
    already_stored: int
    last_seq: int


@dataclass(frozen=True)
class ChainProblem:
    case_id: str
    seq: int
    problem: str


class EventStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def append(
        self, case_id: str, events: list[Event], summary: CaseSummary | None = None
    ) -> Appended:
        appended = stored = 0
        async with self._pool.acquire() as conn, conn.transaction():
            # One writer per case at a time: the chain needs the previous row's hash.
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", case_id)
            last = await conn.fetchrow(
                "SELECT seq, hash FROM case_events WHERE case_id = $1 ORDER BY seq DESC LIMIT 1",
                case_id,
            )
            last_seq, last_hash = (last["seq"], last["hash"]) if last else (0, GENESIS)
            for event in events:
                payload = payload_of(event)
                if event.seq <= last_seq:
                    await self._check_same(conn, case_id, event.seq, payload)
                    stored += 1
                    continue
                if event.seq != last_seq + 1:
                    raise EventConflict(
                        f"{case_id}: event {event.seq} would leave a gap after {last_seq}"
                    )
                digest = chain_hash(last_hash, payload)
                await conn.execute(
                    "INSERT INTO case_events (case_id, seq, type, at, payload, prev_hash, hash)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    case_id, event.seq, event.type, event.at, payload, last_hash, digest,
                )  # fmt: skip
                await _project(conn, case_id, event)
                last_seq, last_hash = event.seq, digest
                appended += 1
            if summary is not None and appended:
                await _project_case(conn, case_id, summary, last_seq)
        return Appended(appended=appended, already_stored=stored, last_seq=last_seq)

    @staticmethod
    async def _check_same(conn: Conn, case_id: str, seq: int, payload: dict[str, Any]) -> None:
        row = await conn.fetchrow(
            "SELECT prev_hash, hash FROM case_events WHERE case_id = $1 AND seq = $2", case_id, seq
        )
        if row is None or chain_hash(row["prev_hash"], payload) != row["hash"]:
            raise EventConflict(f"{case_id}: event {seq} differs from the one stored")

    async def events(self, case_id: str) -> list[Event]:
        rows = await self._pool.fetch(
            "SELECT payload FROM case_events WHERE case_id = $1 ORDER BY seq", case_id
        )
        return [event_from_payload(r["payload"]) for r in rows]

    async def verify_chain(self, case_id: str) -> list[ChainProblem]:
        """Every way the stored chain of a case is broken (empty: it verifies)."""
        rows = await self._pool.fetch(
            "SELECT seq, payload, prev_hash, hash FROM case_events WHERE case_id = $1 ORDER BY seq",
            case_id,
        )
        return chain_problems(case_id, rows)


def chain_problems(case_id: str, rows: Sequence[Any]) -> list[ChainProblem]:
    """Every way a case's stored rows (`seq, payload, prev_hash, hash`, in seq order) break
    the chain; a function of the rows so the audit can check the ones of its snapshot."""
    problems: list[ChainProblem] = []
    expected_prev, expected_seq = GENESIS, 1
    for row in rows:
        if row["seq"] != expected_seq:
            problems.append(ChainProblem(case_id, expected_seq, "event missing"))
        if row["prev_hash"] != expected_prev:
            problems.append(
                ChainProblem(case_id, row["seq"], "does not link to the previous event")
            )
        if chain_hash(row["prev_hash"], row["payload"]) != row["hash"]:
            problems.append(ChainProblem(case_id, row["seq"], "content does not match its hash"))
        expected_prev, expected_seq = row["hash"], row["seq"] + 1
    return problems


async def _project(conn: Conn, case_id: str, event: Event) -> None:
    """The per-event read models (contact attempts, placements, commissions, overrides,
    payments); `ON CONFLICT DO NOTHING` keeps them idempotent like the events.

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
            await conn.execute(
                "INSERT INTO payments (case_id, seq, reference, amount, to_fees, to_interest,"
                " to_principal, unapplied, paid_on) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)"
                " ON CONFLICT DO NOTHING",
                case_id, event.seq, event.reference, event.amount, event.to_fees,
                event.to_interest, event.to_principal, event.unapplied, event.paid_on,
            )  # fmt: skip
        case _:
            pass


async def _project_case(conn: Conn, case_id: str, s: CaseSummary, last_seq: int) -> None:
    await conn.execute(
        """INSERT INTO cases (case_id, account_id, policy, stage, bucket, dpd, principal, interest,
               fees, balance, agency, hand, holds, charged_off, outcome, last_seq, opened_at,
               updated_at)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18)
           ON CONFLICT (case_id) DO UPDATE SET stage = $4, bucket = $5, dpd = $6,
               principal = $7, interest = $8, fees = $9, balance = $10, agency = $11,
               hand = $12, holds = $13, charged_off = $14, outcome = $15, last_seq = $16,
               updated_at = $18
           WHERE cases.last_seq < $16""",
        case_id, s.account_id, s.policy, s.stage, s.bucket, s.dpd, s.principal, s.interest,
        s.fees, s.principal + s.interest + s.fees, s.agency, s.hand, s.holds, s.charged_off,
        s.outcome, last_seq, s.opened_at, s.as_of,
    )  # fmt: skip


class InMemoryEventStore:
    """The same append semantics without a database: `simulate --engine temporal`."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[dict[str, Any], str]]] = {}

    async def events(self, case_id: str) -> list[Event]:
        return [event_from_payload(payload) for payload, _ in self.rows.get(case_id, [])]

    async def append(
        self, case_id: str, events: list[Event], summary: CaseSummary | None = None
    ) -> Appended:
        rows = self.rows.setdefault(case_id, [])
        appended = stored = 0
        for event in events:
            payload = payload_of(event)
            if event.seq <= len(rows):
                if rows[event.seq - 1][0] != payload:
                    raise EventConflict(f"{case_id}: event {event.seq} differs from the one stored")
                stored += 1
                continue
            if event.seq != len(rows) + 1:
                raise EventConflict(f"{case_id}: event {event.seq} would leave a gap")
            prev = rows[-1][1] if rows else GENESIS
            rows.append((payload, chain_hash(prev, payload)))
            appended += 1
        return Appended(appended=appended, already_stored=stored, last_seq=len(rows))


class Appender(Protocol):
    async def append(
        self, case_id: str, events: list[Event], summary: CaseSummary | None = None
    ) -> Appended: ...

    async def events(self, case_id: str) -> list[Event]: ...


class EventStoreActivities:
    def __init__(self, store: Appender) -> None:
        self._store = store

    @activity.defn(name="append_events")
    async def append_events(self, request: AppendEvents) -> Appended:
        try:
            return await self._store.append(request.case_id, request.events, request.summary)
        except EventConflict as err:
            raise ApplicationError(str(err), type=CONFLICT_FAILURE, non_retryable=True) from None

    @activity.defn(name="load_events")
    async def load_events(self, request: LoadEvents) -> StoredEvents:
        """A case's recorded events, for a run that starts after the case ended (a late
        payment): it rebuilds the state from what is stored, not from a carried state."""
        return StoredEvents(events=await self._store.events(request.case_id))
