"""The Book's reports page (/book/reports) through the real app on a real PostgreSQL: its
figures are the report runner's for the last 12 months, in the viewer's language."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from arrears.console.i18n import Formats
from arrears.console.pages.book_reports import percent, period
from arrears.reports.run import ReportQuery, run_report
from domain.events import ContactAttempted
from tests.arrears.console.conftest import Console
from tests.book_cases import NOW, TODAY, Story, store_all

DAY = timedelta(days=1)


def called(story: Story, days_ago: int, outcome: str) -> Story:
    at = NOW - days_ago * DAY
    return story.then(ContactAttempted, at, channel="call", target="debtor", outcome=outcome,
                      planned_at=at, line="mobile", recording_ref="r")  # fmt: skip


@pytest.fixture
async def book(console: Console) -> Console:
    console.clock.at = NOW
    stories = []
    for n in range(1, 6):
        story = Story(f"90{n:02d}", opened_at=NOW - 40 * DAY, balance=f"{n}000.00")
        called(story, 30, "right_party_contact" if n % 2 else "no_answer")
        called(story, 20, "no_answer")
        stories.append(story.paid(NOW - n * DAY, f"{n}00.25"))
    await store_all(console.services.pool, *stories)
    return console


async def report(console: Console, kind: str) -> dict[str, object]:
    start, end = period(TODAY)
    query = ReportQuery(kind=kind, date_from=start, date_to=end, bank_timezone="Asia/Shanghai",
                        generated_at=NOW)  # fmt: skip
    async with console.services.pool.acquire() as conn:
        return (await run_report(conn, query)).model_dump()


async def test_the_reports_page_shows_the_report_runners_figures_for_the_last_year(
    book: Console,
) -> None:
    page = await (await book.signed_in("manager")).get("/book/reports")
    assert page.status_code == 200
    fmt = Formats("zh_CN", "CNY", "Asia/Shanghai")  # the cn-card profile's locale
    recovery = await report(book, "recovery")
    collected = sum(r["collected"] for r in recovery["rows"] if r["section"] == "stage")
    assert collected == Decimal("1501.25")  # 100.25 + 200.25 + ... + 500.25
    assert f"期间回收合计：{fmt.money(collected)}" in page.text
    contacts = await report(book, "contacts")
    (call,) = [r for r in contacts["rows"] if r["channel"] == "call" and r["outcome"] == "all"]
    assert call["rpc_rate"] == Decimal("0.3")  # 3 right-party contacts of 10 calls
    assert f"电话: {percent(call['rpc_rate'], fmt)}" in page.text
    assert "<svg" in page.text and "迁徙率" in page.text


async def test_the_book_links_its_reports_and_a_collector_may_not_open_them(
    book: Console,
) -> None:
    manager = await book.signed_in("manager")
    assert 'href="/book/reports"' in (await manager.get("/book")).text
    assert (await (await book.signed_in("collector")).get("/book/reports")).status_code == 403
