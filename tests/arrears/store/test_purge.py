"""Retention purge and database roles (issue 6), on a real PostgreSQL.

Cases are built the way the workers build them: domain events appended through the
`EventStore` (hash chain, read models, the `cases` row), plus the placement record that
`arrears import` writes.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from arrears.intake.importer import Importer, open_placements
from arrears.policies import load_policy
from arrears.store.db import _init_connection, create_pool, migrate
from arrears.store.events import EventStore, chain_hash, payload_of
from arrears.store.purge import PurgeResult, purge, years_before
from arrears.store.read_models import CaseSummary
from domain.events import (
    CaseClosed,
    Placed,
    Recalled,
)
from tests.stored_cases import add_case, fresh_vault, opened_event
from tests.support import free_port

ARREARS = str(Path(sys.executable).parent / "arrears")
SAMPLE = Path(__file__).parents[3] / "examples" / "placement.csv"
BEFORE = date(2026, 3, 1)
CN_CARD = load_policy("cn-card")  # 5 years after close, bank time Asia/Shanghai
SHANGHAI = timedelta(hours=8)


def _years_ago(years: int) -> datetime:
    """Noon UTC, `years` before BEFORE."""
    return datetime(BEFORE.year - years, BEFORE.month, BEFORE.day, 12, tzinfo=UTC)


async def snapshot(pool: asyncpg.Pool) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table a purge must leave alone (placement records without
    `personal` and `purged_at`)."""
    tables = {
        "case_events": "SELECT * FROM case_events ORDER BY case_id, seq",
        "cases": "SELECT * FROM cases ORDER BY case_id",
        "case_snapshots": "SELECT * FROM case_snapshots ORDER BY case_id, last_seq",
        "payments": "SELECT * FROM payments ORDER BY case_id, seq",
        "commissions": "SELECT * FROM commissions ORDER BY case_id, seq",
        "placement_records": "SELECT case_id, account_id, facts, source_file, source_line,"
        " imported_at FROM placement_records ORDER BY case_id",
    }
    return {
        name: [tuple(r.values()) for r in await pool.fetch(sql)] for name, sql in tables.items()
    }


async def personal_of(pool: asyncpg.Pool) -> dict[str, Any]:
    """{case id: (its personal data as the vault opens it, purged_at)}."""
    vault = fresh_vault()
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT case_id, purged_at FROM placement_records")
        return {r["case_id"]: (await vault.read(conn, r["case_id"]), r["purged_at"]) for r in rows}


async def book(pool: asyncpg.Pool) -> dict[str, str]:
    return {
        "old": await add_case(pool, "6225070000006", closed_at=_years_ago(6)),
        "recent": await add_case(pool, "6225070000004", closed_at=_years_ago(4)),
        # Opened eight years ago and nothing since: old, but open, so kept.
        "open": await add_case(
            pool, "6225070000000", closed_at=None, paid=False, opened_at=_years_ago(8)
        ),
    }


# --- what is purged -----------------------------------------------------------------------


async def test_a_case_closed_six_years_before_the_date_loses_its_personal_data_and_nothing_else(
    pool: asyncpg.Pool,
) -> None:
    cases = await book(pool)
    before_rows = await snapshot(pool)

    result = await purge(pool, BEFORE, CN_CARD, apply=True, actor="ops-1")

    assert result.case_ids == [cases["old"]]
    after = await personal_of(pool)
    assert after[cases["old"]][0] is None and after[cases["old"]][1] is not None
    for kept in (cases["recent"], cases["open"]):
        assert after[kept][0]["debtor_name"] == "Test Debtor" and after[kept][1] is None
    assert await snapshot(pool) == before_rows  # events, read models, money, facts
    store = EventStore(pool)
    for case_id in cases.values():
        assert await store.verify_chain(case_id) == []
    assert await pool.fetchval("SELECT count(*) FROM payments") == 2


