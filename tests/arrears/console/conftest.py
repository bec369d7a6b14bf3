"""Fixtures of the console tests: the real app (FastAPI, in process through httpx's ASGI
transport) over a fresh migrated database, one user per role, and a clock the test moves.

`console.signed_in(role)` is an httpx client that signed in through the real `/login`
form (CSRF token and all), so every test goes through the same door as a person.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from arrears.console.app import create_app
from arrears.console.services import Services
from arrears.people.users import add_user
from arrears.policies import load_policy
from arrears.settings import Settings
from tests.stored_cases import fresh_vault

PASSWORD = "correct horse battery staple"
ROLES = ("collector", "supervisor", "manager", "auditor")
BASE = "http://console.test"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def user_id(role: str) -> str:
    return f"t-{role}"


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page (every form of a page carries the same)."""
    found = _CSRF.search(html)
    assert found, "the page has no form with a csrf_token"
    return found.group(1)


@dataclass
class Clock:
    at: datetime = field(default_factory=lambda: datetime(2026, 6, 1, 2, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta) -> None:
        self.at += delta


@dataclass
class Console:
    services: Services
    clock: Clock
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    def client(self, address: str = "127.0.0.1") -> httpx.AsyncClient:
        app = create_app(self.services.settings, services=self.services)
        transport = httpx.ASGITransport(app=app, client=(address, 50000))
        client = httpx.AsyncClient(transport=transport, base_url=BASE)
        self.clients.append(client)
        return client

    async def sign_in(
        self, client: httpx.AsyncClient, username: str, password: str = PASSWORD
    ) -> httpx.Response:
        page = await client.get("/login")
        return await client.post(
            "/login",
            data={"username": username, "password": password, "csrf_token": csrf_token(page.text)},
        )

    async def signed_in(self, role: str) -> httpx.AsyncClient:
        client = self.client()
        response = await self.sign_in(client, user_id(role))
        assert response.status_code == 303, response.text
        return client


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def console(pool: asyncpg.Pool, clock: Clock) -> AsyncIterator[Console]:
    """The console over a fresh database holding one active user per role."""
    async with pool.acquire() as conn:
        for role in ROLES:
            await add_user(conn, user_id(role), role, f"Test {role}", PASSWORD, clock())
    services = Services(
        settings=Settings(),
        policy=load_policy("cn-card"),
        pool=pool,
        vault=fresh_vault(),
        now=clock,
    )
    console = Console(services=services, clock=clock)
    try:
        yield console
    finally:
        for client in console.clients:
            await client.aclose()
