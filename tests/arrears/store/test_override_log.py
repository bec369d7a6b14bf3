"""Every override across the book, filtered, paged and exported, on a real PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import asyncpg
import pytest

from arrears.store.override_log import OverrideFilter, override_csv, override_log, override_rows
from domain.events import Actor, OverrideApplied, OverrideRejected
from tests.book_cases import NOW, Story, store_all

DAY = timedelta(days=1)


@pytest.fixture
async def overrides(pool: asyncpg.Pool) -> asyncpg.Pool:
    one = Story("1")
    one.then(
        OverrideApplied,
        NOW - 3 * DAY,
        override="pause",
        actor=Actor(id="s-1", role="supervisor"),
        reason='=HYPERLINK("x")',
        args={"until": "2026-06-20"},
    )
    one.then(
        OverrideRejected,
        NOW - 2 * DAY,
        override="waiver",
        actor=Actor(id="c-1", role="collector"),
        reason="asked",
        rule="waiver_limit",
        message="a collector may not",
    )
    two = Story("2")
    two.then(
        OverrideApplied,
        NOW - DAY,
        override="pause",
        actor=Actor(id="c-1", role="collector"),
        reason="travel",
        args={},
    )
    two.then(OverrideApplied, NOW, override="resume", actor=Actor(id="s-1",
             role="supervisor"), reason="back", args={})  # fmt: skip
    await store_all(pool, one, two)
    return pool


async def listed(pool: asyncpg.Pool, f: OverrideFilter, **paging: int) -> list[tuple[str, int]]:
    async with pool.acquire() as conn:
        page = await override_log(conn, f, **paging)
    return [(row.case_id, row.seq) for row in page.rows]


async def test_the_log_lists_every_override_newest_first_rejected_ones_too(
    overrides: asyncpg.Pool,
) -> None:
    assert await listed(overrides, OverrideFilter()) == [
        ("case-2", 3), ("case-2", 2), ("case-1", 3), ("case-1", 2),
    ]  # fmt: skip


async def test_the_log_filters_by_actor_kind_and_time(overrides: asyncpg.Pool) -> None:
    assert await listed(overrides, OverrideFilter(actor="c-1")) == [("case-2", 2), ("case-1", 3)]
    assert await listed(overrides, OverrideFilter(kind="pause")) == [("case-2", 2), ("case-1", 2)]
    window = OverrideFilter(since=NOW - 2 * DAY, until=NOW)
    assert await listed(overrides, window) == [("case-2", 2), ("case-1", 3)]


async def test_the_log_pages_and_keeps_its_total(overrides: asyncpg.Pool) -> None:
    async with overrides.acquire() as conn:
        second = await override_log(conn, limit=3, offset=3)
        beyond = await override_log(conn, limit=3, offset=9)
    assert ([(r.case_id, r.seq) for r in second.rows], second.total) == ([("case-1", 2)], 4)
    assert (beyond.rows, beyond.total) == ([], 4)


async def test_the_export_is_csv_with_one_row_per_override_and_no_live_formulas(
    overrides: asyncpg.Pool,
) -> None:
    async with overrides.acquire() as conn:
        rows = await override_rows(conn, OverrideFilter(actor="s-1"))
    table = list(csv.DictReader(io.StringIO(override_csv(rows))))
    assert [(r["case_id"], r["kind"], r["applied"]) for r in table] == [
        ("case-2", "resume", "true"),
        ("case-1", "pause", "true"),
    ]
    assert table[1]["reason"] == '\'=HYPERLINK("x")'
    assert table[1]["args"] == '{"until": "2026-06-20"}'
    assert table[1]["at"] == (NOW - 3 * DAY).isoformat()