async def test_a_second_apply_purges_nothing_new_and_is_recorded_as_purging_nothing(
    pool: asyncpg.Pool,
) -> None:
    cases = await book(pool)
    first = await purge(pool, BEFORE, CN_CARD, apply=True)
    purged_at = (await personal_of(pool))[cases["old"]][1]

    dry_run_after = await purge(pool, BEFORE, CN_CARD, apply=False)
    second = await purge(pool, BEFORE, CN_CARD, apply=True)

    assert first.case_ids == [cases["old"]]
    assert dry_run_after.case_ids == []
    assert second.case_ids == []
    assert (await personal_of(pool))[cases["old"]][1] == purged_at
    rows = await pool.fetch("SELECT cases_purged, case_ids FROM purges ORDER BY id")
    assert [(r["cases_purged"], r["case_ids"]) for r in rows] == [(1, [cases["old"]]), (0, [])]


async def test_a_dry_run_names_the_due_cases_and_changes_nothing(pool: asyncpg.Pool) -> None:
    cases = await book(pool)
    before_rows, before_personal = await snapshot(pool), await personal_of(pool)

    result = await purge(pool, BEFORE, CN_CARD, apply=False)

    assert result.case_ids == [cases["old"]] and not result.applied
    assert result.summary() == {"would_purge": 1, "before": "2026-03-01", "retention_years": 5}
    assert await snapshot(pool) == before_rows
    assert await personal_of(pool) == before_personal
    assert await pool.fetchval("SELECT count(*) FROM purges") == 0


async def test_the_closing_day_counts_in_the_banks_time_zone_and_exactly_five_years_is_kept(
    pool: asyncpg.Pool,
) -> None:
    # 2021-02-28 23:30 and 2021-03-01 00:30 in Shanghai are both 28 February in UTC.
    last_day_out = await add_case(
        pool, "6225070000101", closed_at=datetime(2021, 2, 28, 23, 30, tzinfo=UTC) - SHANGHAI
    )
    first_day_kept = await add_case(
        pool, "6225070000102", closed_at=datetime(2021, 3, 1, 0, 30, tzinfo=UTC) - SHANGHAI
    )

    result = await purge(pool, BEFORE, CN_CARD, apply=True)

    assert result.case_ids == [last_day_out]
    assert result.closed_before == date(2021, 3, 1)
    assert (await personal_of(pool))[first_day_kept][0] is not None


async def test_the_retention_period_is_the_configured_policys(pool: asyncpg.Pool) -> None:
    recent = await add_case(pool, "6225070000004", closed_at=_years_ago(4))
    us_reg_f = load_policy("us-reg-f")
    assert us_reg_f.retention.years_after_close == 3

    under_cn_card = await purge(pool, BEFORE, CN_CARD, apply=False)
    under_reg_f = await purge(pool, BEFORE, us_reg_f, apply=True)

    assert under_cn_card.case_ids == []
    assert under_reg_f.case_ids == [recent]
    row = await pool.fetchrow("SELECT retention_years, policy, closed_before FROM purges")
    assert dict(row) == {
        "retention_years": 3,
        "policy": "us-reg-f",
        "closed_before": date(2023, 3, 1),
    }


def test_five_years_before_a_29_february_is_the_28th() -> None:
    assert years_before(date(2028, 2, 29), 5) == date(2023, 2, 28)
    assert years_before(date(2028, 2, 29), 4) == date(2024, 2, 29)
    assert years_before(date(2026, 3, 1), 5) == date(2021, 3, 1)


async def test_two_purges_at_once_purge_each_case_once(pool: asyncpg.Pool) -> None:
    due = {await add_case(pool, f"62250700002{i:02d}", closed_at=_years_ago(7)) for i in range(20)}

    results: list[PurgeResult] = await asyncio.gather(
        purge(pool, BEFORE, CN_CARD, apply=True), purge(pool, BEFORE, CN_CARD, apply=True)
    )

    purged = [case_id for r in results for case_id in r.case_ids]
    assert sorted(purged) == sorted(due)
    assert await pool.fetchval("SELECT sum(cases_purged) FROM purges") == 20


# --- the record of purges -----------------------------------------------------------------


