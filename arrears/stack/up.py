"""`arrears up`: bring the stack to a usable state, and take down what we started.

Each part is embedded unless configured: `TEMPORAL_ADDRESS` unset starts the dev server,
`DATABASE_URL` unset starts PostgreSQL. Configured services are only checked and prepared
(search attributes, migrations), never stopped by us.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from types import TracebackType
from typing import Protocol

from temporalio.client import Client
from temporalio.service import RPCError

from arrears.archive_sweep import ensure_archive_schedule
from arrears.db import create_pool, migrate, redact_url
from arrears.settings import Settings
from arrears.stack.postgres import EmbeddedPostgres
from arrears.stack.processes import ensure_writable_dir
from arrears.stack.temporal import DevServer, connect, ensure_search_attributes, set_retention


class _Stoppable(Protocol):
    async def stop(self) -> None: ...


@dataclass
class Stack:
    settings: Settings
    started: list[_Stoppable] = field(default_factory=list)
    applied_migrations: list[str] = field(default_factory=list)

    @property
    def temporal_address(self) -> str:
        return self.settings.temporal_target

    @property
    def database_url(self) -> str:
        return redact_url(self.settings.db_url)

    async def start(self) -> None:
        """Start what is embedded, then prepare both services. Safe to cancel midway."""
        settings = self.settings
        if settings.embedded_postgres or settings.embedded_temporal:
            home = ensure_writable_dir(settings.home, "data directory")
        if settings.embedded_postgres:
            postgres = EmbeddedPostgres(home, settings.pg_port)
            self.started.append(postgres)
            await postgres.start()
        if settings.embedded_temporal:
            server = DevServer(settings, home)
            self.started.append(server)
            await server.start()
        client = await connect(settings)
        await ensure_search_attributes(client, settings.temporal_namespace)
        await self._set_retention(client)
        pool = await create_pool(settings.db_url, max_size=2)
        try:
            self.applied_migrations = await migrate(pool)
        finally:
            await pool.close()
        await ensure_archive_schedule(client, settings)

    async def _set_retention(self, client: Client) -> None:
        """The namespace's retention, set explicitly. Our own dev server must take it; a
        cluster may refuse (a namespace managed by its operators, Temporal Cloud): then one
        warning line, as the archive sweep still copies every closed run within it."""
        settings = self.settings
        try:
            await set_retention(
                client, settings.temporal_namespace, settings.temporal_retention_days
            )
        except RPCError as err:
            if settings.embedded_temporal:
                raise
            print(
                f"arrears: warning: namespace {settings.temporal_namespace!r} keeps its"
                f" retention: setting it to {settings.temporal_retention_days} days was"
                f" refused ({err.status.name}: {err.message})",
                file=sys.stderr,
                flush=True,
            )

    async def stop(self) -> None:
        """Stop what we started, newest first (Temporal before the database)."""
        while self.started:
            await self.started.pop().stop()

    async def __aenter__(self) -> Stack:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
