"""The contacts report (attempts by channel and outcome, right-party contacts, attempts
per case) on a small book worked out by hand below, on a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import asyncpg
import pytest

from domain.events import ContactAttempted
from tests.arrears.reports.conftest import RunReport
from tests.arrears.reports.report_story import CN_CHAMPION, bank_time, report_json, story
from tests.book_cases import Story, store_all

MAY_1, MAY_31 = date(2026, 5, 1), date(2026, 5, 31)


def tried(s: Story, at: datetime, channel: str, target: str, outcome: str) -> Story:
    return s.then(ContactAttempted, at, channel=channel, target=target, outcome=outcome,
                  planned_at=at - timedelta(minutes=5))  # fmt: skip


@pytest.fixture
async def book(pool: asyncpg.Pool) -> asyncpg.Pool:
    k1 = story("k1")
    tried(k1, bank_time(date(2026, 5, 4), 9), "call", "debtor", "no_answer")
    tried(k1, bank_time(date(2026, 5, 4), 10), "call", "debtor", "no_answer")
    tried(k1, bank_time(date(2026, 5, 5), 10), "call", "debtor", "right_party_contact")
    tried(k1, bank_time(date(2026, 5, 6), 10), "sms", "debtor", "delivered")
    k2 = story("k2")
    tried(k2, bank_time(date(2026, 5, 7), 10), "call", "debtor", "promise")
    tried(k2, bank_time(date(2026, 5, 8), 10), "call", "contact", "third_party_contact")
    # A registered contact refusing is not the debtor reached.
    tried(k2, bank_time(date(2026, 5, 9), 10), "call", "contact", "refusal")
    tried(k2, bank_time(date(2026, 5, 10), 10), "visit", "home_address", "visited")
    # 23:30 on 30 April in Shanghai (15:30 UTC): April's, outside the period.
    k3 = tried(story("k3"), datetime(2026, 4, 30, 15, 30, tzinfo=UTC), "call", "debtor",
               "right_party_contact")  # fmt: skip
    other = tried(story("o1", policy="hk-card"), bank_time(date(2026, 5, 4)), "call", "debtor",
                  "right_party_contact")  # fmt: skip
    chal = tried(story("c1", arm="challenger"), bank_time(date(2026, 5, 4)), "sms", "debtor",
                 "delivered")  # fmt: skip
    await store_all(pool, k1, k2, k3, other, chal)
    return pool


def share(n: int, d: int) -> Decimal:
    """n / d as the report gives a share: 4 decimals, half up."""
    return (Decimal(n) / d).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def row(channel: str, outcome: str, attempts: int, cases: int, rpc: int) -> dict[str, object]:
    """A row whose rates are worked out from its counts."""
    return {
        "channel": channel, "outcome": outcome, "attempts": attempts, "cases": cases,
        "right_party_contacts": rpc, "rpc_rate": share(rpc, attempts),
        "attempts_per_case": share(attempts, cases),
    }  # fmt: skip


async def test_attempts_by_channel_and_outcome_with_right_party_contacts_of_the_debtor_only(
    book: asyncpg.Pool, report: RunReport
) -> None:
    contacts = await report("contacts", MAY_1, MAY_31, "cn-card", "champion")
    rows = contacts.rows

    assert rows == [
        row("call", "no_answer", 2, 1, 0),
        row("call", "promise", 1, 1, 1),
        row("call", "refusal", 1, 1, 0),
        row("call", "right_party_contact", 1, 1, 1),
        row("call", "third_party_contact", 1, 1, 0),
        row("call", "all", 6, 2, 2),
        row("sms", "delivered", 1, 1, 0),
        row("sms", "all", 1, 1, 0),
        row("visit", "visited", 1, 1, 0),
        row("visit", "all", 1, 1, 0),
        row("all", "all", 8, 2, 2),
    ]
    everything = rows[-1]
    assert everything["rpc_rate"] == Decimal("0.2500")
    assert everything["attempts_per_case"] == Decimal("4.0000")
    assert contacts.totals == {}  # the "all" rows are the totals


async def test_every_policy_and_arm_count_when_none_is_chosen(
    book: asyncpg.Pool, report: RunReport
) -> None:
    rows = (await report("contacts", MAY_1, MAY_31)).rows

    # k1, k2, the hk-card case's right-party call and the challenger's sms.
    assert rows[-1] == row("all", "all", 10, 4, 3)


async def test_arrears_report_contacts_prints_the_rates_as_json(
    book: asyncpg.Pool, fresh_database_url: str
) -> None:
    out = await report_json(
        fresh_database_url, "contacts", "--from", "2026-05-01", "--to", "2026-05-31", *CN_CHAMPION
    )

    assert out["rows"][-1] == {
        "channel": "all", "outcome": "all", "attempts": 8, "cases": 2,
        "right_party_contacts": 2, "rpc_rate": "0.2500", "attempts_per_case": "4.0000",
    }  # fmt: skip
