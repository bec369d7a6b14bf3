"""Fixtures of the contact provider tests: a stand-in gateway on a real local HTTP server
(`tests.gateway`), requests with a destination, and the database and Temporal fixtures of
the neighbouring suites (a migrated pool; the time-skipping test server)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from activities.contact import ContactRequest, Destination, ProviderRequest
from tests.arrears.conftest import pool  # noqa: F401  (a fixture, used by name)
from tests.gateway import Gateway, running_gateway
from tests.stored_cases import keep_placement
from tests.workflows.conftest import env  # noqa: F401  (a fixture, used by name)

SECRET = "a-shared-secret-of-at-least-32-characters"
PHONE = "+8613912345678"
ADDRESS = "上海市浦东新区世纪大道88号"
NAME = "王小明"


@pytest.fixture
async def gateway() -> AsyncIterator[Gateway]:
    async with running_gateway(SECRET) as running:
        yield running


def call_request(key: str = "case-T1/7", phone: str = PHONE) -> ProviderRequest:
    """A call to the debtor's mobile, as the activity hands it to a provider."""
    return ProviderRequest(
        **dict(
            ContactRequest(
                case_id="case-T1",
                attempt_key=key,
                channel="call",
                target="debtor",
                planned_at=datetime(2026, 3, 3, 1, 0, tzinfo=UTC),
                line="mobile",
            )
        ),
        destination=Destination(phone=phone),
    )


async def keep_personal(db: asyncpg.Pool, case_id: str, personal: dict[str, Any]) -> None:
    """A placement record holding `personal` sealed, as the importer keeps it."""
    await keep_placement(db, case_id, case_id.removeprefix("case-"), personal)
