"""What every page needs, built once when the console starts: settings, policy, the
database pool, the personal data vault, a Temporal client (connected on first use, so the
pages that only read PostgreSQL work while Temporal is away) and the clock (replaceable
in tests)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg
from temporalio.client import Client

from arrears.crypto.vault import PersonalVault
from arrears.settings import Settings
from domain.policy import Policy

#: A session unused this long ends; the next request signs in again.
IDLE_TIMEOUT = timedelta(minutes=30)


def wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    settings: Settings
    policy: Policy
    pool: asyncpg.Pool
    #: The one way to a case's personal data (decrypts only the case a page shows).
    vault: PersonalVault
    now: Callable[[], datetime] = wall_clock
    idle_timeout: timedelta = IDLE_TIMEOUT
    #: Set the Secure flag on cookies even for plain http (behind a TLS-ending proxy).
    secure_cookies: bool = False
    #: Given (tests, `make run`) or connected on first use.
    client: Client | None = field(default=None, repr=False)
    _connecting: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    async def temporal(self) -> Client:
        """The Temporal client; raises `ServiceUnavailable` (one clear line) when down."""
        async with self._connecting:
            if self.client is None:
                from arrears.stack.temporal import connect

                self.client = await connect(self.settings)
            return self.client
