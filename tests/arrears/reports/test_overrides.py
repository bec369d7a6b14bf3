"""The overrides report (applied and rejected by actor, role and kind) on a small book
worked out by hand below, on a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import asyncpg
import pytest

from domain.events import Actor, OverrideApplied, OverrideRejected
from tests.arrears.reports.conftest import RunReport
from tests.arrears.reports.report_story import CN_CHAMPION, bank_time, report_json, story
from tests.book_cases import Story, store_all

MAY_1, MAY_31 = date(2026, 5, 1), date(2026, 5, 31)


def applied(s: Story, at: datetime, kind: str, actor: str, role: str) -> Story:
    return s.then(OverrideApplied, at, override=kind, actor=Actor(id=actor, role=role),
                  reason="asked", args={})  # fmt: skip


def rejected(s: Story, at: datetime, kind: str, actor: str, role: str) -> Story:
    return s.then(OverrideRejected, at, override=kind, actor=Actor(id=actor, role=role),
                  reason="asked", rule="authority", message="not allowed")  # fmt: skip


@pytest.fixture
async def book(pool: asyncpg.Pool) -> asyncpg.Pool:
    v1 = story("v1")
    applied(v1, bank_time(date(2026, 5, 2)), "pause", "s-1", "supervisor")
    rejected(v1, bank_time(date(2026, 5, 3)), "waiver", "c-1", "collector")
    applied(v1, bank_time(date(2026, 5, 4)), "resume", "s-1", "supervisor")
    applied(v1, bank_time(date(2026, 5, 20)), "pause", "s-1", "supervisor")
    v2 = story("v2")
    # 23:00 on 30 April in Shanghai: April's, outside the period.
    applied(v2, datetime(2026, 4, 30, 15, tzinfo=UTC), "pause", "s-1", "supervisor")
    applied(v2, bank_time(date(2026, 5, 6)), "pause", "c-1", "collector")
    rejected(v2, bank_time(date(2026, 5, 7)), "pause", "c-1", "collector")
    # The same person giving an override as a manager counts apart from as a supervisor.
    applied(v2, bank_time(date(2026, 5, 8)), "waiver", "s-1", "manager")
    other = applied(story("o1", policy="hk-card"), bank_time(date(2026, 5, 9)), "pause", "s-1",
                    "supervisor")  # fmt: skip
    chal = rejected(story("c1", arm="challenger"), bank_time(date(2026, 5, 9)), "close", "m-1",
                    "manager")  # fmt: skip
    await store_all(pool, v1, v2, other, chal)
    return pool


def row(actor: str, role: str, kind: str, applied: int, rejected: int) -> dict[str, object]:
    return {"actor": actor, "role": role, "override": kind, "applied": applied,
            "rejected": rejected}  # fmt: skip


async def test_overrides_are_counted_by_actor_role_and_kind_applied_and_rejected(
    book: asyncpg.Pool, report: RunReport
) -> None:
    overrides = await report("overrides", MAY_1, MAY_31, "cn-card", "champion")

    assert overrides.rows == [
        row("c-1", "collector", "pause", 1, 1),
        row("c-1", "collector", "waiver", 0, 1),
        row("s-1", "manager", "waiver", 1, 0),
        row("s-1", "supervisor", "pause", 2, 0),
        row("s-1", "supervisor", "resume", 1, 0),
    ]
    assert overrides.totals == {"applied": 5, "rejected": 2}


async def test_every_policy_and_arm_count_when_none_is_chosen(
    book: asyncpg.Pool, report: RunReport
) -> None:
    rows = (await report("overrides", MAY_1, MAY_31)).rows

    assert row("m-1", "manager", "close", 0, 1) in rows
    assert row("s-1", "supervisor", "pause", 3, 0) in rows


async def test_arrears_report_overrides_prints_the_counts_as_json(
    book: asyncpg.Pool, fresh_database_url: str
) -> None:
    out = await report_json(
        fresh_database_url, "overrides", "--from", "2026-05-01", "--to", "2026-05-31", *CN_CHAMPION
    )

    assert out["rows"][0] == row("c-1", "collector", "pause", 1, 1)
    assert out["totals"] == {"applied": 5, "rejected": 2}
