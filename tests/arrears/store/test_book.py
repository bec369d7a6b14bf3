"""The Book's figures on a real PostgreSQL, against a small book counted by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import asyncpg

from arrears.store.book import Cell, Contacts, Day, Recovered, book
from domain.events import CaseClosed, ContactAttempted, Placed, Recalled, StageChanged
from tests.book_cases import NOW, TODAY, Story, store_all

D = Decimal
DAY = timedelta(days=1)
SHANGHAI = "Asia/Shanghai"


def attempt(story: Story, at: datetime, channel: str, outcome: str) -> Story:
    return story.then(
        ContactAttempted, at, channel=channel, target="debtor", outcome=outcome, planned_at=at,
        line="mobile" if channel in ("call", "sms") else None, recording_ref="r",
    )  # fmt: skip


async def test_open_cases_are_counted_and_summed_by_stage_and_bucket(pool: asyncpg.Pool) -> None:
    await store_all(
        pool,
        Story("1", stage="phone", bucket="M1", balance="100.10"),
        Story("2", stage="phone", bucket="M1", balance="200.20"),
        Story("3", stage="phone", bucket="M2", balance="5.00"),
        Story("4", stage="letter", bucket="M3", balance="1000.00"),
        Story("5", stage="letter", bucket="M3", balance="9999.00", outcome="cured"),
    )
    async with pool.acquire() as conn:
        figures = await book(conn, today=TODAY, timezone=SHANGHAI)
    assert figures.open_cases == [
        Cell("letter", "M3", 1, D("1000.00")),
        Cell("phone", "M1", 2, D("300.30")),
        Cell("phone", "M2", 1, D("5.00")),
    ]
    assert figures.open_total == (4, D("1305.30"))


async def test_cases_entering_curing_and_closing_are_counted_on_the_banks_day_of_the_event(
    pool: asyncpg.Pool,
) -> None:
    # 2026-06-09 17:30 UTC is 01:30 on 2026-06-10 in Shanghai.
    late = datetime(2026, 6, 9, 17, 30, tzinfo=UTC)
    await store_all(
        pool,
        Story("1", opened_at=late),
        Story("2", opened_at=late - DAY),
        Story("3", opened_at=NOW - 40 * DAY).then(CaseClosed, late, outcome="cured"),
        Story("4", opened_at=NOW - 40 * DAY).then(CaseClosed, late, outcome="settled"),
        Story("5", opened_at=NOW - 40 * DAY).then(CaseClosed, NOW - 29 * DAY, outcome="cured"),
        # Closed before the window: not counted.
        Story("6", opened_at=NOW - 40 * DAY).then(CaseClosed, NOW - 31 * DAY, outcome="cured"),
    )
    async with pool.acquire() as conn:
        flow = (await book(conn, today=TODAY, timezone=SHANGHAI)).flow
    assert [d.day for d in flow] == [TODAY - n * DAY for n in range(29, -1, -1)]
    busy = {d.day: d for d in flow if d.entering or d.curing or d.closing}
    assert busy == {
        TODAY - 29 * DAY: Day(TODAY - 29 * DAY, 0, 1, 0),
        date(2026, 6, 9): Day(date(2026, 6, 9), 1, 0, 0),
        TODAY: Day(TODAY, 1, 1, 1),
    }


async def test_recovery_is_credited_to_the_stage_and_agency_the_case_was_in_when_paid(
    pool: asyncpg.Pool,
) -> None:
    story = Story("1", opened_at=NOW - 200 * DAY).paid(NOW - 20 * DAY, "100.00")
    story.then(StageChanged, NOW - 15 * DAY, stage="outsourcing", previous="reminder",
               reason="bucket")  # fmt: skip
    story.then(Placed, NOW - 15 * DAY, agency="agency-b", hand="first",
               commission_rate=D("0.20"), term_ends=NOW + 75 * DAY)  # fmt: skip
    story.paid(NOW - 10 * DAY, "250.00", unapplied="50.00")
    story.then(Recalled, NOW - 5 * DAY, agency="agency-b", hand="first", reason="recall")
    story.paid(NOW - 2 * DAY, "30.00")
    story.paid(NOW - 40 * DAY, "999.00")  # before the 30-day window
    other = Story("2").paid(NOW - DAY, "70.00")
    await store_all(pool, story, other)
    async with pool.acquire() as conn:
        figures = await book(conn, today=TODAY, timezone=SHANGHAI)
    assert figures.recovered_by_stage == [
        Recovered("outsourcing", D("230.00"), 2),
        Recovered("reminder", D("170.00"), 2),
    ]
    assert figures.recovered_by_agency == [
        Recovered("agency-b", D("200.00"), 1),
        Recovered(None, D("200.00"), 3),
    ]


async def test_contact_attempts_are_counted_by_channel_and_outcome_within_the_window(
    pool: asyncpg.Pool,
) -> None:
    story = Story("1")
    for at, channel, outcome in [
        (NOW - DAY, "call", "no_answer"),
        (NOW - DAY, "call", "no_answer"),
        (NOW - 2 * DAY, "call", "right_party_contact"),
        (NOW - 3 * DAY, "sms", "delivered"),
        (NOW - 31 * DAY, "sms", "delivered"),  # outside the 30 days
    ]:
        attempt(story, at, channel, outcome)
    await story.store(pool)
    async with pool.acquire() as conn:
        figures = await book(conn, today=TODAY, timezone=SHANGHAI)
    assert figures.contacts == [
        Contacts("call", "no_answer", 2),
        Contacts("call", "right_party_contact", 1),
        Contacts("sms", "delivered", 1),
    ]