async def test_an_applied_purge_is_recorded_and_the_record_cannot_be_changed_or_removed(
    pool: asyncpg.Pool,
) -> None:
    cases = await book(pool)
    result = await purge(pool, BEFORE, CN_CARD, apply=True, actor="ops-1")

    row = await pool.fetchrow("SELECT * FROM purges")
    assert row["id"] == result.purge_id
    assert row["before_date"] == BEFORE and row["retention_years"] == 5
    assert row["policy"] == "cn-card" and row["actor"] == "ops-1"
    assert row["cases_purged"] == 1 and row["case_ids"] == [cases["old"]]
    assert row["db_user"] == await pool.fetchval("SELECT session_user")
    for sql in ("UPDATE purges SET cases_purged = 0, case_ids = '{}'", "DELETE FROM purges",
                "TRUNCATE purges"):  # fmt: skip
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="purges is append-only"):
            await pool.execute(sql)
    assert await pool.fetchval("SELECT case_ids FROM purges") == [cases["old"]]


# --- roles --------------------------------------------------------------------------------


async def as_role(pool: asyncpg.Pool, role: str, sql: str, *args: Any) -> Any:
    """Run one statement as `role` (SET LOCAL ROLE in a transaction of the superuser)."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(f"SET LOCAL ROLE {role}")
        return await conn.fetch(sql, *args)


async def next_event_row(pool: asyncpg.Pool, case_id: str) -> tuple[Any, ...]:
    last = await pool.fetchrow(
        "SELECT seq, hash FROM case_events WHERE case_id = $1 ORDER BY seq DESC LIMIT 1", case_id
    )
    event = CaseClosed(seq=last["seq"] + 1, at=datetime.now(UTC), outcome="closed")
    payload = payload_of(event)
    return (case_id, event.seq, event.type, event.at, payload, last["hash"],
            chain_hash(last["hash"], payload))  # fmt: skip


_INSERT_EVENT = (
    "INSERT INTO case_events (case_id, seq, type, at, payload, prev_hash, hash)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7)"
)


async def test_the_application_role_appends_events_but_cannot_change_or_delete_them(
    pool: asyncpg.Pool,
) -> None:
    case_id = await add_case(pool, "6225070000000", closed_at=None, paid=False)

    await as_role(pool, "arrears_app", _INSERT_EVENT, *await next_event_row(pool, case_id))
    await as_role(pool, "arrears_app", "UPDATE cases SET outcome = 'closed' WHERE case_id = $1",
                  case_id)  # fmt: skip
    for sql in (
        "UPDATE case_events SET payload = '{}' WHERE case_id = $1",
        "DELETE FROM case_events WHERE case_id = $1",
    ):
        # Refused by the grants, before the append-only trigger is reached.
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await as_role(pool, "arrears_app", sql, case_id)
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
        await as_role(pool, "arrears_app", "TRUNCATE case_events")
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
        await as_role(pool, "arrears_app", "DELETE FROM purges")

    # The owner (here a superuser) is refused by the trigger instead.
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="case_events is append-only"):
        await pool.execute("DELETE FROM case_events WHERE case_id = $1", case_id)
    assert await pool.fetchval("SELECT count(*) FROM case_events WHERE case_id = $1", case_id) == 2
    assert await EventStore(pool).verify_chain(case_id) == []


async def test_the_application_role_holds_every_right_import_and_the_workers_use(
    fresh_database_url: str, pool: asyncpg.Pool
) -> None:
    app = await asyncpg.create_pool(
        fresh_database_url, min_size=1, max_size=1, server_settings={"role": "arrears_app"},
        init=_init_connection,
    )  # fmt: skip
    records, digest = open_placements(SAMPLE)
    batch = [(r.line, r.row) for r in islice(records, 3) if r.row is not None]
    importer = Importer(client=None, pool=app, policy=CN_CARD, task_queue="t", vault=fresh_vault())
    queued: asyncio.Queue[Any] = asyncio.Queue()
    rejected: list[Any] = []
    try:
        assert await app.fetchval("SELECT current_user") == "arrears_app"
        assert await migrate(app) == []  # `arrears import` checks the schema first
        for _ in range(2):  # the second time through ON CONFLICT ... DO UPDATE
            await importer._keep(batch, digest, lambda *problem: rejected.append(problem), queued)
        case_id = batch[0][1].case_id
        opened = _years_ago(0) - timedelta(days=30)
        summary = CaseSummary(
            account_id=batch[0][1].account_id, policy="cn-card", stage="legal", bucket="M7",
            dpd=200, principal=Decimal("1.00"), interest=Decimal("0.00"), fees=Decimal("0.00"),
            agency=None, hand=None, holds=[], charged_off=True, outcome=None, opened_at=opened,
            as_of=opened,
        )  # fmt: skip
        store = EventStore(app)
        await store.append(case_id, [opened_event(1, opened, batch[0][1].account_id)], summary)
        await store.append(
            case_id,
            [
                Placed(seq=2, at=opened, agency="A1", hand="first",
                       commission_rate=Decimal("0.25"), term_ends=opened + timedelta(days=90)),
                Recalled(seq=3, at=opened, agency="A1", hand="first", reason="recall"),
            ],
            summary.model_copy(update={"agency": None}),
        )  # fmt: skip
        assert await store.verify_chain(case_id) == []
    finally:
        await app.close()
    assert rejected == [] and queued.qsize() == 6  # a re-run starts (finds) them again
    assert await pool.fetchval("SELECT last_seq FROM cases WHERE case_id = $1", case_id) == 3
    assert await pool.fetchval("SELECT recalled_at FROM placements") == opened


async def test_the_auditor_role_reads_but_every_write_and_the_personal_data_are_refused(
    pool: asyncpg.Pool,
) -> None:
    cases = await book(pool)
    await purge(pool, BEFORE, CN_CARD, apply=True)
    reads = [
        "SELECT * FROM case_events", "SELECT * FROM cases", "SELECT * FROM payments",
        "SELECT * FROM purges", "SELECT * FROM schema_migrations",
        "SELECT case_id, facts, has_personal, purged_at FROM placement_records",
    ]  # fmt: skip
    for sql in reads:
        assert await as_role(pool, "arrears_auditor", sql)
    writes = [
        (_INSERT_EVENT, await next_event_row(pool, cases["open"])),
        ("UPDATE case_events SET payload = '{}'", ()),
        ("DELETE FROM case_events", ()),
        ("UPDATE cases SET outcome = 'closed'", ()),
        ("INSERT INTO payments (case_id, seq, reference, amount, to_fees, to_interest,"
         " to_principal, unapplied, paid_on) VALUES ('x', 1, 'r', 1, 0, 0, 1, 0, '2026-01-01')",
         ()),
        ("UPDATE placement_records SET personal = NULL", ()),
        ("INSERT INTO purges (before_date, closed_before, retention_years, policy,"
         " cases_purged, case_ids) VALUES ('2026-01-01', '2021-01-01', 5, 'x', 0, '{}')", ()),
        ("SELECT personal FROM placement_records", ()),
        ("SELECT personal_sealed FROM placement_records", ()),
        ("SELECT phone_hashes FROM placement_records", ()),
        ("SELECT wrapped FROM case_keys", ()),
        ("DELETE FROM case_keys", ()),
    ]  # fmt: skip
    for sql, args in writes:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await as_role(pool, "arrears_auditor", sql, *args)


async def test_the_purge_needs_no_more_than_the_purger_role_which_cannot_read_personal_data(
    fresh_database_url: str, pool: asyncpg.Pool
) -> None:
    cases = await book(pool)
    purger = await asyncpg.create_pool(
        fresh_database_url, min_size=1, max_size=1, server_settings={"role": "arrears_purger"}
    )
    try:
        assert await purger.fetchval("SELECT current_user") == "arrears_purger"
        dry = await purge(purger, BEFORE, CN_CARD, apply=False)
        applied = await purge(purger, BEFORE, CN_CARD, apply=True, actor="ops-1")
        for sql in (
            "SELECT personal FROM placement_records",
            "SELECT personal_sealed, name_hash FROM placement_records",
            "SELECT wrapped FROM case_keys",
            "INSERT INTO case_keys (case_id, master_id, wrapped) VALUES ('x', 'y', 'z')",
            "UPDATE placement_records SET facts = '{}'",
            "UPDATE cases SET outcome = NULL",
            "DELETE FROM payments",
            "DELETE FROM placement_records",
            "UPDATE case_events SET payload = '{}'",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
                await purger.execute(sql)
    finally:
        await purger.close()
    assert dry.case_ids == applied.case_ids == [cases["old"]]
    assert (await personal_of(pool))[cases["old"]][0] is None
    assert (await personal_of(pool))[cases["recent"]][0] is not None
    assert not await pool.fetchval(
        "SELECT count(*) FROM case_keys WHERE case_id = $1", cases["old"]
    )
    assert await pool.fetchval("SELECT db_user FROM purges") == await pool.fetchval(
        "SELECT session_user"
    )


async def test_the_roles_already_in_the_cluster_do_not_stop_another_database_migrating(
    postgres_server_url: str, pool: asyncpg.Pool
) -> None:
    # `pool`'s database has created (or found) the roles; a second database reuses them.
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        other = await create_pool(postgres_server_url.rsplit("/", 1)[0] + f"/{name}", max_size=1)
        try:
            applied = await migrate(other)
            granted = await other.fetchval(
                "SELECT has_table_privilege('arrears_app', 'case_events', 'INSERT')"
                " AND NOT has_table_privilege('arrears_app', 'case_events', 'UPDATE')"
            )
        finally:
            await other.close()
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()
    assert "0004" in applied
    assert granted is True


# --- the command --------------------------------------------------------------------------


async def arrears(*args: str, database_url: str) -> tuple[int, str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not (k.startswith("ARREARS_") or k in ("TEMPORAL_ADDRESS", "DATABASE_URL"))
    }
    env |= {"DATABASE_URL": database_url, "ARREARS_LOG_FORMAT": "json"}
    process = await asyncio.create_subprocess_exec(
        ARREARS, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_the_command_purges_and_ends_with_the_json_summary_without_personal_data(
    fresh_database_url: str, pool: asyncpg.Pool
) -> None:
    cases = await book(pool)

    dry = await arrears("purge", "--before", "2026-03-01", "--dry-run",
                        database_url=fresh_database_url)  # fmt: skip
    done = await arrears("purge", "--before", "2026-03-01", "--apply", "--actor", "ops-1",
                         database_url=fresh_database_url)  # fmt: skip

    assert dry[0] == 0, dry[2]
    assert done[0] == 0, done[2]
    assert json.loads(dry[1].splitlines()[-1]) == {
        "would_purge": 1, "before": "2026-03-01", "retention_years": 5
    }  # fmt: skip
    assert json.loads(done[1].splitlines()[-1]) == {
        "purged": 1, "before": "2026-03-01", "retention_years": 5
    }  # fmt: skip
    assert cases["old"] in dry[1].splitlines() and cases["old"] in done[1].splitlines()
    for output in (dry, done):
        assert "Test Debtor" not in output[1] + output[2]
        assert "+8613800000000" not in output[1] + output[2]
    assert await pool.fetchval("SELECT actor FROM purges") == "ops-1"


@pytest.mark.parametrize(
    "args",
    [
        ["--before", "2026-03-01"],
        ["--before", "2026-03-01", "--dry-run", "--apply"],
        ["--before", "2026-02-30", "--dry-run"],
        ["--before", "20260301", "--apply"],
        ["--dry-run"],
    ],
    ids=["neither-mode", "both-modes", "no-such-day", "not-iso", "no-date"],
)
async def test_a_bad_command_line_is_exit_code_2_and_purges_nothing(
    args: list[str], fresh_database_url: str, pool: asyncpg.Pool
) -> None:
    cases = await book(pool)

    code, _, err = await arrears("purge", *args, database_url=fresh_database_url)

    assert code == 2, err
    assert (await personal_of(pool))[cases["old"]][0] is not None
    assert await pool.fetchval("SELECT count(*) FROM purges") == 0


async def test_postgresql_out_of_reach_is_exit_code_3() -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/arrears"

    code, _, err = await arrears("purge", "--before", "2026-03-01", "--apply", database_url=url)

    assert code == 3, err
    assert err.startswith("arrears: PostgreSQL at") and len(err.strip().splitlines()) == 1


async def test_a_database_without_the_migration_is_told_to_migrate(
    fresh_database_url: str,
) -> None:
    code, _, err = await arrears(
        "purge", "--before", "2026-03-01", "--dry-run", database_url=fresh_database_url
    )

    assert code == 2, err
    assert "arrears migrate" in err
