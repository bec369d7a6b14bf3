"""`arrears report`: from the command line's words to a rendered report.

Everything the user can get wrong (kind, format, dates) is checked before the database
is touched (exit 2); an unreachable database is one line (exit 3, `create_pool`).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg

from arrears.errors import ServiceUnavailable, UsageError
from arrears.reports.run import FORMATS, Format, ReportQuery, definition_of, render, run_report
from arrears.settings import Settings
from arrears.store.db import Conn, create_pool
from domain.arms import ARMS

#: The period by default: the month of --to and the eleven before it.
DEFAULT_MONTHS = 12


def parse_day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option} {text!r} is not a date (YYYY-MM-DD)") from None


def parse_month(text: str) -> tuple[date, date]:
    """`YYYY-MM` as its first and last day."""
    try:
        first = date.fromisoformat(f"{text}-01") if len(text) == 7 else None
    except ValueError:
        first = None
    if first is None:
        raise UsageError(f"--month {text!r} is not a month (YYYY-MM)")
    return first, date.fromordinal(_add_months(first, 1).toordinal() - 1)


def _add_months(day: date, months: int) -> date:
    """The first day of the month `months` after `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def default_from(to: date) -> date:
    return _add_months(to, 1 - DEFAULT_MONTHS)


def _check_format(fmt: str) -> Format:
    for known in FORMATS:
        if fmt == known:
            return known
    raise UsageError(f"unknown --format {fmt!r}: use {', '.join(FORMATS)}")


async def latest_bank_day(conn: Conn, zone: str) -> date | None:
    """The bank day of the store's latest business time (the last append's summary):
    a book run on a fast simulated clock and production agree on "now"."""
    latest = await conn.fetchval("SELECT max(as_of) FROM case_snapshots")
    return None if latest is None else latest.astimezone(ZoneInfo(zone)).date()


def report_command(
    settings: Settings,
    kind: str,
    *,
    date_from: str | None,
    date_to: str | None,
    month: str | None,
    policy: str | None,
    arm: str | None,
    fmt: str,
    out: Path | None,
) -> str:
    """The text to print: the report, or with `out` the path it was written to."""
    from arrears.policies import load_policy

    definition_of(kind)
    chosen = _check_format(fmt)
    if month is not None and (date_from or date_to):
        raise UsageError("--month sets the period: give it without --from and --to")
    first, last = parse_month(month) if month else (None, None)
    first = parse_day(date_from, "--from") if date_from else first
    last = parse_day(date_to, "--to") if date_to else last
    if first and last and first > last:
        raise UsageError(f"--from {first} is after --to {last}")
    if arm is not None and arm not in ARMS:  # a typo would print an empty report
        raise UsageError(f"unknown --arm {arm!r}: use {', '.join(ARMS)}")
    zone = load_policy(settings.policy).cycle.bank_timezone
    now = datetime.now(UTC)  # the command's edge: generated_at, and "today" of an empty book
    text = asyncio.run(_report(settings.db_url, kind, first, last, policy, arm, zone, now, chosen))
    if out is None:
        return text
    write_atomically(out, text)
    return str(out)


async def _report(
    url: str, kind: str, first: date | None, last: date | None, policy: str | None,
    arm: str | None, zone: str, now: datetime, fmt: Format,
) -> str:  # fmt: skip
    pool = await create_pool(url, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            if last is None:
                last = await latest_bank_day(conn, zone) or now.astimezone(ZoneInfo(zone)).date()
            first = first or default_from(last)
            if first > last:
                raise UsageError(f"--from {first} is after the latest bank day {last}")
            query = ReportQuery(
                kind=kind, date_from=first, date_to=last, policy=policy, arm=arm,
                bank_timezone=zone, generated_at=now,
            )  # fmt: skip
            return render(await run_report(conn, query), fmt)
    except asyncpg.UndefinedTableError:
        raise ServiceUnavailable(
            "the database has no report tables yet: run `arrears migrate`"
        ) from None
    finally:
        await pool.close()


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file beside it, renamed into place, so a
    reader never sees half a report."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise UsageError(f"cannot write {path}: {err.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as file:
            file.write(text)
        os.replace(tmp, path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        raise UsageError(f"cannot write {path}: {err.strerror}") from None
