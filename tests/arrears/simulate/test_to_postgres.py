"""Simulated events loaded into PostgreSQL are the rows the live store writes."""

from __future__ import annotations

import asyncpg

from arrears.policies import load_policy
from arrears.simulate.book_rows import (
    EVERY_EVENT_TYPE,
    SIMULATED,
    BookRun,
    Recording,
    simulate_case,
)
from arrears.simulate.portfolio import Refusals, placement_rows
from arrears.simulate.to_postgres import load_cases
from arrears.store.events import EventStore, event_from_payload


async def rows_of(pool: asyncpg.Pool, case_id: str) -> list[dict[str, object]]:
    found = await pool.fetch(
        "SELECT seq, type, at, payload FROM case_events WHERE case_id = $1 ORDER BY seq", case_id
    )
    return [dict(r) for r in found]


async def test_loaded_events_have_the_payloads_the_live_event_store_writes(
    pool: asyncpg.Pool, book: BookRun
) -> None:
    policy = load_policy(book.policy)
    everything = Recording(EVERY_EVENT_TYPE, snapshots=True)
    cases = [
        simulate_case(row, book.start, book.months, book.seed, policy, everything)
        for row in placement_rows(book.path, Refusals())
    ]
    loaded = await load_cases(pool, cases)
    assert loaded == len(cases)

    store = EventStore(pool)
    for case in cases[:5]:
        case_id = case.events[0][0]
        events = [event_from_payload(row[4]) for row in case.events]
        await store.append(f"live-{case_id}", events)
        simulated = await rows_of(pool, case_id)
        assert simulated == await rows_of(pool, f"live-{case_id}")
        assert len(simulated) == len(case.events) > 1
    marked = await pool.fetchval(
        "SELECT count(*) FROM case_events WHERE hash = $1 AND prev_hash = $1", SIMULATED
    )
    assert marked == sum(len(c.events) for c in cases)
