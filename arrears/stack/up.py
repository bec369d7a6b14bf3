"""`arrears up`: bring the stack to a usable state, and take down what we started.

Each part is embedded unless configured: `TEMPORAL_ADDRESS` unset starts the dev server,
`DATABASE_URL` unset starts PostgreSQL. Configured services are only checked and prepared
(search attributes, migrations), never stopped by us.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Protocol

from temporalio.service import RPCError

from arrears.crypto.existing import seal_plaintext_left
from arrears.crypto.keyring import ensure_key_file
from arrears.settings import Settings
from arrears.stack.postgres import EmbeddedPostgres
from arrears.stack.processes import ensure_writable_dir
from arrears.stack.temporal import DevServer, connect, ensure_search_attributes, set_retention
from arrears.store.archive_sweep import ensure_archive_schedule
from arrears.store.db import create_pool, migrate, redact_url


class _Stoppable(Protocol):
    async def stop(self) -> None: ...


@dataclass
class Stack:
    settings: Settings
    started: list[_Stoppable] = field(default_factory=list)
    applied_migrations: list[str] = field(default_factory=list)
    created_key_file: Path | None = None
    #: Plaintext placement records (written before migration 0014) sealed by this start.
    encrypted_records: int = 0

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
            # The embedded default needs a master key for personal data (issue 16): made
            # here once, mode 0600; a configured database brings its own key.
            self.created_key_file = ensure_key_file(os.environ, home)
            postgres = EmbeddedPostgres(home, settings.pg_port)
            self.started.append(postgres)
            await postgres.start()
        if settings.embedded_temporal:
            server = DevServer(settings, home)
            self.started.append(server)
            await server.start()
        client = await connect(settings)
        await ensure_search_attributes(client, settings.temporal_namespace)
        await self._cluster_may_refuse(
            f"namespace {settings.temporal_namespace!r} keeps its retention: setting it to"
            f" {settings.temporal_retention_days} days",
            set_retention(client, settings.temporal_namespace, settings.temporal_retention_days),
        )
        pool = await create_pool(settings.db_url, max_size=2)
        try:
            self.applied_migrations = await migrate(pool)
            # Where an upgrade lands: seal what 0014 found in plaintext (arrears.crypto).
            self.encrypted_records = await seal_plaintext_left(pool, os.environ, settings.home)
        finally:
            await pool.close()
        await self._cluster_may_refuse(
            "the archive sweep is not scheduled (a worker will try again): creating it",
            ensure_archive_schedule(client, settings),
        )

    async def _cluster_may_refuse(self, what: str, step: Awaitable[None]) -> None:
        """A namespace setting that our own dev server must take, but that a cluster may
        refuse (its operators own the namespace; an API key without the right): one
        warning line then, not a failure. The archive still copies every closed run, and
        the warning says what to ask the cluster's operators for."""
        try:
            await step
        except RPCError as err:
            if self.settings.embedded_temporal:
                raise
            print(
                f"arrears: warning: {what} was refused ({err.status.name}: {err.message})",
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
