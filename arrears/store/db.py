"""PostgreSQL access: the one asyncpg pool, and versioned SQL migrations.

Migrations are plain SQL files in `arrears/store/migrations/` named `NNNN_description.sql`.
Each is applied once, in order, inside a transaction, and recorded in
`schema_migrations` with a checksum: an applied file that was edited afterwards is an
error, because the database no longer matches what the file says it is.
An advisory lock makes concurrent runners (two workers starting at once) safe.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from arrears.errors import ArrearsError, ServiceUnavailable, UsageError
from arrears.pem import read_pem

Conn = asyncpg.Connection | PoolConnectionProxy  # what `pool.acquire()` hands out
_MIGRATION_LOCK = 0x4152524541  # "ARREA": any constant shared by all runners


#: Secrets libpq (and asyncpg) also accept as URL parameters.
_SECRET_PARAMS = re.compile(r"(?<=[?&])(password|sslpassword)=[^&#]*", re.IGNORECASE)

#: URL parameters naming a file asyncpg reads for TLS (libpq's names; "system" is no file).
_TLS_FILE_PARAMS = ("sslrootcert", "sslcert", "sslkey", "sslcrl")


def redact_url(url: str) -> str:
    """The URL without its passwords, fit for an error message or a log line."""
    parts = urlsplit(url)
    if parts.password is not None:
        parts = parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@"))
    return _SECRET_PARAMS.sub(r"\1=***", urlunsplit(parts))


def check_tls_files(url: str) -> None:
    """Every certificate file the URL names is a readable PEM file (else exit code 2)."""
    for name, value in parse_qsl(urlsplit(url).query):
        if name in _TLS_FILE_PARAMS and value != "system":
            read_pem(Path(value), f"{name} of the PostgreSQL URL")


async def _init_connection(conn: asyncpg.Connection) -> None:
    # JSONB in and out as Python objects; Decimal-safe because amounts travel as strings.
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(kind, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(url: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """The application's pool; an unreachable server is one clear line (exit code 3).

    TLS is whatever the URL asks for: asyncpg reads libpq's `sslmode`, `sslrootcert`,
    `sslcert`, `sslkey` (and the PGSSL* variables), so `?sslmode=verify-full` is enough.
    """
    check_tls_files(url)
    try:
        pool = await asyncpg.create_pool(
            url, min_size=min_size, max_size=max_size, init=_init_connection, timeout=10
        )
    except asyncpg.ClientConfigurationError as err:  # e.g. an unknown sslmode
        raise UsageError(f"PostgreSQL URL {redact_url(url)} is not usable: {err}") from None
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as err:
        raise ServiceUnavailable(f"PostgreSQL at {redact_url(url)} is unreachable: {err}") from None
    assert pool is not None
    return pool


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


class MigrationError(ArrearsError):
    """The database's recorded migrations disagree with the shipped files."""


def shipped_migrations() -> list[Migration]:
    folder = resources.files("arrears.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            version, _, rest = entry.name.partition("_")
            found.append(Migration(version, rest.removesuffix(".sql"), entry.read_text("utf-8")))
    return sorted(found, key=lambda m: m.version)


async def migrate(pool: asyncpg.Pool, migrations: list[Migration] | None = None) -> list[str]:
    """Apply what is missing; return the versions applied now (empty when up to date)."""
    migrations = shipped_migrations() if migrations is None else migrations
    applied_now: list[str] = []
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
        try:
            # Only when missing: a login without CREATE (arrears_app) may still check
            # that the database is up to date.
            if await conn.fetchval("SELECT to_regclass('schema_migrations')") is None:
                await conn.execute(
                    """CREATE TABLE IF NOT EXISTS schema_migrations (
                           version text PRIMARY KEY,
                           name text NOT NULL,
                           checksum text NOT NULL,
                           applied_at timestamptz NOT NULL DEFAULT now())"""
                )
            rows = await conn.fetch("SELECT version, checksum FROM schema_migrations")
            recorded: dict[str, Any] = {r["version"]: r["checksum"] for r in rows}
            for migration in migrations:
                if migration.version in recorded:
                    if recorded[migration.version] != migration.checksum:
                        raise MigrationError(
                            f"migration {migration.version}_{migration.name}.sql was changed "
                            "after it was applied; add a new migration instead"
                        )
                    continue
                async with conn.transaction():
                    await conn.execute(migration.sql)
                    await conn.execute(
                        "INSERT INTO schema_migrations (version, name, checksum)"
                        " VALUES ($1, $2, $3)",
                        migration.version,
                        migration.name,
                        migration.checksum,
                    )
                applied_now.append(migration.version)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
    return applied_now


async def migrate_database(url: str) -> list[str]:
    """`arrears migrate`: apply what is missing through a pool of one connection."""
    pool = await create_pool(url, max_size=1)
    try:
        return await migrate(pool)
    finally:
        await pool.close()
