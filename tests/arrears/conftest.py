"""Fixtures of the database tests (a migrated pool on a fresh database of its own) and of
the tests on a real Temporal dev server (one per test module)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from arrears.stack.temporal import ensure_search_attributes
from arrears.store.db import create_pool, migrate


@pytest.fixture
async def pool(fresh_database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """The application's pool (JSONB codecs) on a fresh database with every migration."""
    pool = await create_pool(fresh_database_url, max_size=4)
    await migrate(pool)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture(scope="module")
async def temporal() -> AsyncIterator[Client]:
    """A Temporal dev server with the search attributes `arrears up` registers."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
        data_converter=pydantic_data_converter,
    )
    async with env:
        await ensure_search_attributes(env.client, env.client.namespace)
        yield env.client
