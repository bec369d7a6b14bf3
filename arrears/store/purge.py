"""`arrears purge`: remove the personal data of cases closed longer ago than retention.

A case is due when it is closed (`cases.outcome` is set), its `case_closed` event took
effect more than `retention.years_after_close` years (the configured policy) before
`--before`, and its placement record still holds personal data. The closing day is read in
the bank's time zone (`cycle.bank_timezone`): with `--before 2026-03-01` and 5 years, a
case closed on 2021-02-28 is purged and one closed on 2021-03-01 is not.

Purging is crypto-shredding (issue 16): it deletes each due case's data key from
`case_keys` and clears its sealed personal data and lookup hashes (and any plaintext left
from before migration 0014), sets `purged_at` to now(), and records the run in `purges`,
in one transaction. A backup taken before the purge still holds the ciphertext, but no
key opens it any more, not even with the master key. Everything else stays: events (which never held
personal data), read models, payments, commissions, the placement's facts. `--dry-run`
reads the same selection and changes nothing. Neither prints any personal data: only
case ids, and the JSON summary as the last line.

The statements need no more than the `arrears_purger` role grants (migrations 0004 and
0014): it may see *whether* a record holds personal data (`has_personal`), never the data
nor a data key, and needs no master key: nothing is decrypted to destroy it.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import asyncpg

from arrears.crypto.vault import SHREDDED, shred_keys
from arrears.errors import ServiceUnavailable, UsageError
from arrears.policies import load_policy
from arrears.settings import Settings
from arrears.store.db import create_pool, redact_url
from domain.policy import Policy

#: One purge at a time per database (a second waits, then finds nothing left to purge).
_PURGE_LOCK = 0x5055524745  # "PURGE"
MAX_ACTOR = 64

# Cases due for purging: $1 the first instant that is *not* more than the retention
# period before --before (midnight of the cutoff day in the bank's time zone).
_DUE = """
    SELECT c.case_id
    FROM cases c
    JOIN placement_records p ON p.case_id = c.case_id
    JOIN (SELECT case_id, max(at) AS closed_at
          FROM case_events WHERE type = 'case_closed' GROUP BY case_id) e
      ON e.case_id = c.case_id
    WHERE c.outcome IS NOT NULL AND p.has_personal AND e.closed_at < $1
"""


@dataclass(frozen=True)
class PurgeResult:
    before: date
    closed_before: date
    retention_years: int
    policy: str
    case_ids: list[str]
    applied: bool
    purge_id: int | None = None

    def summary(self) -> dict[str, object]:
        key = "purged" if self.applied else "would_purge"
        return {
            key: len(self.case_ids),
            "before": self.before.isoformat(),
            "retention_years": self.retention_years,
        }


def years_before(day: date, years: int) -> date:
    """The same calendar day `years` earlier; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


async def purge(
    pool: asyncpg.Pool, before: date, policy: Policy, *, apply: bool, actor: str | None = None
) -> PurgeResult:
    """Select (and with `apply`, purge and record) the cases due under `policy`."""
    years = policy.retention.years_after_close
    cutoff = years_before(before, years)
    cutoff_at = datetime.combine(cutoff, time(0), ZoneInfo(policy.cycle.bank_timezone))
    if not apply:
        async with pool.acquire() as conn, conn.transaction(readonly=True):
            rows = await conn.fetch(_DUE + " ORDER BY c.case_id", cutoff_at)
        ids = [r["case_id"] for r in rows]
        return PurgeResult(before, cutoff, years, policy.name, ids, applied=False)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _PURGE_LOCK)
        rows = await conn.fetch(
            f"""UPDATE placement_records p SET {SHREDDED}, purged_at = now()
                FROM ({_DUE}) due
                WHERE p.case_id = due.case_id AND p.has_personal
                RETURNING p.case_id""",
            cutoff_at,
        )
        ids = sorted(r["case_id"] for r in rows)
        await shred_keys(conn, ids)
        purge_id = await conn.fetchval(
            """INSERT INTO purges (before_date, closed_before, retention_years, policy,
                                   cases_purged, case_ids, actor)
               VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id""",
            before, cutoff, years, policy.name, len(ids), ids, actor,
        )  # fmt: skip
    return PurgeResult(before, cutoff, years, policy.name, ids, applied=True, purge_id=purge_id)


def check_arguments(
    before: str, dry_run: bool, apply: bool, actor: str | None
) -> tuple[date, str | None]:
    """The command line, checked before anything is read (UsageError: exit code 2)."""
    if dry_run == apply:
        raise UsageError("give exactly one of --dry-run and --apply")
    try:
        day = date.fromisoformat(before)
    except ValueError:
        raise UsageError(f"--before {before!r} is not an ISO date (YYYY-MM-DD)") from None
    if len(before) != 10:  # fromisoformat also takes 20260301 and 2026-W09-7
        raise UsageError(f"--before {before!r} is not an ISO date (YYYY-MM-DD)")
    if actor is not None:
        actor = actor.strip()
        if not actor or len(actor) > MAX_ACTOR:
            raise UsageError(f"--actor must be an id of 1 to {MAX_ACTOR} characters")
    return day, actor


def report_lines(result: PurgeResult) -> list[str]:
    """What the command prints: one case id a line, a sentence, then the JSON summary."""
    verb = "purged" if result.applied else "would purge"
    lines = list(result.case_ids)
    lines.append(
        f"{verb} the personal data of {len(result.case_ids)} cases closed before "
        f"{result.closed_before.isoformat()} ({result.retention_years} years before "
        f"{result.before.isoformat()}, policy {result.policy})"
        + (f"; recorded as purge {result.purge_id}" if result.purge_id is not None else "")
    )
    lines.append(json.dumps(result.summary()))
    return lines


async def _run(
    url: str, before: date, policy: Policy, apply: bool, actor: str | None
) -> PurgeResult:
    pool = await create_pool(url, max_size=1)
    try:
        return await purge(pool, before, policy, apply=apply, actor=actor)
    except (asyncpg.UndefinedTableError, asyncpg.UndefinedColumnError):
        raise UsageError(
            f"the database at {redact_url(url)} lacks the purge tables: run `arrears migrate`"
        ) from None
    except asyncpg.InsufficientPrivilegeError as err:
        raise UsageError(
            f"PostgreSQL refused the purge ({err}): log in as a member of arrears_purger"
        ) from None
    except (
        OSError,
        asyncpg.InterfaceError,
        asyncpg.PostgresConnectionError,
        asyncpg.OperatorInterventionError,
    ) as err:
        raise ServiceUnavailable(f"PostgreSQL at {redact_url(url)} went away: {err}") from None
    finally:
        await pool.close()


def run_purge(before: str, dry_run: bool, apply: bool, actor: str | None) -> list[str]:
    day, actor = check_arguments(before, dry_run, apply, actor)
    settings = Settings()
    policy = load_policy(settings.policy)
    result = asyncio.run(_run(settings.db_url, day, policy, apply, actor))
    return report_lines(result)
