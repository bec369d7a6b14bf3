"""Finding a case by id, phone or name, against placement records on a real PostgreSQL
whose personal data is sealed: phones and names are matched on keyed hashes."""

from __future__ import annotations

import logging

import asyncpg
import pytest

from arrears.store.search import SearchTermError, search
from tests.book_cases import Story, store_all
from tests.stored_cases import fresh_vault, keep_placement

PEOPLE = {
    "6225000000000001": {"debtor_name": "王小明", "mobile": "+86 138-0013-8000",
                         "home_phone": "010-6552 1234"},
    "6225000000000002": {"debtor_name": "Ada Lovelace", "mobile": "13900139000"},
    "6225000000000003": {"debtor_name": "Ada Byron", "mobile": "13700137000"},
}  # fmt: skip


@pytest.fixture
async def records(pool: asyncpg.Pool) -> asyncpg.Pool:
    await store_all(
        pool,
        Story("6225000000000001", balance="1200.00"),
        Story("6225000000000002", outcome="cured"),
        Story("6225000000000003"),
    )
    for account_id, personal in PEOPLE.items():
        await keep_placement(pool, f"case-{account_id}", account_id, personal)
    return pool


async def found(pool: asyncpg.Pool, term: str) -> list[tuple[str, str]]:
    async with pool.acquire() as conn:
        return [(f.case_id, f.matched) for f in await search(conn, term, fresh_vault())]


async def test_a_case_id_or_an_account_id_finds_its_case(records: asyncpg.Pool) -> None:
    assert await found(records, " case-6225000000000002 ") == [("case-6225000000000002", "case")]
    assert await found(records, "6225000000000003") == [("case-6225000000000003", "account")]


async def test_a_phone_number_is_matched_on_its_digits_whatever_the_formatting(
    records: asyncpg.Pool,
) -> None:
    assert await found(records, "138 0013 8000") == [("case-6225000000000001", "phone")]
    assert await found(records, "(010) 65521234") == [("case-6225000000000001", "phone")]
    assert await found(records, "+86 13900139000") == [("case-6225000000000002", "phone")]
    assert await found(records, "0013 8001") == []  # the end of no number


async def test_a_full_name_matches_whatever_its_case_and_spacing_and_a_part_does_not(
    records: asyncpg.Pool,
) -> None:
    assert await found(records, "王小明") == [("case-6225000000000001", "name")]
    assert await found(records, "王 小明") == [("case-6225000000000001", "name")]
    assert await found(records, "  ada   LOVELACE ") == [("case-6225000000000002", "name")]
    assert await found(records, "ＡＤＡ Ｂｙｒｏｎ") == [
        ("case-6225000000000003", "name")
    ]  # full width
    assert await found(records, "小明") == []  # a part of a name is not kept to search by
    assert await found(records, "Ada") == []


async def test_two_cases_of_the_same_name_are_found_open_cases_first(
    records: asyncpg.Pool,
) -> None:
    await store_all(records, Story("6225000000000004"))
    await keep_placement(records, "case-6225000000000004", "6225000000000004",
                         {"debtor_name": "ada lovelace"})  # fmt: skip
    assert await found(records, "Ada Lovelace") == [
        ("case-6225000000000004", "name"),
        ("case-6225000000000002", "name"),  # the closed case after the open one
    ]


async def test_a_result_carries_no_personal_data_only_the_cases_figures(
    records: asyncpg.Pool,
) -> None:
    async with records.acquire() as conn:
        (hit,) = await search(conn, "13700137000", fresh_vault())
    assert (hit.stage, hit.bucket, hit.outcome) == ("phone", "M1", None)
    assert not set(PEOPLE["6225000000000003"].values()) & set(map(str, vars(hit).values()))


async def test_purged_records_are_found_by_id_only(records: asyncpg.Pool) -> None:
    async with records.acquire() as conn:
        await fresh_vault().shred(conn, ["case-6225000000000001"])
    assert await found(records, "13800138000") == []
    assert await found(records, "王小明") == []
    assert await found(records, "6225000000000001") == [("case-6225000000000001", "account")]


async def test_a_term_too_short_is_refused_and_never_logged(
    records: asyncpg.Pool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SearchTermError) as refused:
        await found(records, "王")
    assert "王" not in str(refused.value)
    await found(records, "王小明")
    assert "王" not in caplog.text
