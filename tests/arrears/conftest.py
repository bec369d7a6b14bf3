"""Fixtures of the database tests: a migrated pool on a fresh database of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

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
