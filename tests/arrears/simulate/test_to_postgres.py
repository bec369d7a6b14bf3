"""Simulated events loaded into PostgreSQL are the rows the live store writes."""

from __future__ import annotations

import asyncpg
import pytest

from arrears.policies import load_policy
from arrears.settings import Settings
from arrears.simulate.book_rows import (
    EVERY_EVENT_TYPE,
    SIMULATED,
    BookRun,
    Recording,
    simulate_case,
)
from arrears.simulate.portfolio import Refusals, placement_rows
from arrears.simulate.to_postgres import load_cases, scratch_database
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


async def test_the_scratch_database_is_dropped_when_the_run_fails(
    postgres_server_url: str, clean_env: None
) -> None:
    settings = Settings(database_url=postgres_server_url)
    with pytest.raises(RuntimeError, match="half way"):
        async with scratch_database(settings) as pool:
            name = await pool.fetchval("SELECT current_database()")
            assert await pool.fetchval("SELECT to_regclass('case_snapshots')") is not None
            raise RuntimeError("half way")
    admin = await asyncpg.connect(postgres_server_url)
    try:
        assert await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name) is None
    finally:
        await admin.close()
