"""Simulated events in PostgreSQL: a scratch database for one `arrears simulate --report`
run, so the report SQL that reads the live book reads the simulated one unchanged.

Where the scratch database lives (README "Simulating a portfolio"):
- `DATABASE_URL` configured: a new database on that server (the login needs CREATEDB);
  a server that is down is exit code 3, as for every command that needs it.
- not configured: the embedded server of `arrears up` when it is running, else a
  private embedded PostgreSQL started in a temporary directory for the run (a few
  seconds), so `arrears simulate` still needs no server set up.
Either way it is migrated with the project's own migrations (the tables are exactly the
live ones) and dropped at the end, on an error, Ctrl-C or SIGTERM too
(`arrears.simulate.interrupts`).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from arrears.errors import ServiceUnavailable
from arrears.settings import Settings
from arrears.simulate.book_rows import EVENT_COLUMNS, SNAPSHOT_COLUMNS, SimulatedCase
from arrears.stack.postgres import EmbeddedPostgres
from arrears.store.db import Conn, create_pool, migrate, redact_url

#: Rows sent per COPY: large enough that a round trip costs little per row, small enough
#: that a book of any size is never held in memory whole.
BATCH = 5000


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


async def _reachable(url: str) -> bool:
    try:
        conn = await asyncpg.connect(url, timeout=5)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return False
    await conn.close()
    return True


@contextlib.asynccontextmanager
async def scratch_database(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a new, migrated database, dropped (or its private server removed) after."""
    if settings.database_url is not None or await _reachable(settings.db_url):
        async with _database_on(settings.db_url) as pool:
            yield pool
        return
    async with _private_server() as url, _pool(url) as pool:
        yield pool


@contextlib.asynccontextmanager
async def _database_on(server_url: str) -> AsyncIterator[asyncpg.Pool]:
    name = f"arrears_sim_{uuid.uuid4().hex[:12]}"
    try:
        admin = await asyncpg.connect(server_url, timeout=10)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as err:
        raise ServiceUnavailable(
            f"PostgreSQL at {redact_url(server_url)} is unreachable (a simulated report "
            f"needs a scratch database there): {err}"
        ) from None
    try:
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        except asyncpg.InsufficientPrivilegeError:
            raise ServiceUnavailable(
                f"PostgreSQL at {redact_url(server_url)}: this login may not CREATE DATABASE "
                "(a simulated report needs a scratch database; unset DATABASE_URL to use a "
                "private embedded server)"
            ) from None
        try:
            async with _pool(_with_database(server_url, name)) as pool:
                yield pool
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@contextlib.asynccontextmanager
async def _private_server() -> AsyncIterator[str]:
    folder = Path(tempfile.mkdtemp(prefix="arrears-sim-"))
    server = EmbeddedPostgres(folder, _free_port())
    try:
        await server.start()
        yield server.url
    finally:
        # Its data is deleted next, so no checkpoint is worth waiting for: SIGQUIT is
        # PostgreSQL's immediate shutdown (a fraction of a second, where the fast
        # shutdown of `server.stop()` took about two).
        try:
            if server.child is not None:
                await server.child.stop(signal.SIGQUIT, grace_seconds=10)
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def _pool(url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(url, max_size=2)
    try:
        await migrate(pool)
        yield pool
    except BaseException:
        # An error, Ctrl-C or SIGTERM may have struck mid-COPY: a graceful close would
        # wait for that connection; the database is dropped (or its server stopped) next.
        pool.terminate()
        raise
    await pool.close()


async def load_cases(pool: asyncpg.Pool, cases: Iterable[SimulatedCase]) -> int:
    """COPY every case's rows into `case_events` and `case_snapshots`, `BATCH` rows at a
    time as `cases` yields them; the number of cases loaded."""
    loaded = 0
    events: list[tuple[object, ...]] = []
    snapshots: list[tuple[object, ...]] = []
    async with pool.acquire() as conn, _binary_jsonb(conn):
        for case in cases:
            if case.refused is not None:
                continue
            loaded += 1
            events += case.events
            snapshots += case.snapshots
            if len(events) + len(snapshots) >= BATCH:
                await _copy(conn, events, snapshots)
                events, snapshots = [], []
        await _copy(conn, events, snapshots)
    return loaded


@contextlib.asynccontextmanager
async def _binary_jsonb(conn: Conn) -> AsyncIterator[None]:
    """COPY sends rows in PostgreSQL's binary format, which has no place for the pool's
    text codec of JSONB: for the load, the binary one (a version byte, then the same
    `json.dumps` text the live store sends); the pool's own codec again after."""
    await conn.set_type_codec(
        "jsonb", encoder=_jsonb_binary, decoder=_jsonb_text, schema="pg_catalog", format="binary"
    )
    try:
        yield
    finally:
        await conn.set_type_codec(
            "jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


def _jsonb_binary(value: object) -> bytes:
    return b"\x01" + json.dumps(value).encode()


def _jsonb_text(data: bytes) -> object:
    return json.loads(data[1:])


async def _copy(
    conn: Conn, events: list[tuple[object, ...]], snapshots: list[tuple[object, ...]]
) -> None:
    if events:
        await conn.copy_records_to_table("case_events", records=events, columns=EVENT_COLUMNS)
    if snapshots:
        await conn.copy_records_to_table(
            "case_snapshots", records=snapshots, columns=SNAPSHOT_COLUMNS
        )
