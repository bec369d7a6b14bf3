"""Fixtures shared by every test: real servers, started once per session.

PostgreSQL: `DATABASE_URL` when set (CI against a real server), else the embedded server
under a temporary directory. Each test that writes gets a database of its own.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from arrears.stack.postgres import EmbeddedPostgres
from arrears.stack.temporal import install_runtime
from tests.support import free_port

# The SDK core's own log lines go through Python logging, as in the CLI, not to stdout.
install_runtime()


@pytest.fixture(scope="session")
def session_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("session")


@pytest.fixture(scope="session")
async def postgres_server_url(session_tmp: Path) -> AsyncIterator[str]:
    """A maintenance URL (database `postgres`) of a real PostgreSQL server."""
    configured = os.environ.get("DATABASE_URL")
    if configured:
        yield configured
        return
    server = EmbeddedPostgres(session_tmp / "pg", free_port())
    (session_tmp / "pg").mkdir()
    await server.start()
    try:
        yield server.url.rsplit("/", 1)[0] + "/postgres"
    finally:
        await server.stop()


@pytest.fixture
async def fresh_database_url(postgres_server_url: str) -> AsyncIterator[str]:
    """A new, empty database for one test, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield postgres_server_url.rsplit("/", 1)[0] + f"/{name}"
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No inherited configuration: every test states the settings it relies on."""
    for name in list(os.environ):
        if name.startswith("ARREARS_") or name in ("TEMPORAL_ADDRESS", "DATABASE_URL"):
            monkeypatch.delenv(name)
    yield
