"""Reading a bank's placement file (CONTRACTS.md §1): CSV or JSON Lines, streamed, with
the line number of every record, bad rows refused one by one and bad files as a whole.

Line numbers follow the contract: line 1 of a CSV file is its header row; the first record
of a JSON Lines file is line 1. Numbers are physical lines, as an editor shows them.
"""

from __future__ import annotations

import json
import re
import tracemalloc
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from arrears.intake.placement_file import PlacementFileError, Record, read_placements
from arrears.intake.sample import write_sample

HEADER = (
    "account_id,debtor_name,mobile,credit_limit,principal,interest,fees,statement_day,"
    "oldest_unpaid_due_date,unpaid_minimum,home_address"
)
HEADER_FIELDS = 11
BOM = b"\xef\xbb\xbf"


def csv_row(n: int, address: str = "") -> str:
    """A valid CSV record for account ACC-00000n (`address` is put in verbatim)."""
    return (
        f"ACC-{n:06d},Debtor {n},+8613900000{n:03d},5000.00,1000.00,10.00,5.00,10,"
        f"2026-03-02,101.50,{address}"
    )


def json_row(n: int) -> str:
    """A valid JSON Lines record for account ACC-00000n, amounts quoted."""
    return json.dumps(
        {
            "account_id": f"ACC-{n:06d}",
            "debtor_name": f"Debtor {n}",
            "mobile": f"+8613900000{n:03d}",
            "credit_limit": "5000.00",
            "principal": "1000.00",
            "interest": "10.00",
            "fees": "5.00",
            "statement_day": 10,
            "oldest_unpaid_due_date": "2026-03-02",
            "unpaid_minimum": "101.50",
        }
    )


