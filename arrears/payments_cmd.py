"""`arrears payments FILE`: post a payments feed to the cases, one `payment` signal a row.

The file is CSV with a header row or JSON Lines, with the columns `account_id`, `amount`,
`date` and `reference` (other columns are ignored). Each good row is signalled to
`case-<account_id>`; the workflow ignores a reference it has seen, so posting a file
twice pays nothing twice. Problems are reported one a line on stdout, then the summary
JSON as the last line:

    line 4: unknown_account: account ACC-000404: no such case
    line 5: rejected: amount: has a fraction of a cent (amounts are whole cents)
    {"posted": 2, "unknown_account": 1, "rejected": 1}

`posted` counts the signals Temporal accepted (a repeated reference is posted and then
ignored by its case); `unknown_account` counts rows whose account never had a case;
`rejected` counts rows that are not a payment (an amount that is not whole positive
cents, a missing reference, a date that is not YYYY-MM-DD, ...). Exit code 1 if any row
was unknown or rejected, 0 otherwise; 2 for a file that cannot be read as a payments file
(nothing posted).

Money received is never turned away: a payment to a case that has ended (its workflow
closed, or gone from Temporal after the retention) is sent with signal-with-start to a
short run of the same workflow id (`CaseInput.after_close`), which rebuilds the case
from the event store and records the payment on it as unapplied credit. Such rows are
posted, counted again in `to_ended_cases` and named on a line of their own. Whether a
case ever existed is asked of PostgreSQL's `cases` table, only when Temporal has no
running workflow for it.

The `date` is checked but not sent: the `payment` signal (`PaymentSignal`) has no field
for it, and the case records a payment at the business time it arrives.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Annotated, Any

import asyncpg
import typer
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.service import RPCError

from arrears.case_client import RPC_TIMEOUT, is_not_found, temporal_errors
from arrears.errors import UsageError
from arrears.placement_file import decoded_lines, open_bank_file
from arrears.settings import Settings
from arrears.store.db import create_pool
from domain.money import CENT, parse_amount
from domain.placement import case_id_for
from domain.policy import Policy
from workflows.case_io import CaseInput, PaymentSignal

COLUMNS = ("account_id", "amount", "date", "reference")
MAX_REFERENCE = 64
#: Accounts posted at once; one account's payments are posted in file order.
CONCURRENCY = 32
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


@dataclass
class Summary:
    posted: int = 0
    unknown_account: int = 0
    rejected: int = 0
    to_ended_cases: int = 0

    def contract(self) -> dict[str, int]:
        return {
            "posted": self.posted,
            "unknown_account": self.unknown_account,
            "rejected": self.rejected,
            "to_ended_cases": self.to_ended_cases,
        }


# --- reading --------------------------------------------------------------------------


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


# --- posting --------------------------------------------------------------------------


class CaseRecords:
    """What PostgreSQL knows of the cases (the pool is opened on first need): each
    account's latest delinquency episode, whether a case not running in Temporal ever
    existed, and the after-close run that takes a payment to an ended case."""

    def __init__(self, client: Client, db_url: str, policy: Policy, task_queue: str) -> None:
        self._client = client
        self._db_url = db_url
        self._policy = policy
        self._task_queue = task_queue
        self._pool: asyncpg.Pool | None = None
        self._lock = asyncio.Lock()

    async def _db(self) -> asyncpg.Pool:
        async with self._lock:
            if self._pool is None:
                self._pool = await create_pool(self._db_url, max_size=4)
        return self._pool

    async def latest(self, account_ids: list[str]) -> dict[str, str]:
        """{account id: the case of its latest episode} for the accounts imported (a case
        started without a placement record is `case-<account_id>`, as before)."""
        rows = await (await self._db()).fetch(
            "SELECT DISTINCT ON (account_id) account_id, case_id FROM placement_records"
            " WHERE account_id = ANY($1::text[]) ORDER BY account_id, episode DESC",
            account_ids,
        )
        return {r["account_id"]: r["case_id"] for r in rows}

    async def outcome(self, case_id: str) -> str | None:
        """How the case ended ("open" if its record says it has not), None: never placed."""
        found = await (await self._db()).fetchrow(
            "SELECT outcome FROM cases WHERE case_id = $1", case_id
        )
        return None if found is None else found["outcome"] or "open"

    async def post(self, payment: Payment) -> None:
        """Signal-with-start: joins an after-close run already going, else starts one."""
        await self._client.start_workflow(
            "Case",
            CaseInput(case_id=payment.case_id, policy=self._policy, after_close=True),
            id=payment.case_id,
            task_queue=self._task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            start_signal="payment",
            start_signal_args=[payment.signal],
            rpc_timeout=RPC_TIMEOUT,
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()


async def _post_account(
    client: Client, payments: list[Payment], records: CaseRecords | None
) -> list[Problem]:
    """Post one account's payments in file order. When its case is not running, they go
    to the ended case (unapplied credit), or, if it never existed, are unknown."""
    handle = client.get_workflow_handle(payments[0].case_id)
    for n, payment in enumerate(payments):
        with temporal_errors():
            try:
                await handle.signal("payment", payment.signal, rpc_timeout=RPC_TIMEOUT)
            except RPCError as err:
                if not is_not_found(err):
                    raise
                return await _to_ended_case(payments[n:], records)
    return []


async def _to_ended_case(payments: list[Payment], records: CaseRecords | None) -> list[Problem]:
    outcome = await records.outcome(payments[0].case_id) if records is not None else None
    if records is None or outcome is None:
        return [
            Problem(p.line, "unknown_account", f"account {p.account_id}: no such case")
            for p in payments
        ]
    notes = []
    for payment in payments:
        with temporal_errors():
            await records.post(payment)
        notes.append(
            Problem(
                payment.line,
                "to_ended_case",
                f"account {payment.account_id}: the case has ended ({outcome}); the payment "
                "is recorded on it as unapplied credit",
            )
        )
    return notes


async def post_payments(
    client: Client,
    rows: Iterator[Payment | Problem],
    concurrency: int = CONCURRENCY,
    records: CaseRecords | None = None,
) -> tuple[Summary, list[Problem]]:
    summary = Summary()
    problems: list[Problem] = []
    by_case: dict[str, list[Payment]] = {}
    for row in rows:
        if isinstance(row, Problem):
            problems.append(row)
        else:
            by_case.setdefault(row.case_id, []).append(row)
    if records is not None and by_case:
        # A payment is for the account's latest delinquency episode (a re-defaulted
        # account has `case-<account_id>.<n>`).
        latest = await records.latest([p[0].account_id for p in by_case.values()])
        regrouped: dict[str, list[Payment]] = {}
        for payments in by_case.values():
            case_id = latest.get(payments[0].account_id, payments[0].case_id)
            regrouped[case_id] = [dataclasses.replace(p, case_id=case_id) for p in payments]
        by_case = regrouped
    gate = asyncio.Semaphore(concurrency)

    async def post(payments: list[Payment]) -> list[Problem]:
        async with gate:
            return await _post_account(client, payments, records)

    for found in await asyncio.gather(*(post(p) for p in by_case.values())):
        problems += found
    problems.sort(key=lambda p: p.line)
    summary.rejected = sum(1 for p in problems if p.kind == "rejected")
    summary.unknown_account = sum(1 for p in problems if p.kind == "unknown_account")
    summary.to_ended_cases = sum(1 for p in problems if p.kind == "to_ended_case")
    summary.posted = sum(len(p) for p in by_case.values()) - summary.unknown_account
    return summary, problems


async def _run(path: Path) -> tuple[Summary, list[Problem]]:
    from arrears.policies import load_policy
    from arrears.stack.temporal import connect

    rows = read_payments(path)
    first = next(rows, None)  # a file that is not a payments file stops here (exit 2)
    settings = Settings()
    client = await connect(settings)
    records = CaseRecords(
        client, settings.db_url, load_policy(settings.policy), settings.task_queue
    )

    def all_rows() -> Iterator[Payment | Problem]:
        if first is not None:
            yield first
        yield from rows

    try:
        return await post_payments(client, all_rows(), records=records)
    finally:
        await records.close()


def run_payments(path: Path) -> tuple[list[str], int]:
    """The lines to print (problems, then the summary JSON) and the exit code."""
    summary, problems = asyncio.run(_run(path))
    lines = [str(p) for p in problems]
    lines.append(json.dumps(summary.contract()))
    return lines, 1 if any(p.is_problem for p in problems) else 0


def payments_command(
    file: Annotated[
        Path, typer.Argument(help="CSV or JSON Lines: account_id, amount, date, reference.")
    ],
) -> None:
    """Post a payments file to the cases (one `payment` signal a row; a case that has ended
    records it as unapplied credit). The last line of stdout is the JSON summary; exit
    code 1 if any row was rejected or had no case."""
    lines, code = run_payments(file)
    for line in lines:
        print(line, flush=True)
    raise typer.Exit(code)
