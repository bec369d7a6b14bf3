"""What the tests of the commissions, contacts, promises and overrides reports share:
times on the bank's days, a case opened before their periods, and `arrears report KIND
--format json` run as a real process."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tests.book_cases import Story

BANK_ZONE = "Asia/Shanghai"
ROOT = Path(__file__).resolve().parents[3]
#: The scope the tests' hand-worked figures are for.
CN_CHAMPION = ("--policy", "cn-card", "--arm", "champion")


def bank_time(day: date, hour: int = 12) -> datetime:
    """`hour` o'clock on the bank's `day`, in UTC (Shanghai is UTC+8)."""
    return datetime.combine(day, time(hour), tzinfo=ZoneInfo(BANK_ZONE)).astimezone(UTC)


def story(account_id: str, *, policy: str = "cn-card", arm: str | None = None) -> Story:
    """A case opened on 1 March 2026 under `policy`, in `arm` (none recorded: champion)."""
    return Story(account_id, opened_at=bank_time(date(2026, 3, 1)), policy=policy, arm=arm)


async def report_json(db_url: str, kind: str, *options: str) -> dict[str, Any]:
    """`arrears report KIND OPTIONS --format json` from this tree on `db_url` (the
    default policy profile, cn-card: the bank's zone is Shanghai)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not (k.startswith("ARREARS_") or k in ("TEMPORAL_ADDRESS", "DATABASE_URL"))
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "arrears.cli", "report", kind, *options, "--format", "json",
        env=env | {"DATABASE_URL": db_url}, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    return json.loads(out)  # type: ignore[no-any-return]
