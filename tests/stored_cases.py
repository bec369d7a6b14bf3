"""Cases in the event store as the workers leave them, for tests that need a case's
past without running it: domain events appended through the `EventStore` (hash chain,
read models, the `cases` row), plus the placement record `arrears import` writes, its
personal data sealed through the vault under the tests' master key (`TEST_MASTER_KEY`,
also given to `arrears` processes as `MASTER_KEY_ENV`)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg

from arrears.crypto.keyring import Keyring
from arrears.crypto.vault import PersonalVault
from arrears.store.events import EventStore
from arrears.store.read_models import CaseSummary
from domain.events import AccountFacts, CaseClosed, CaseOpened, Event, PaymentReceived

PERSONAL = {"debtor_name": "Test Debtor", "mobile": "+8613800000000", "national_id": "X1"}
#: Noon UTC on 2026-03-01: the moment cases are dated from when no time is given.
REFERENCE = datetime(2026, 3, 1, 12, tzinfo=UTC)
#: The master key of every test database's personal data (fixed: subprocesses share it).
TEST_MASTER_KEY = bytes(range(32))
MASTER_KEY_ENV = {"ARREARS_MASTER_KEY": base64.b64encode(TEST_MASTER_KEY).decode()}


def fresh_vault() -> PersonalVault:
    """A vault under the tests' master key. One per database: a vault keeps the lookup
    key of the first database it reads."""
    return PersonalVault(Keyring((TEST_MASTER_KEY,)))


async def keep_placement(
    pool: asyncpg.Pool,
    case_id: str,
    account_id: str,
    personal: dict[str, Any] | None,
    facts: dict[str, Any] | None = None,
    *,
    source_file: str = "sha256-of-file",
    source_line: int = 2,
    vault: PersonalVault | None = None,
) -> None:
    """A placement record as the importer keeps it: facts in clear, personal data sealed
    (under the tests' master key unless `vault` is given: the database's key must be one)."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO placement_records (case_id, account_id, facts, source_file,"
            " source_line) VALUES ($1, $2, $3, $4, $5)",
            case_id, account_id, facts or {}, source_file, source_line,
        )  # fmt: skip
        if personal is not None:
            await (vault or fresh_vault()).write(conn, case_id, personal)


def opened_event(seq: int, at: datetime, account_id: str) -> CaseOpened:
    return CaseOpened(
        seq=seq,
        at=at,
        account=AccountFacts(
            account_id=account_id, credit_limit=Decimal("10000.00"), statement_day=5,
            grace_days=20,
        ),
        policy="cn-card",
        principal=Decimal("1000.00"), interest=Decimal("0.00"), fees=Decimal("0.00"),
        oldest_unpaid_due_date=at.date() - timedelta(days=40),
        unpaid_minimum=Decimal("100.00"),
        last_statement_date=at.date() - timedelta(days=10),
        accrual_from=at.date() - timedelta(days=10),
    )  # fmt: skip


async def add_case(
    pool: asyncpg.Pool,
    account_id: str,
    *,
    closed_at: datetime | None,
    paid: bool = True,
    opened_at: datetime | None = None,
    vault: PersonalVault | None = None,
) -> str:
    """One case as the workers leave it: opened (paid, and closed when `closed_at`), with
    its placement record holding personal data. Returns the case id."""
    case_id = f"case-{account_id}"
    opened_at = opened_at or (closed_at or REFERENCE) - timedelta(days=200)
    events: list[Event] = [opened_event(1, opened_at, account_id)]
    if paid:
        events.append(
            PaymentReceived(
                seq=2, at=opened_at + timedelta(days=30), reference=f"P-{account_id}",
                amount=Decimal("1000.00"), to_fees=Decimal("0.00"), to_interest=Decimal("0.00"),
                to_principal=Decimal("1000.00"), unapplied=Decimal("0.00"),
                paid_on=(opened_at + timedelta(days=30)).date(),
            )
        )  # fmt: skip
    if closed_at is not None:
        events.append(CaseClosed(seq=len(events) + 1, at=closed_at, outcome="cured"))
    summary = CaseSummary(
        account_id=account_id, policy="cn-card", stage="phone", bucket="M0", dpd=0,
        principal=Decimal("0.00") if paid else Decimal("1000.00"), interest=Decimal("0.00"),
        fees=Decimal("0.00"), agency=None, hand=None, holds=[], charged_off=False,
        outcome="cured" if closed_at is not None else None, opened_at=opened_at,
        as_of=closed_at or opened_at,
    )  # fmt: skip
    await EventStore(pool).append(case_id, events, summary)
    await keep_placement(
        pool, case_id, account_id, {**PERSONAL, "account_id": account_id},
        {"credit_limit": "10000.00", "principal": "1000.00"}, vault=vault,
    )  # fmt: skip
    return case_id


def raw_bytes(rows: list[asyncpg.Record]) -> bytes:
    """Every value of rows read straight from PostgreSQL, as the bytes a reader of the
    database (or of a backup) sees: where personal data must not be readable."""
    parts: list[bytes] = []
    for row in rows:
        for value in row.values():
            values = value if isinstance(value, list) else [value]
            parts += [v if isinstance(v, bytes) else str(v).encode() for v in values]
    return b"\x00".join(parts)
