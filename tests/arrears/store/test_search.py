"""Finding a case by id, phone or name, against placement records on a real PostgreSQL."""

from __future__ import annotations

import logging

import asyncpg
import pytest

from arrears.store.search import SearchTermError, search
from tests.book_cases import Story, store_all

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
        await pool.execute(
            "INSERT INTO placement_records (case_id, account_id, personal, facts, source_file,"
            " source_line) VALUES ($1, $2, $3, '{}', 'sha', 2)",
            f"case-{account_id}", account_id, personal,
        )  # fmt: skip
    return pool


async def found(pool: asyncpg.Pool, term: str) -> list[tuple[str, str]]:
    async with pool.acquire() as conn:
        return [(f.case_id, f.matched) for f in await search(conn, term)]


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


async def test_a_name_matches_any_part_open_cases_first(records: asyncpg.Pool) -> None:
    assert await found(records, "小明") == [("case-6225000000000001", "name")]
    assert await found(records, "ada love") == [("case-6225000000000002", "name")]
    assert await found(records, "ADA") == [  # the closed case after the open one
        ("case-6225000000000003", "name"),
        ("case-6225000000000002", "name"),
    ]


async def test_a_result_carries_no_personal_data_only_the_cases_figures(
    records: asyncpg.Pool,
) -> None:
    async with records.acquire() as conn:
        (hit,) = await search(conn, "13700137000")
    assert (hit.stage, hit.bucket, hit.outcome) == ("phone", "M1", None)
    assert not set(PEOPLE["6225000000000003"].values()) & set(map(str, vars(hit).values()))


async def test_purged_records_are_found_by_id_only(records: asyncpg.Pool) -> None:
    await records.execute(
        "UPDATE placement_records SET personal = NULL WHERE case_id = 'case-6225000000000001'"
    )
    assert await found(records, "13800138000") == []
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
