"""What the tests of the commissions, contacts, promises and overrides reports share: a
case of another policy or of the challenger arm, times in the bank's zone, and running a
report definition over a pool the way the runner does."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from arrears.reports.definition import ReportDefinition
from domain.events import CaseOpened
from tests.book_cases import Story

BANK_ZONE = "Asia/Shanghai"


class _ArmedOpened(CaseOpened):
    """`case_opened` with the arm its payload carries once the import records one."""

    arm: str


def bank_time(day: date, hour: int = 12) -> datetime:
    """`hour` o'clock on the bank's `day`, in UTC (Shanghai is UTC+8)."""
    local = datetime.combine(day, time(hour), tzinfo=ZoneInfo(BANK_ZONE))
    return local.astimezone(UTC)


def story(account_id: str, *, policy: str = "cn-card", arm: str | None = None) -> Story:
    """A case opened on 2026-03-01 under `policy`, in `arm` (no arm recorded: champion)."""
    s = Story(account_id, opened_at=bank_time(date(2026, 3, 1)), policy=policy)
    opened = s.events[0]
    assert isinstance(opened, CaseOpened)
    fields: dict[str, Any] = {**dict(opened), "policy": policy}
    s.events[0] = _ArmedOpened(**fields, arm=arm) if arm else CaseOpened(**fields)
    return s


async def run_definition(
    pool: asyncpg.Pool,
    definition: ReportDefinition,
    date_from: date,
    date_to: date,
    *,
    policy: str | None = None,
    arm: str | None = None,
) -> list[dict[str, Any]]:
    """The definition's rows for the bank days `date_from`..`date_to` (inclusive)."""
    start = bank_time(date_from, 0)
    end = bank_time(date_to + timedelta(days=1), 0)
    async with pool.acquire() as conn:
        rows = await conn.fetch(definition.sql, start, end, policy, arm, BANK_ZONE)
    return [dict(row) for row in rows]
