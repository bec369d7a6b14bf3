"""`arrears report` as a real process against a real database (conftest's small book)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from arrears.reports.kinds.cure import DEFINITION as CURE
from tests.arrears.reports.conftest import arrears
from tests.book_cases import Story
from tests.support import free_port

JANUARY = ("--from", "2026-01-01", "--to", "2026-01-31")


async def test_json_has_the_issues_shape_with_amounts_as_two_decimal_strings(
    small_book: dict[str, Story], fresh_database_url: str
) -> None:
    code, out, err = await arrears("report", "book", *JANUARY, "--format", "json",
                                   db_url=fresh_database_url)  # fmt: skip
    assert (code, err) == (0, "")
    report = json.loads(out)
    assert list(report) == ["report", "from", "to", "generated_at", "policy", "arm", "rows",
                            "totals"]  # fmt: skip
    assert (report["report"], report["from"], report["to"]) == ("book", "2026-01-01", "2026-01-31")
    # 31 Jan: A 1000, B 2000, C 500, D 700, all phone M1 (E cured on the 25th).
    assert report["rows"] == [{"stage": "phone", "bucket": "M1", "cases": 4,
                               "principal": "4200.00", "interest": "0.00", "fees": "0.00",
                               "total": "4200.00"}]  # fmt: skip
    assert report["totals"]["total"] == "4200.00"


async def test_csv_is_the_rows_under_a_header_of_the_columns(
    small_book: dict[str, Story], fresh_database_url: str
) -> None:
    q1 = ("--from", "2026-01-01", "--to", "2026-03-31")
    code, out, _ = await arrears("report", "cure", *q1, "--format", "csv",
                                 db_url=fresh_database_url)  # fmt: skip
    rows = list(csv.reader(io.StringIO(out)))
    assert code == 0
    assert rows[0] == [c.name for c in CURE.columns]
    # M1: 5 entered, 5 judged for 30 days, 1 cured (E), a share of 0.2 to four places.
    assert rows[1][:5] == ["M1", "5", "5", "1", "0.2000"]
    assert [r[0] for r in rows[1:]] == ["M1", "M2", "M3"]


async def test_the_table_names_the_period_and_scope_and_ends_with_the_totals(
    small_book: dict[str, Story], fresh_database_url: str
) -> None:
    code, out, _ = await arrears("report", "book", *JANUARY, "--arm", "champion",
                                 db_url=fresh_database_url)  # fmt: skip
    lines = out.splitlines()
    assert code == 0
    assert "2026-01-01 .. 2026-01-31" in lines[0] and "arm champion" in lines[0]
    assert lines[1].split() == ["stage", "bucket", "cases", "principal", "interest", "fees",
                                "total"]  # fmt: skip
    # Champions on 31 Jan: A, B, C (3500.00).
    assert lines[2].split() == ["phone", "M1", "3", "3500.00", "0.00", "0.00", "3500.00"]
    assert lines[3].split()[0] == "total"


async def test_month_sets_the_period_and_the_default_ends_at_the_latest_event(
    small_book: dict[str, Story], fresh_database_url: str
) -> None:
    _, out, _ = await arrears("report", "recovery", "--month", "2026-02", "--format", "json",
                              db_url=fresh_database_url)  # fmt: skip
    february = json.loads(out)
    assert (february["from"], february["to"]) == ("2026-02-01", "2026-02-28")
    assert february["totals"]["collected"] == "2300.00"  # B 2000, A 300
    # The latest business time in the book is C's payment on 25 Mar: the period is the
    # twelve months to that bank day.
    _, out, _ = await arrears("report", "book", "--format", "json", db_url=fresh_database_url)
    default = json.loads(out)
    assert (default["from"], default["to"]) == ("2025-04-01", "2026-03-25")


async def test_out_writes_the_file_and_prints_only_its_path(
    small_book: dict[str, Story], fresh_database_url: str, tmp_path: Path
) -> None:
    target = tmp_path / "book.csv"
    code, out, _ = await arrears("report", "book", *JANUARY, "--format", "csv", "--out",
                                 str(target), db_url=fresh_database_url)  # fmt: skip
    assert (code, out) == (0, f"{target}\n")
    assert target.read_text().splitlines()[1].startswith("phone,M1,4,4200.00")
    assert [p.name for p in tmp_path.iterdir()] == ["book.csv"]  # noqa: ASYNC240 (no temp file left)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("no-such-kind",), "unknown report 'no-such-kind'"),
        (("book", "--from", "2026-02-30"), "--from '2026-02-30' is not a date"),
        (("book", "--from", "2026-03-01", "--to", "2026-02-01"), "is after --to"),
        (("book", "--month", "2026-1"), "--month '2026-1' is not a month"),
        (("book", "--month", "2026-01", "--to", "2026-02-01"), "--month sets the period"),
        (("book", "--format", "xml"), "unknown --format 'xml'"),
        (("book", "--arm", "challengr"), "unknown --arm 'challengr'"),
    ],
)
async def test_bad_usage_is_one_line_and_exit_code_2(
    fresh_database_url: str, args: tuple[str, ...], message: str
) -> None:
    code, out, err = await arrears("report", *args, db_url=fresh_database_url)
    assert (code, out) == (2, "")
    assert len(err.strip().splitlines()) == 1 and message in err


async def test_postgres_down_is_one_line_and_exit_code_3() -> None:
    url = f"postgresql://app:s3cret@127.0.0.1:{free_port()}/arrears"
    code, out, err = await arrears("report", "book", db_url=url)
    assert (code, out) == (3, "")
    assert len(err.strip().splitlines()) == 1 and "unreachable" in err
    assert "s3cret" not in err
