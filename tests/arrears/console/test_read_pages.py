"""The Book, Worklists and Search pages through the real app (FastAPI over httpx's ASGI
transport, signed in through /login) on a real PostgreSQL holding a small book."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from decimal import Decimal

import pytest

from domain.events import ContactAttempted, HoldStarted, PromiseBroken, PromiseMade
from tests.arrears.console.conftest import Console, csrf_token
from tests.book_cases import NOW, TODAY, Story, store_all
from tests.stored_cases import keep_placement

DAY = timedelta(days=1)
PHONE = "+86 138-0013-8000"


def broken_promise(account_id: str, balance: str) -> Story:
    story = Story(account_id, balance=balance)
    story.then(PromiseMade, NOW - 5 * DAY, amount=Decimal("100.00"), due=TODAY - 2 * DAY,
               pause_until=NOW)  # fmt: skip
    return story.then(PromiseBroken, NOW - DAY, amount=Decimal("100.00"), paid=Decimal("0"))


@pytest.fixture
async def book(console: Console) -> Console:
    console.clock.at = NOW
    stories = [broken_promise(f"70{n:02d}", f"{1000 + n}.00") for n in range(1, 56)]
    disputed = Story("8001", stage="letter", bucket="M3", balance="2500.00")
    disputed.then(HoldStarted, NOW - DAY, kind="dispute")
    disputed.then(
        ContactAttempted, NOW - DAY, channel="call", target="debtor", outcome="dispute",
        planned_at=NOW - DAY, line="mobile", recording_ref="r",
    )  # fmt: skip
    await store_all(console.services.pool, *stories, disputed)
    await keep_placement(
        console.services.pool, "case-8001", "8001", {"debtor_name": "王小明", "mobile": PHONE}
    )
    return console


def case_links(html: str) -> list[str]:
    return re.findall(r'href="/cases/([^"]+)"', html)


async def test_the_book_shows_a_manager_the_open_cases_and_refreshes_itself(
    book: Console,
) -> None:
    manager = await book.signed_in("manager")
    page = await manager.get("/book")
    assert page.status_code == 200
    # The cn-card profile works in Chinese. 55 broken-promise cases at 1001..1055 (55 x
    # 1028 = 56,540.00) plus the disputed 2,500.00.
    assert "在催案件 56 件，余额 ¥59,040.00" in page.text
    assert 'data-testid="cell-phone-M1">55<' in page.text
    assert 'data-testid="cell-letter-M3">1<' in page.text
    assert 'data-refresh="60"' in page.text and "<svg" in page.text


async def test_the_book_speaks_chinese_to_a_user_who_chose_it(book: Console) -> None:
    manager = await book.signed_in("manager")
    first = await manager.get("/book")
    await manager.post(
        "/language", data={"language": "zh_CN", "csrf_token": csrf_token(first.text)}
    )
    page = await manager.get("/book")
    assert "在催案件 56 件" in page.text and "联系到本人" not in page.text
    assert "异议" in page.text  # the dispute outcome in the contact table


async def test_a_collector_may_not_open_the_book_and_an_auditor_no_worklist(book: Console) -> None:
    assert (await (await book.signed_in("collector")).get("/book")).status_code == 403
    assert (await (await book.signed_in("auditor")).get("/worklists")).status_code == 403


async def test_the_worklists_count_each_list_and_a_list_opens_its_cases(book: Console) -> None:
    supervisor = await book.signed_in("supervisor")
    index = await supervisor.get("/worklists")
    assert 'data-testid="count-promises_broken">55<' in index.text
    assert 'data-testid="count-open_disputes">1<' in index.text
    disputes = await supervisor.get("/worklists/open_disputes")
    assert case_links(disputes.text) == ["case-8001"]


async def test_a_worklist_pages_sorts_and_filters_by_get_parameters(book: Console) -> None:
    collector = await book.signed_in("collector")
    first = await collector.get(
        "/worklists/promises_broken", params={"sort": "balance", "desc": "1"}
    )
    assert case_links(first.text)[:2] == ["case-7055", "case-7054"]
    assert len(case_links(first.text)) == 50 and "第 1 页，共 2 页" in first.text
    second = await collector.get(
        "/worklists/promises_broken", params={"sort": "balance", "desc": "1", "page": "2"}
    )
    assert case_links(second.text) == [f"case-70{n:02d}" for n in range(5, 0, -1)]
    letters = await collector.get("/worklists/promises_broken", params={"stage": "letter"})
    assert case_links(letters.text) == []


@pytest.mark.parametrize(
    "params", [{"stage": "nowhere"}, {"sort": "debtor_name"}, {"page": "0"}, {"bucket": "M9"}]
)
async def test_a_worklist_refuses_filter_values_it_does_not_know(
    book: Console, params: dict[str, str]
) -> None:
    supervisor = await book.signed_in("supervisor")
    assert (await supervisor.get("/worklists/promises_broken", params=params)).status_code == 400
    assert (await supervisor.get("/worklists/no_such_list")).status_code == 404


async def test_search_finds_a_case_by_phone_by_post_and_never_logs_the_number(
    book: Console, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    collector = await book.signed_in("collector")
    form = await collector.get("/search")
    found = await collector.post(
        "/search", data={"term": "13800138000", "csrf_token": csrf_token(form.text)}
    )
    assert found.status_code == 200 and case_links(found.text) == ["case-8001"]
    assert "13800138000" not in str(found.url) and "13800138000" not in caplog.text
    assert "王小明" not in found.text  # results carry no personal data


async def test_search_without_the_forms_token_is_refused_and_a_short_term_explained(
    book: Console,
) -> None:
    collector = await book.signed_in("collector")
    assert (await collector.post("/search", data={"term": "8001"})).status_code == 403
    assert (await collector.get("/search", params={"term": "8001"})).text.count("case-8001") == 0
    form = await collector.get("/search")
    short = await collector.post(
        "/search", data={"term": "王", "csrf_token": csrf_token(form.text)}
    )
    assert short.status_code == 422 and 'data-testid="search-error"' in short.text
