"""What happened to a case: frozen events named in the past tense.

The vocabulary and field names are CONTRACTS.md §2's: the same events fill the simulate
timeline, the event store and the auditor's rebuild. `seq` numbers a case's events from 1
without gaps; `at` is the business time the event took effect.
Events are facts: they carry every number the state needs (an interest amount, an
allocation), so folding them never recomputes a rule and never depends on the policy.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.arms import Arm
from domain.policy import Hand, Role, Stage

Channel = Literal["sms", "call", "letter", "visit"]
Target = Literal["debtor", "contact", "home_address", "work_address"]
PhoneLine = Literal["mobile", "home_phone", "work_phone"]
Outcome = Literal[
    "delivered",
    "undelivered",
    "no_answer",
    "busy",
    "left_message",
    "right_party_contact",
    "third_party_contact",
    "wrong_number",
    "invalid_number",
    "promise",
    "refusal",
    "dispute",
    "visited",
    "not_found",
]
HoldKind = Literal["cease_contact", "dispute", "pause"]
CaseOutcome = Literal["cured", "settled", "closed", "written_off"]
LegalMilestoneName = Literal[
    "lawyer_letter_sent", "suit_filed", "judgment", "enforcement", "closed"
]
Flag = Literal["suspected_fraud", "cash_out", "deceased", "bankrupt"]


class Actor(BaseModel):
    """Who asked for an override: never a name, only an id and a role."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1, max_length=64)
    role: Role


class BalanceView(BaseModel):
    """A balance as the timeline shows it (CONTRACTS §2 `final.balance`)."""

    model_config = ConfigDict(frozen=True)

    principal: Decimal
    interest: Decimal
    fees: Decimal
    total: Decimal


class AccountFacts(BaseModel):
    """What the policy needs to know about an account: no personal data at all.

    Names, numbers and addresses stay in the placement record in PostgreSQL; the case
    knows only *which* phones, addresses and contacts exist, so workflow histories,
    timelines and search attributes can never leak them.
    """

    model_config = ConfigDict(frozen=True)

    account_id: str
    credit_limit: Decimal
    statement_day: int = Field(ge=1, le=28)
    grace_days: int = Field(ge=0)
    timezone: str = "Asia/Shanghai"
    phones: tuple[PhoneLine, ...] = ("mobile",)
    addresses: tuple[Literal["home_address", "work_address"], ...] = ()
    contacts: int = Field(default=0, ge=0)
    flags: tuple[Flag, ...] = ()
    segment: str | None = None


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True)

    seq: int = Field(ge=1)
    at: datetime


class CaseOpened(_Event):
    type: Literal["case_opened"] = "case_opened"
    account: AccountFacts
    policy: str
    principal: Decimal
    interest: Decimal
    fees: Decimal
    oldest_unpaid_due_date: date
    unpaid_minimum: Decimal
    last_statement_date: date
    accrual_from: date
    #: The arm of a champion / challenger test the case was opened in (`domain.arms`);
    #: `policy` is that arm's profile. Events recorded before arms read as "champion".
    arm: Arm = "champion"


class InterestCharged(_Event):
    type: Literal["interest_charged"] = "interest_charged"
    amount: Decimal
    days: int
    interest_bearing: Decimal


class FeeCharged(_Event):
    type: Literal["fee_charged"] = "fee_charged"
    kind: Literal["late", "over_limit"]
    amount: Decimal
    basis: Decimal


class StatementIssued(_Event):
    type: Literal["statement_issued"] = "statement_issued"
    statement_date: date
    due_date: date
    balance: BalanceView
    minimum: Decimal
    minimum_due_total: Decimal


class BucketChanged(_Event):
    type: Literal["bucket_changed"] = "bucket_changed"
    bucket: str
    previous: str
    dpd: int
    oldest_unpaid_due_date: date | None


class StageChanged(_Event):
    type: Literal["stage_changed"] = "stage_changed"
    stage: Stage
    previous: Stage
    reason: str


class ContactAttempted(_Event):
    type: Literal["contact_attempted"] = "contact_attempted"
    channel: Channel
    target: Target
    outcome: Outcome
    planned_at: datetime
    line: PhoneLine | None = None
    contact_index: int | None = None
    collector_ids: tuple[str, ...] = ()
    recording_ref: str | None = None
    provider_ref: str | None = None


