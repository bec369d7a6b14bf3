"""The case event store in PostgreSQL: append-only, hash-chained, idempotent.

Every decided event is appended exactly once, idempotent on `(case_id, seq)`: a retried
activity that appends the same events again changes nothing, while a *different* event
under a recorded seq is a conflict (the history and the store disagree) and is refused.
Each row is hash-chained to the previous one of its case, so altering or removing a
stored event breaks every hash after it. The table itself refuses UPDATE and DELETE.
Read models (`read_models.py`) are written in the same transaction as the events they
come from. `InMemoryEventStore` has the same append semantics without a database. The
Temporal activities the workflow reaches the store through are `activities/event_store.py`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
from pydantic import BaseModel, TypeAdapter

from arrears.store.db import Conn
from arrears.store.read_models import CaseSummary, project_case, project_event
from domain.events import Event

GENESIS = "0" * 64
_events: TypeAdapter[Event] = TypeAdapter(Event)


class EventConflict(Exception):
    """The store holds a different event under the same (case_id, seq), or a gap."""


def canonical(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev_hash: str, payload: dict[str, Any]) -> str:
    return hashlib.sha256(f"{prev_hash}\n{canonical(payload)}".encode()).hexdigest()


def payload_of(event: Event) -> dict[str, Any]:
    return event.model_dump(mode="json")


def event_from_payload(payload: dict[str, Any]) -> Event:
    return _events.validate_python(payload)


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
                await project_event(conn, case_id, event)
                last_seq, last_hash = event.seq, digest
                appended += 1
            if summary is not None and appended:
                await project_case(conn, case_id, summary, last_seq)
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
