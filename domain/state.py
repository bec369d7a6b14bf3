"""The state of one case: everything the rules need, rebuilt by folding its events.

One serialisable model: the workflow carries it across continue-as-new, the auditor
rebuilds it from history, and `simulate` prints from it. Holds no personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from domain.arms import Arm
from domain.events import (
    AccountFacts,
    CaseOutcome,
    Channel,
    HoldKind,
    LegalMilestoneName,
    Outcome,
    PhoneLine,
    Target,
)
from domain.policy import Hand, Stage

# The state's types are frozen standard dataclasses, not pydantic models: the rules read
# their fields thousands of times per simulated month, and a pydantic model's attribute
# reads are about three times slower (its `__getattr__` hook keeps the interpreter from
# specialising them). Pydantic still validates and serialises them wherever they cross
# a boundary (the workflow's input and query models hold a `CaseState`), with the same
# JSON as before. Keyword-only, as pydantic models are.


@dataclass(frozen=True, kw_only=True)
class Due:
    """An unpaid minimum payment and the due date it missed (or will miss)."""

    due_date: date
    amount: Decimal


@dataclass(frozen=True, kw_only=True)
class Promise:
    amount: Decimal
    due: date
    pause_until: datetime
    paid: Decimal = Decimal("0.00")


@dataclass(frozen=True, kw_only=True)
class Plan:
    installments: int
    installment_amount: Decimal
    first_due: date
    paid: Decimal = Decimal("0.00")
    installments_paid: int = 0


@dataclass(frozen=True, kw_only=True)
class Placement:
    agency: str
    hand: Hand
    rate: Decimal
    placed_at: datetime
    term_ends: datetime


@dataclass(frozen=True, kw_only=True)
class ContactRecord:
    at: datetime
    channel: Channel
    target: Target
    outcome: Outcome
    line: PhoneLine | None = None
    contact_index: int | None = None


@dataclass(frozen=True, kw_only=True)
class CaseState:
    """Before `case_opened` every field has its empty value and `opened` is False."""

    seq: int = 0
    as_of: datetime | None = None
    opened: bool = False
    account: AccountFacts | None = None
    policy: str = ""
    arm: Arm = "champion"  # the arm it follows now (`arm_changed` moves it)
    opened_at: datetime | None = None

    principal: Decimal = Decimal("0.00")
    interest: Decimal = Decimal("0.00")
    fees: Decimal = Decimal("0.00")

    last_statement_date: date | None = None
    accrual_from: date | None = None
    open_due_date: date | None = None  # due date of our last statement, until its check
    dues: tuple[Due, ...] = ()

    bucket: int = 0
    dpd: int = 0
    stage: Stage = "reminder"
    stage_entered_at: datetime | None = None
    charged_off: bool = False
    outcome: CaseOutcome | None = None

    holds: tuple[HoldKind, ...] = ()
    pause_until: datetime | None = None
    promise: Promise | None = None
    plan: Plan | None = None
    waived: bool = False
    settlement: Decimal | None = None  # agreed amount; the case closes `settled` when paid

    placement: Placement | None = None
    placements_made: int = 0
    regular_hands: int = 0
    legal_milestones: tuple[LegalMilestoneName, ...] = ()

    payment_references: tuple[str, ...] = ()
    # Money received but not applied to the balance: an overpayment, or any payment
    # after the case ended. The bank owes it back (or applies it on the account).
    unapplied_credit: Decimal = Decimal("0.00")
    last_payment_at: datetime | None = None
    last_promise_at: datetime | None = None

    recent_contacts: tuple[ContactRecord, ...] = ()
    last_rpc_at: datetime | None = None
    last_conversation_at: datetime | None = None
    bad_lines: tuple[PhoneLine, ...] = ()
    debtor_calls: int = 0
    third_party_calls: int = 0
    contact_calls: tuple[tuple[int, datetime], ...] = ()  # (contact index, last call)
    contact_call_counts: tuple[tuple[int, int], ...] = ()
    stage_sms: int = 0
    last_sms_at: datetime | None = None
    last_call_at: datetime | None = None
    letters_sent: tuple[str, ...] = ()
    visit_done: bool = False

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest + self.fees

    @property
    def closed(self) -> bool:
        return self.outcome is not None

    @property
    def minimum_due_total(self) -> Decimal:
        return sum((d.amount for d in self.dues), Decimal("0.00"))