class PaymentReceived(_Event):
    type: Literal["payment_received"] = "payment_received"
    reference: str
    amount: Decimal
    to_fees: Decimal
    to_interest: Decimal
    to_principal: Decimal
    unapplied: Decimal
    paid_on: date


class BalanceWaived(_Event):
    """A settlement or waiver approved by override (POLICY §6)."""

    type: Literal["balance_waived"] = "balance_waived"
    from_fees: Decimal
    from_interest: Decimal
    from_principal: Decimal
    share: Decimal
    settlement_amount: Decimal | None = None


class PromiseMade(_Event):
    type: Literal["promise_made"] = "promise_made"
    amount: Decimal
    due: date
    pause_until: datetime


class PromiseKept(_Event):
    type: Literal["promise_kept"] = "promise_kept"
    amount: Decimal
    paid: Decimal


class PromiseBroken(_Event):
    type: Literal["promise_broken"] = "promise_broken"
    amount: Decimal
    paid: Decimal


class PlanAgreed(_Event):
    type: Literal["plan_agreed"] = "plan_agreed"
    installments: int
    installment_amount: Decimal
    first_due: date


class InstallmentPaid(_Event):
    type: Literal["installment_paid"] = "installment_paid"
    number: int


class PlanBroken(_Event):
    type: Literal["plan_broken"] = "plan_broken"
    number: int
    paid: Decimal
    due: Decimal


class PlanCompleted(_Event):
    type: Literal["plan_completed"] = "plan_completed"


class Placed(_Event):
    type: Literal["placed"] = "placed"
    agency: str
    hand: Hand
    commission_rate: Decimal
    term_ends: datetime
    #: The case's balance when placed (the liquidation rate's denominator); None on
    #: events decided before it was recorded: unknown, not zero.
    balance: Decimal | None = None


class Recalled(_Event):
    type: Literal["recalled"] = "recalled"
    agency: str
    hand: Hand
    reason: str


class CommissionEarned(_Event):
    type: Literal["commission_earned"] = "commission_earned"
    agency: str
    hand: Hand
    rate: Decimal
    payment_reference: str
    amount: Decimal


class LegalReferred(_Event):
    type: Literal["legal_referred"] = "legal_referred"
    reason: str
    balance: Decimal


class LegalMilestoneReached(_Event):
    type: Literal["legal_milestone"] = "legal_milestone"
    milestone: LegalMilestoneName


class OverrideApplied(_Event):
    type: Literal["override_applied"] = "override_applied"
    override: str
    actor: Actor
    reason: str
    args: dict[str, str]


class OverrideRejected(_Event):
    type: Literal["override_rejected"] = "override_rejected"
    override: str
    actor: Actor
    reason: str
    rule: str
    message: str


class HoldStarted(_Event):
    type: Literal["hold_started"] = "hold_started"
    kind: HoldKind
    until: datetime | None = None


class HoldEnded(_Event):
    type: Literal["hold_ended"] = "hold_ended"
    kind: HoldKind


class ChargedOff(_Event):
    type: Literal["charged_off"] = "charged_off"
    dpd: int
    balance: Decimal


class CaseClosed(_Event):
    type: Literal["case_closed"] = "case_closed"
    outcome: CaseOutcome


class ArmChanged(_Event):
    """A supervisor moved the case to the other arm (`move_arm`): from here it follows
    `policy`, that arm's profile. `case_opened` keeps the arm it was opened in."""

    type: Literal["arm_changed"] = "arm_changed"
    arm: Arm
    previous: Arm
    policy: str


Event = Annotated[
    CaseOpened
    | InterestCharged
    | FeeCharged
    | StatementIssued
    | BucketChanged
    | StageChanged
    | ContactAttempted
    | PaymentReceived
    | BalanceWaived
    | PromiseMade
    | PromiseKept
    | PromiseBroken
    | PlanAgreed
    | InstallmentPaid
    | PlanBroken
    | PlanCompleted
    | Placed
    | Recalled
    | CommissionEarned
    | LegalReferred
    | LegalMilestoneReached
    | OverrideApplied
    | OverrideRejected
    | HoldStarted
    | HoldEnded
    | ChargedOff
    | CaseClosed
    | ArmChanged,
    Field(discriminator="type"),
]
