"""Reading a bank's placement file (CONTRACTS.md §1): CSV or JSON Lines, streamed.

Rows come out one at a time with their line number, either validated or with the
(column, reason) pairs that refuse them, so one bad row never stops the good ones and a
file of any size reads in constant memory. Problems with the file as a whole (not CSV or
JSON Lines, required columns missing) raise `PlacementFileError` (exit code 2) before
any row is produced.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Literal

from pydantic import ValidationError

from arrears.errors import UsageError
from arrears.intake.csv_forms import placement_row
from domain.placement import PlacementRow, row_errors

REQUIRED_COLUMNS = (
    "account_id",
    "debtor_name",
    "credit_limit",
    "principal",
    "interest",
    "fees",
    "statement_day",
    "oldest_unpaid_due_date",
    "unpaid_minimum",
)
ENCODING_REASON = "is not valid UTF-8 text"
_MAX_FIELD = 1 << 24  # larger fields are read, then refused by the row's length limits

Format = Literal["csv", "jsonl"]


class PlacementFileError(UsageError):
    """The file as a whole cannot be read as a placement file (exit code 2)."""


@dataclass(frozen=True)
class Record:
    """One row of the file: `row` when valid, else `errors` as (column, reason)."""

    line: int
    row: PlacementRow | None
    errors: tuple[tuple[str, str], ...] = ()
    account_id: str | None = None  # for duplicate detection only, when the id is valid


def sniff_format(path: Path, head: bytes) -> Format | None:
    """CSV or JSON Lines, by the file's suffix or else its first bytes; None if neither.
    Shared by every file the bank sends us (placements, payments): all are keyed by
    `account_id`."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"{"):
        return "jsonl"
    first_line = text.split(b"\n", 1)[0]
    if b"," in first_line and b"account_id" in first_line:
        return "csv"
    return None


@contextmanager
def open_bank_file(
    path: Path, kind: str, error: type[UsageError]
) -> Iterator[tuple[IO[bytes], Format]]:
    """The open file and its format, for every file the bank sends (placements,
    payments); `error` with one line (exit 2) when it cannot be one: unreadable, empty,
    a JSON array, or neither CSV nor JSON Lines."""
    try:
        handle = path.open("rb")
    except OSError as err:
        raise error(f"{path}: cannot read: {err.strerror}") from None
    with handle:
        head = handle.read(4096)
        handle.seek(0)
        body = head.removeprefix(b"\xef\xbb\xbf").strip()
        if not body:
            raise error(f"{path}: the file is empty")
        if body.startswith(b"["):
            raise error(f"{path}: a JSON array is not JSON Lines: write one JSON object per line")
        found = sniff_format(path, head)
        if found is None:
            raise error(f"{path}: not a {kind} file: expected CSV with a header row or JSON Lines")
        yield handle, found


def read_placements(path: Path) -> Iterator[Record]:
    """Every record of the file, in order. Raises `PlacementFileError` up front."""
    with open_bank_file(path, "placement", PlacementFileError) as (handle, found):
        if found == "csv":
            yield from _read_csv(path, handle)
        else:
            yield from _read_jsonl(handle)


def decoded_lines(handle: IO[bytes], bad: set[int]) -> Iterator[str]:
    """Physical lines as text; a line that is not UTF-8 is replaced and remembered."""
    for number, raw in enumerate(handle, start=1):
        if number == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            bad.add(number)
            yield raw.decode("utf-8", errors="replace")


def _read_csv(path: Path, handle: IO[bytes]) -> Iterator[Record]:
    csv.field_size_limit(_MAX_FIELD)
    bad_lines: set[int] = set()
    reader = csv.reader(decoded_lines(handle, bad_lines))
    try:
        header = [h.strip() for h in next(reader)]
    except (StopIteration, csv.Error) as err:
        raise PlacementFileError(f"{path}: cannot read the CSV header: {err}") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing or 1 in bad_lines:
        raise PlacementFileError(
            f"{path}: not a placement file: missing required columns: {', '.join(missing)}"
            if missing
            else f"{path}: the header row {ENCODING_REASON}"
        )
    previous_end = reader.line_num
    rows = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            if rows == 0:
                raise PlacementFileError(
                    f"{path}: the file has a header row but no cases"
                ) from None
            return
        except csv.Error:
            rows += 1
            start, previous_end = previous_end + 1, reader.line_num
            yield Record(start, None, (("", "is not a well-formed CSV record"),))
            continue
        start, previous_end = previous_end + 1, reader.line_num
        if not any(c.strip() for c in cells):
            continue  # blank lines are not rows
        rows += 1
        if any(n in bad_lines for n in range(start, previous_end + 1)):
            yield Record(start, None, (("", ENCODING_REASON),))
            continue
        if len(cells) != len(header):
            yield Record(
                start, None, (("", f"has {len(cells)} fields, the header has {len(header)}"),)
            )
            continue
        yield _validate(start, dict(zip(header, cells, strict=True)))


def _read_jsonl(handle: IO[bytes]) -> Iterator[Record]:
    bad_lines: set[int] = set()
    for number, text in enumerate(decoded_lines(handle, bad_lines), start=1):
        if not text.strip():
            continue
        if number in bad_lines:
            yield Record(number, None, (("", ENCODING_REASON),))
            continue
        try:
            data = json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError:
            yield Record(number, None, (("", "is not a JSON object"),))
            continue
        if not isinstance(data, dict):
            yield Record(number, None, (("", "is not a JSON object"),))
            continue
        yield _validate(number, data)


def _validate(line: int, data: dict[str, Any]) -> Record:
    try:
        row = placement_row(data)
    except ValidationError as err:
        account = data.get("account_id")
        account_id = account.strip() if isinstance(account, str) else None
        return Record(line, None, tuple(row_errors(err)), account_id)
    return Record(line, row, (), row.account_id)
