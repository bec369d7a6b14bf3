"""Small builders shared by the domain tests: a placement row, an opened case, bank time.

Import the helpers directly (`from tests.domain.conftest import make_row, open_case`);
the fixtures below wrap the same helpers for tests that prefer injection.

Defaults (chosen so hand calculations stay short):
- statement day 5, grace 20 days, so D_k = the 25th of the month of S_k;
- principal 10,000.00, no interest or fees, credit limit 20,000.00 (never over it);
- the case opens 2026-03-01 00:00 bank time, after the missed due date 2026-02-25,
  with 1,000.00 of minimum unpaid: bucket M0, stage `reminder`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, TypeVar

import pytest
from pydantic import TypeAdapter

from arrears.intake.csv_forms import placement_row
from domain.commands import AdvanceTime, Command, ReceivePayment
from domain.events import Actor, Event
from domain.intake import open_case as open_case_command
from domain.localtime import zone
from domain.placement import PlacementRow
from domain.policy import Policy, Role
from domain.simulation import CaseRun
from domain.state import CaseState

D = Decimal
BANK_TZ = "Asia/Shanghai"
OPENED_ON = date(2026, 3, 1)
#: A case state to and from JSON, as the workflow's input and query models carry it.
STATE_JSON: TypeAdapter[CaseState] = TypeAdapter(CaseState)

_ROW_DEFAULTS: dict[str, Any] = {
    "account_id": "ACC-000001",
    "debtor_name": "Test Debtor",
    "mobile": "+8613800000000",
    "credit_limit": "20000.00",
    "principal": "10000.00",
    "interest": "0.00",
    "fees": "0.00",
    "statement_day": 5,
    "grace_days": 20,
    "oldest_unpaid_due_date": "2026-02-25",
    "unpaid_minimum": "1000.00",
}

E = TypeVar("E")


def make_row(**overrides: Any) -> PlacementRow:
    """A valid placement row; any column can be overridden (amounts as strings, contacts
    and flags in their CSV text forms or as lists)."""
    return placement_row({**_ROW_DEFAULTS, **overrides})


def bank_time(day: date | str, hour: int = 0, minute: int = 0) -> datetime:
    """An aware datetime at `hour:minute` on `day` in the bank's zone (Asia/Shanghai)."""
    if isinstance(day, str):
        day = date.fromisoformat(day)
    return datetime.combine(day, time(hour, minute), tzinfo=zone(BANK_TZ))


def open_case(
    row: PlacementRow | None = None,
    *,
    at: datetime | None = None,
    policy: Policy | None = None,
    **row_overrides: Any,
) -> CaseRun:
    """A `CaseRun` with the case opened at `at` (default 2026-03-01 00:00 bank time)."""
    if row is None:
        row = make_row(**row_overrides)
    elif row_overrides:
        raise TypeError("pass either a row or row overrides, not both")
    run = CaseRun(policy or Policy())
    run.apply(open_case_command(row), at or bank_time(OPENED_ON))
    return run


def advance(run: CaseRun, to: datetime) -> list[Event]:
    """Let business time reach `to`: every calendar rule due by then runs."""
    return run.apply(AdvanceTime(), to)


def pay(run: CaseRun, amount: str | Decimal, at: datetime, reference: str = "P-1") -> list[Event]:
    """A payment of `amount` received at `at`."""
    return run.apply(ReceivePayment(reference=reference, amount=D(amount)), at)


def send(run: CaseRun, command: Command, at: datetime) -> list[Event]:
    """Any command at `at` (an override that is refused is recorded as rejected)."""
    return run.apply(command, at)


def actor(role: Role = "supervisor", id: str | None = None) -> Actor:
    return Actor(id=id or f"{role}-1", role=role)


def of_type(events: Iterable[Event], kind: type[E]) -> list[E]:
    """The events of one class, in order."""
    return [e for e in events if isinstance(e, kind)]


def types(events: Iterable[Event]) -> list[str]:
    """The event type names, in order (CONTRACTS §2 vocabulary)."""
    return [e.type for e in events]


@pytest.fixture
def policy() -> Policy:
    return Policy()


@pytest.fixture
def row() -> PlacementRow:
    return make_row()


@pytest.fixture
def case() -> CaseRun:
    """The default case, opened 2026-03-01 00:00 bank time in M0."""
    return open_case()