def write(tmp_path: Path, name: str, content: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def summary(records: list[Record]) -> list[tuple[int, str | None]]:
    """(line, account id of a good row or None for a refused one), in file order."""
    return [(r.line, r.row.account_id if r.row is not None else None) for r in records]


def refusal(path: Path) -> PlacementFileError:
    with pytest.raises(PlacementFileError) as refused:
        list(read_placements(path))
    assert refused.value.exit_code == 2
    return refused.value


# --- CSV -----------------------------------------------------------------------------------


def test_a_csv_file_saved_with_a_byte_order_mark_reads_like_one_without(tmp_path: Path) -> None:
    path = write(tmp_path, "bom.csv", BOM + f"{HEADER}\n{csv_row(1)}\n".encode())

    records = list(read_placements(path))

    assert summary(records) == [(2, "ACC-000001")]
    assert records[0].errors == ()
    assert records[0].row is not None
    assert records[0].row.debtor_name == "Debtor 1"


def test_csv_records_are_numbered_from_line_2_because_the_header_is_line_1(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "p.csv", "\n".join([HEADER, csv_row(1), csv_row(2), csv_row(3)]) + "\n")

    assert summary(list(read_placements(path))) == [
        (2, "ACC-000001"),
        (3, "ACC-000002"),
        (4, "ACC-000003"),
    ]


def test_a_quoted_address_over_three_lines_makes_the_next_record_start_three_lines_later(
    tmp_path: Path,
) -> None:
    address = '"Room 1, Block 2\nSome Road 3\nSome City"'
    lines = [HEADER, csv_row(1), csv_row(2, address), csv_row(3)]
    path = write(tmp_path, "p.csv", "\n".join(lines) + "\n")

    records = list(read_placements(path))

    # line 1 header, 2 record 1, 3-5 record 2 (three physical lines), 6 record 3
    assert summary(records) == [(2, "ACC-000001"), (3, "ACC-000002"), (6, "ACC-000003")]
    assert records[1].row is not None
    assert records[1].row.home_address == "Room 1, Block 2\nSome Road 3\nSome City"


def test_csv_files_with_windows_line_endings_are_numbered_the_same(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", "\r\n".join([HEADER, csv_row(1), csv_row(2)]) + "\r\n")

    assert summary(list(read_placements(path))) == [(2, "ACC-000001"), (3, "ACC-000002")]


def test_a_csv_row_that_is_not_utf8_is_refused_and_the_rows_after_it_are_read(
    tmp_path: Path,
) -> None:
    bad = csv_row(2).replace("Debtor 2", "Debtor \xff").encode("latin-1")  # 0xFF: never UTF-8
    content = f"{HEADER}\n{csv_row(1)}\n".encode() + bad + f"\n{csv_row(3)}\n".encode()
    path = write(tmp_path, "p.csv", content)

    records = list(read_placements(path))

    assert summary(records) == [(2, "ACC-000001"), (3, None), (4, "ACC-000003")]
    ((column, reason),) = records[1].errors
    assert column == ""
    assert "UTF-8" in reason


@pytest.mark.parametrize(
    ("ragged", "fields"),
    [
        pytest.param("ACC-000002,Debtor 2,+8613900000002", 3, id="too-few-fields"),
        pytest.param(csv_row(2) + ",extra,cells", HEADER_FIELDS + 2, id="too-many-fields"),
    ],
)
def test_a_ragged_csv_row_is_refused_with_its_field_count_and_the_rest_are_read(
    tmp_path: Path, ragged: str, fields: int
) -> None:
    path = write(tmp_path, "p.csv", "\n".join([HEADER, csv_row(1), ragged, csv_row(3)]) + "\n")

    records = list(read_placements(path))

    assert summary(records) == [(2, "ACC-000001"), (3, None), (4, "ACC-000003")]
    ((_, reason),) = records[1].errors
    assert re.search(rf"\b{fields}\b", reason), reason
    assert re.search(rf"\b{HEADER_FIELDS}\b", reason), reason


def test_a_csv_row_with_a_bad_value_is_refused_by_column_without_the_value(
    tmp_path: Path,
) -> None:
    bad = csv_row(2).replace("+8613900000002", "+86-not-a-phone-77")
    path = write(tmp_path, "p.csv", "\n".join([HEADER, csv_row(1), bad, csv_row(3)]) + "\n")

    records = list(read_placements(path))

    assert summary(records) == [(2, "ACC-000001"), (3, None), (4, "ACC-000003")]
    assert [column for column, _ in records[1].errors] == ["mobile"]
    assert "not-a-phone" not in repr(records[1].errors)


# --- JSON Lines ----------------------------------------------------------------------------


def test_json_lines_number_the_first_record_1_and_skip_blank_lines(tmp_path: Path) -> None:
    content = "\n".join([json_row(1), "", "   ", json_row(2), json_row(3)]) + "\n"
    path = write(tmp_path, "p.jsonl", content)

    assert summary(list(read_placements(path))) == [
        (1, "ACC-000001"),
        (4, "ACC-000002"),
        (5, "ACC-000003"),
    ]


def test_json_lines_accept_unquoted_decimals_exactly(tmp_path: Path) -> None:
    line = (
        '{"account_id": "ACC-000001", "debtor_name": "Debtor 1", "mobile": "+8613900000001",'
        ' "credit_limit": 5000.00, "principal": 1234.56, "interest": 0.1, "fees": 0,'
        ' "statement_day": 10, "oldest_unpaid_due_date": "2026-03-02", "unpaid_minimum": 123.45}'
    )
    path = write(tmp_path, "p.jsonl", line + "\n")

    (record,) = read_placements(path)

    assert record.errors == ()
    assert record.row is not None
    assert record.row.principal == Decimal("1234.56")
    assert record.row.interest == Decimal("0.10")
    assert record.row.fees == Decimal("0.00")
    assert record.row.unpaid_minimum == Decimal("123.45")
    assert record.row.balance == Decimal("1234.66")  # 1234.56 + 0.10 + 0.00, to the cent


def test_a_json_line_that_is_not_utf8_is_refused_and_the_lines_after_it_are_read(
    tmp_path: Path,
) -> None:
    bad = json_row(2).replace("Debtor 2", "Debtor \xff").encode("latin-1")
    content = json_row(1).encode() + b"\n" + bad + b"\n" + json_row(3).encode() + b"\n"
    path = write(tmp_path, "p.jsonl", content)

    records = list(read_placements(path))

    assert summary(records) == [(1, "ACC-000001"), (2, None), (3, "ACC-000003")]
    ((_, reason),) = records[1].errors
    assert "UTF-8" in reason


@pytest.mark.parametrize(
    "line",
    [
        pytest.param("[1, 2, 3]", id="array"),
        pytest.param('"ACC-000002"', id="string"),
        pytest.param("42", id="number"),
        pytest.param("null", id="null"),
        pytest.param('{"account_id": "ACC-000002",', id="broken-json"),
    ],
)
def test_a_json_line_that_is_not_an_object_is_refused_and_the_lines_after_it_are_read(
    tmp_path: Path, line: str
) -> None:
    path = write(tmp_path, "p.jsonl", "\n".join([json_row(1), line, json_row(3)]) + "\n")

    records = list(read_placements(path))

    assert summary(records) == [(1, "ACC-000001"), (2, None), (3, "ACC-000003")]
    ((column, reason),) = records[1].errors
    assert column == ""
    assert "object" in reason


# --- files refused as a whole ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        pytest.param("p.csv", b"", id="empty-csv"),
        pytest.param("p.jsonl", b"", id="empty-jsonl"),
        pytest.param("p.jsonl", b"\n  \n\n", id="blank-lines-only"),
        pytest.param("p.jsonl", BOM, id="byte-order-mark-only"),
    ],
)
def test_an_empty_file_is_refused_as_a_whole(tmp_path: Path, name: str, content: bytes) -> None:
    refusal(write(tmp_path, name, content))


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(f"{HEADER}\n".encode(), id="header"),
        pytest.param(BOM + f"{HEADER}\r\n".encode(), id="header-with-bom"),
    ],
)
def test_a_csv_file_with_only_a_header_row_is_refused_as_a_whole(
    tmp_path: Path, content: bytes
) -> None:
    refusal(write(tmp_path, "p.csv", content))


