"""A bank's payments file (`arrears payments FILE`): CSV with a header row or JSON Lines,
with the columns `account_id`, `amount`, `date` and `reference` (other columns are
ignored), streamed like a placement file.

Each row comes out with its line number, as a `Payment` or as the `Problem` that refuses
it (an amount that is not whole positive cents, a missing reference, a date that is not
YYYY-MM-DD, ...), never with the refused value. A file that is not a payments file as a
whole raises `PaymentsFileError` (exit code 2) before any row is produced.

The `date` is checked but not sent: the `payment` signal (`PaymentSignal`) has no field
for it, and the case records a payment at the business time it arrives.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from arrears.errors import UsageError
from arrears.intake.placement_file import decoded_lines, open_bank_file
from domain.money import CENT, parse_amount
from domain.placement import case_id_for
from workflows.case_io import PaymentSignal

COLUMNS = ("account_id", "amount", "date", "reference")
MAX_REFERENCE = 64
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ENCODING = "is not valid UTF-8 text"


class PaymentsFileError(UsageError):
    """The file as a whole is not a payments file (exit code 2, nothing posted)."""


@dataclass(frozen=True)
class Payment:
    line: int
    account_id: str
    case_id: str
    signal: PaymentSignal
    paid_on: date


@dataclass(frozen=True)
class Problem:
    line: int
    kind: str  # "rejected", "unknown_account", or "to_ended_case" (a note, not a problem)
    text: str

    @property
    def is_problem(self) -> bool:
        return self.kind != "to_ended_case"

    def __str__(self) -> str:
        return f"line {self.line}: {self.kind}: {self.text}"


def _text(data: dict[str, Any], column: str, errors: list[str]) -> str | None:
    """A cell as stripped text, or None (with the reason in `errors`) when it is not."""
    value = data.get(column)
    if value is None or (isinstance(value, str) and not value.strip()):
        errors.append(f"{column}: is required")
        return None
    if not isinstance(value, str):
        errors.append(f"{column}: must be text (in JSON Lines: a quoted string)")
        return None
    return value.strip()


def _amount(raw: Any) -> tuple[Decimal | None, str | None]:
    """Whole positive cents, exactly as written; else the reason (without the value)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, "is required"
    if isinstance(raw, bool) or not isinstance(raw, str | int | Decimal):
        return None, 'must be a number, e.g. "300.00"'
    try:
        number = Decimal(raw.strip()) if isinstance(raw, str) else Decimal(raw)
    except InvalidOperation:
        return None, "is not a number"
    if not number.is_finite():
        return None, "is not a number"
    try:
        whole_cents = number == number.quantize(CENT, rounding=ROUND_DOWN)
    except InvalidOperation:
        return None, "is too large"
    if not whole_cents:
        return None, "has a fraction of a cent (amounts are whole cents)"
    if number <= 0:
        return None, "must be more than zero"
    return parse_amount(number), None


def validate_row(line: int, data: dict[str, Any]) -> Payment | Problem:
    """A row as a payment, or the columns that refuse it (never repeating the amount)."""
    errors: list[str] = []
    account = _text(data, "account_id", errors)
    case_id = ""
    if account is not None:
        try:
            case_id = case_id_for(account)
        except ValueError as err:
            errors.append(f"account_id: {err}")
    amount, problem = _amount(data.get("amount"))
    if problem:
        errors.append(f"amount: {problem}")
    raw_date = _text(data, "date", errors)
    paid_on: date | None = None
    if raw_date is not None:
        try:
            if not _ISO_DATE.fullmatch(raw_date):
                raise ValueError
            paid_on = date.fromisoformat(raw_date)
        except ValueError:
            errors.append("date: is not a date (YYYY-MM-DD)")
    reference = _text(data, "reference", errors)
    if reference is not None and len(reference) > MAX_REFERENCE:
        errors.append(f"reference: is longer than {MAX_REFERENCE} characters")
    if errors or account is None or amount is None or paid_on is None or reference is None:
        return Problem(line, "rejected", "; ".join(errors))
    return Payment(
        line=line,
        account_id=account,
        case_id=case_id,
        signal=PaymentSignal(reference=reference, amount=amount, paid_on=paid_on),
        paid_on=paid_on,
    )


def read_payments(path: Path) -> Iterator[Payment | Problem]:
    """Every row of the file with its line number. Whole-file problems raise up front."""
    with open_bank_file(path, "payments", PaymentsFileError) as (handle, found):
        if found == "csv":
            yield from _read_csv(path, handle)
        else:
            yield from _read_jsonl(handle)


def _read_csv(path: Path, handle: IO[bytes]) -> Iterator[Payment | Problem]:
    bad: set[int] = set()
    reader = csv.reader(decoded_lines(handle, bad))
    try:
        header = [h.strip() for h in next(reader)]
    except (StopIteration, csv.Error) as err:
        raise PaymentsFileError(f"{path}: cannot read the CSV header: {err}") from None
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise PaymentsFileError(
            f"{path}: not a payments file: missing required columns: {', '.join(missing)}"
        )
    end = reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:
            start, end = end + 1, reader.line_num
            yield Problem(start, "rejected", "(row): is not a well-formed CSV record")
            continue
        start, end = end + 1, reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if any(n in bad for n in range(start, end + 1)):
            yield Problem(start, "rejected", f"(row): {_ENCODING}")
        elif len(cells) != len(header):
            yield Problem(
                start, "rejected", f"(row): has {len(cells)} fields, the header has {len(header)}"
            )
        else:
            yield validate_row(start, dict(zip(header, cells, strict=True)))


def _read_jsonl(handle: IO[bytes]) -> Iterator[Payment | Problem]:
    bad: set[int] = set()
    for number, text in enumerate(decoded_lines(handle, bad), start=1):
        if not text.strip():
            continue
        if number in bad:
            yield Problem(number, "rejected", f"(row): {_ENCODING}")
            continue
        try:
            data = json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError:
            data = None
        if not isinstance(data, dict):
            yield Problem(number, "rejected", "(row): is not a JSON object")
            continue
        yield validate_row(number, data)
