"""Fixtures of the people tests: a connection to a fresh migrated database, a moment."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from arrears.store.db import Conn

#: A password that meets the rules; each test's users have it unless they say otherwise.
PASSWORD = "correct horse battery staple"
#: The moment every test starts at (the rules take `now`; no test reads the clock).
T0 = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
async def conn(pool: asyncpg.Pool) -> AsyncIterator[Conn]:
    async with pool.acquire() as conn:
        yield conn
