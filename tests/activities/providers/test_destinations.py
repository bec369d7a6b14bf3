"""Each attempt gets the one phone number or address it needs from the case's personal
data, and nothing when none is on record (no placement record, personal data purged)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from activities.contact import ContactRequest
from activities.providers.destinations import (
    PersonalDestinations,
    destination_for,
)
from domain.events import Channel, PhoneLine, Target
from tests.activities.providers.conftest import keep_personal
from tests.stored_cases import fresh_vault

PERSONAL: dict[str, Any] = {
    "debtor_name": "王小明",
    "national_id": "110101199003071234",
    "mobile": "+8613912345678",
    "home_phone": "021-55550001",
    "work_phone": None,
    "home_address": "上海市浦东新区世纪大道88号",
    "work_address": "上海市黄浦区南京东路1号",
    "contacts": [
        {"name": "王大明", "relation": "father", "phone": "+8613800000001"},
        {"name": "李红", "relation": "friend", "phone": "+8613800000002"},
    ],
}


def request(
    channel: Channel,
    target: Target,
    line: PhoneLine | None = None,
    contact_index: int | None = None,
    case_id: str = "case-D1",
) -> ContactRequest:
    return ContactRequest(
        case_id=case_id,
        attempt_key=f"{case_id}/9",
        channel=channel,
        target=target,
        planned_at=datetime(2026, 3, 3, 1, tzinfo=UTC),
        line=line,
        contact_index=contact_index,
    )


@pytest.mark.parametrize(
    ("attempt", "expected"),
    [
        (request("sms", "debtor"), {"phone": "+8613912345678"}),
        (request("call", "debtor", "mobile"), {"phone": "+8613912345678"}),
        (request("call", "debtor", "home_phone"), {"phone": "021-55550001"}),
        (request("call", "contact", contact_index=1), {"phone": "+8613800000002"}),
        (
            request("letter", "work_address"),
            {"address": "上海市黄浦区南京东路1号", "addressee": "王小明"},
        ),
        (
            request("visit", "home_address"),
            {"address": "上海市浦东新区世纪大道88号", "addressee": "王小明"},
        ),
    ],
)
def test_an_attempt_gets_only_the_line_or_address_it_names(
    attempt: ContactRequest, expected: dict[str, str]
) -> None:
    found = destination_for(PERSONAL, attempt)
    assert found is not None and found.payload() == expected


@pytest.mark.parametrize(
    "attempt",
    [
        request("call", "debtor", "work_phone"),  # no work phone on record
        request("call", "contact", contact_index=2),  # two contacts: 0 and 1
        request("call", "contact"),  # a contact call names its contact
    ],
)
def test_an_attempt_whose_line_is_not_on_record_gets_nothing(attempt: ContactRequest) -> None:
    assert destination_for(PERSONAL, attempt) is None


def test_a_destination_shows_no_value_when_printed() -> None:
    found = destination_for(PERSONAL, request("letter", "home_address"))
    assert "王小明" not in repr(found) and "世纪大道" not in str(found)


async def test_the_destination_is_read_from_the_one_case_and_gone_once_purged(
    pool: asyncpg.Pool,
) -> None:
    await keep_personal(pool, "case-D1", PERSONAL)
    await keep_personal(pool, "case-D2", {**PERSONAL, "mobile": "+8613900000002"})
    vault = fresh_vault()
    lookup = PersonalDestinations(pool, vault)
    found = await lookup.destination(request("sms", "debtor", case_id="case-D2"))
    assert found is not None and found.payload() == {"phone": "+8613900000002"}
    async with pool.acquire() as conn:
        await vault.shred(conn, ["case-D2"])
    assert await lookup.destination(request("sms", "debtor", case_id="case-D2")) is None
    assert await lookup.destination(request("sms", "debtor", case_id="case-none")) is None
