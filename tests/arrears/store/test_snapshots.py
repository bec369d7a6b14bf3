"""`case_snapshots`: the case's standing after each append, the history the reports of
past periods read (migration 0011)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import pytest

from arrears.store.db import create_pool, migrate, shipped_migrations
from domain.events import BucketChanged
from tests.book_cases import NOW, Story

T0 = NOW - timedelta(days=60)


def _story() -> Story:
    return (
        Story("6225000000001", opened_at=T0, bucket="M1", balance="1000.00")
        .standing(T0, bucket="M1", dpd=35)
        .then(BucketChanged, T0 + timedelta(days=30), bucket="M2", previous="M1", dpd=65,
              oldest_unpaid_due_date=None)
        .standing(T0 + timedelta(days=30), bucket="M2", dpd=65, balance="1100.00")
    )  # fmt: skip


async def _snapshots(pool: asyncpg.Pool) -> list[tuple[object, ...]]:
    rows = await pool.fetch(
        "SELECT last_seq, as_of, bucket, dpd, principal FROM case_snapshots ORDER BY last_seq"
    )
    return [tuple(r.values()) for r in rows]


async def test_each_append_with_a_summary_leaves_a_snapshot_at_its_business_time(
    pool: asyncpg.Pool,
) -> None:
    await _story().store(pool)
    rows = await _snapshots(pool)
    assert [(r[0], r[1], r[2], r[3], str(r[4])) for r in rows] == [
        (1, T0, "M1", 35, "1000.00"),
        (2, T0 + timedelta(days=30), "M2", 65, "1100.00"),
    ]


async def test_a_retried_append_adds_no_second_snapshot(pool: asyncpg.Pool) -> None:
    story = _story()
    await story.store(pool)
    await story.store(pool)
    assert len(await _snapshots(pool)) == 2


@pytest.mark.parametrize(
    "change",
    ["UPDATE case_snapshots SET bucket = 'M0'", "DELETE FROM case_snapshots",
     "TRUNCATE case_snapshots"],
)  # fmt: skip
async def test_snapshots_refuse_change_and_removal(pool: asyncpg.Pool, change: str) -> None:
    await _story().store(pool)
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="case_snapshots is append-only"):
        await pool.execute(change)
    assert len(await _snapshots(pool)) == 2


@pytest.fixture
async def bare_pool(fresh_database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(fresh_database_url, max_size=2)
    try:
        yield pool
    finally:
        await pool.close()


async def test_the_migration_backfills_one_snapshot_per_existing_case(
    bare_pool: asyncpg.Pool,
) -> None:
    before = [m for m in shipped_migrations() if m.version < "0011"]
    await migrate(bare_pool, before)
    # The `cases` row a worker wrote before 0011 (today's code would also snapshot it).
    await bare_pool.execute(
        """INSERT INTO cases (case_id, account_id, policy, stage, bucket, dpd, principal,
               interest, fees, balance, last_seq, opened_at, updated_at)
           VALUES ('case-1', '1', 'cn-card', 'phone', 'M2', 65, 1100, 0, 0, 1100, 2, $1, $2)""",
        T0, T0 + timedelta(days=30),
    )  # fmt: skip
    await migrate(bare_pool)
    rows = await _snapshots(bare_pool)
    assert [(r[0], r[1], r[2]) for r in rows] == [(2, T0 + timedelta(days=30), "M2")]