def test_a_csv_file_missing_required_columns_is_refused_naming_them(tmp_path: Path) -> None:
    header = (
        "account_id,debtor_name,mobile,credit_limit,interest,fees,statement_day,"
        "oldest_unpaid_due_date"
    )
    row = "ACC-000001,Debtor 1,+8613900000001,5000.00,10.00,5.00,10,2026-03-02"
    path = write(tmp_path, "p.csv", f"{header}\n{row}\n")

    message = str(refusal(path))

    assert "principal" in message
    assert "unpaid_minimum" in message
    assert "account_id" not in message


@pytest.mark.parametrize(
    ("name", "content"),
    [
        pytest.param("placements.txt", b"Dear operations,\nplease find the cases.\n", id="text"),
        pytest.param("placements.xlsx", b"PK\x03\x04\x14\x00\x06\x00" + bytes(200), id="xlsx"),
        pytest.param(
            "placements.csv", b"id;name;principal\n1;Someone;100.00\n", id="semicolon-csv"
        ),
    ],
)
def test_a_file_that_is_neither_csv_nor_json_lines_is_refused_as_a_whole(
    tmp_path: Path, name: str, content: bytes
) -> None:
    refusal(write(tmp_path, name, content))


def test_a_json_array_document_is_not_json_lines_and_is_refused_as_a_whole(
    tmp_path: Path,
) -> None:
    content = "[\n" + ",\n".join([json_row(1), json_row(2)]) + "\n]\n"

    refusal(write(tmp_path, "placements.json", content))


def test_a_missing_file_is_refused_as_a_whole(tmp_path: Path) -> None:
    message = str(refusal(tmp_path / "not-there.csv"))

    assert "not-there.csv" in message


# --- size ------------------------------------------------------------------------------------


def test_a_ten_thousand_row_file_streams_in_constant_memory(tmp_path: Path) -> None:
    path = write_sample(tmp_path / "sample.csv", 10_000, as_of=date(2026, 3, 1))
    size = path.stat().st_size
    assert size > 2_000_000  # several MB: holding it in memory would show

    next(iter(read_placements(path)))  # imports and caches outside the measurement
    tracemalloc.start()
    try:
        good = refused = 0
        for record in read_placements(path):
            if record.row is None:
                refused += 1
            else:
                good += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert (good, refused) == (10_000, 0)
    assert peak < size // 2, f"peak {peak} bytes while reading a file of {size} bytes"
