"""Migrations: versioned SQL files applied once each, recorded, and guarded by checksum."""

from __future__ import annotations

import asyncpg
import pytest

from arrears.store.db import (
    Migration,
    MigrationError,
    create_pool,
    migrate,
    redact_url,
    shipped_migrations,
)


async def _pool(url: str) -> asyncpg.Pool:
    return await create_pool(url, max_size=2)


async def test_shipped_migrations_apply_once_and_a_second_run_applies_nothing(
    fresh_database_url: str,
) -> None:
    pool = await _pool(fresh_database_url)
    try:
        first = await migrate(pool)
        second = await migrate(pool)
        recorded = await pool.fetch("SELECT version FROM schema_migrations ORDER BY version")
    finally:
        await pool.close()
    assert first == [m.version for m in shipped_migrations()]
    assert second == []
    assert [r["version"] for r in recorded] == first


async def test_a_migration_edited_after_it_was_applied_is_refused(fresh_database_url: str) -> None:
    pool = await _pool(fresh_database_url)
    try:
        await migrate(pool, [Migration("0001", "t", "CREATE TABLE t (a int);")])
        with pytest.raises(MigrationError, match=r"0001_t\.sql was changed"):
            await migrate(pool, [Migration("0001", "t", "CREATE TABLE t (a bigint);")])
    finally:
        await pool.close()


async def test_a_failing_migration_leaves_no_trace_and_is_not_recorded(
    fresh_database_url: str,
) -> None:
    pool = await _pool(fresh_database_url)
    broken = Migration("0002", "broken", "CREATE TABLE half (a int); SELECT * FROM missing;")
    try:
        with pytest.raises(asyncpg.UndefinedTableError):
            await migrate(pool, [Migration("0001", "ok", "CREATE TABLE ok (a int);"), broken])
        versions = [r["version"] for r in await pool.fetch("SELECT version FROM schema_migrations")]
        half = await pool.fetchval("SELECT to_regclass('half')")
    finally:
        await pool.close()
    assert versions == ["0001"]
    assert half is None


async def test_jsonb_round_trips_as_python_objects(fresh_database_url: str) -> None:
    pool = await _pool(fresh_database_url)
    try:
        value = await pool.fetchval("SELECT $1::jsonb", {"amount": "12.30", "tags": ["a"]})
    finally:
        await pool.close()
    assert value == {"amount": "12.30", "tags": ["a"]}


def test_a_url_is_shown_without_its_password() -> None:
    assert redact_url("postgresql://app:pw@db:5432/x") == "postgresql://app:***@db:5432/x"
    assert redact_url("postgresql://app@db/x") == "postgresql://app@db/x"


def test_passwords_given_as_url_parameters_are_hidden_too_and_tls_parameters_kept() -> None:
    url = "postgresql://app:pw@db/x?sslmode=verify-full&sslpassword=keypass&password=pw2"
    shown = redact_url(url)
    assert "keypass" not in shown and "pw2" not in shown and ":pw@" not in shown
    assert shown.startswith("postgresql://app:***@db/x?sslmode=verify-full&")
