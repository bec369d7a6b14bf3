"""What can be asked of a case: commands, decided by `domain.case.decide`.

Time passing, payments and contact outcomes come from the outside world; overrides come
from people (POLICY §6) and are checked against their authority before anything changes.
Every override carries the actor (id and role, never a name) and a reason.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.arms import Arm
from domain.events import (
    AccountFacts,
    Actor,
    Channel,
    LegalMilestoneName,
    Outcome,
    PhoneLine,
    Target,
)
from domain.money import Money, PositiveMoney
from domain.policy import Stage


class _Command(BaseModel):
    model_config = ConfigDict(frozen=True)


class OpenCase(_Command):
    """A placement row, stripped of personal data, opens the case."""

    kind: Literal["open_case"] = "open_case"
    account: AccountFacts
    principal: Decimal = Field(ge=0)
    interest: Decimal = Field(ge=0)
    fees: Decimal = Field(ge=0)
    oldest_unpaid_due_date: date
    unpaid_minimum: Decimal = Field(gt=0)
    #: The arm the importer drew for the account (`domain.arms.assign_arm`); the case is
    #: started under that arm's profile, so the decider's policy is already the arm's.
    arm: Arm = "champion"


class AdvanceTime(_Command):
    """Business time reached `now`: run every scheduled rule whose time has come."""

    kind: Literal["advance_time"] = "advance_time"


class ReceivePayment(_Command):
    kind: Literal["receive_payment"] = "receive_payment"
    reference: str = Field(min_length=1, max_length=64)
    amount: PositiveMoney
    # The value date the payments feed reports; when absent, the bank date it arrived.
    # The payment takes effect when it arrives either way: time never runs backwards.
    paid_on: date | None = None


class RecordContactAttempt(_Command):
    """The outcome of an attempt the plan called for (an input, not decided here)."""

    kind: Literal["record_contact_attempt"] = "record_contact_attempt"
    channel: Channel
    target: Target
    outcome: Outcome
    planned_at: datetime
    line: PhoneLine | None = None
    contact_index: int | None = None
    collector_ids: tuple[str, ...] = ()
    recording_ref: str | None = None
    provider_ref: str | None = None


class _Override(_Command):
    actor: Actor
    reason: str = Field(min_length=1, max_length=500)


class PromiseToPay(_Override):
    kind: Literal["promise_to_pay"] = "promise_to_pay"
    amount: Money
    date: date


class InstallmentPlan(_Override):
    kind: Literal["installment_plan"] = "installment_plan"
    installments: int
    first_due: date


class Waiver(_Override):
    """Waive `amount` of the balance (fees first, then interest, then principal)."""

    kind: Literal["waiver"] = "waiver"
    amount: Money


class Settlement(_Override):
    """Settle for `amount`: the rest is waived, and the case closes `settled` once paid."""

    kind: Literal["settlement"] = "settlement"
    amount: Money


class Pause(_Override):
    kind: Literal["pause"] = "pause"
    until: date | None = None


class Resume(_Override):
    kind: Literal["resume"] = "resume"


class CeaseContact(_Override):
    kind: Literal["cease_contact"] = "cease_contact"


class OpenDispute(_Override):
    kind: Literal["dispute_open"] = "dispute_open"


class ResolveDispute(_Override):
    kind: Literal["dispute_resolve"] = "dispute_resolve"


class Escalate(_Override):
    kind: Literal["escalate"] = "escalate"
    to_stage: Stage


class EarlyPlacement(_Override):
    kind: Literal["early_placement"] = "early_placement"
    agency: str | None = None


class PackagePlacement(_Override):
    kind: Literal["package_placement"] = "package_placement"
    rate: Decimal
    agency: str | None = None


class Recall(_Override):
    kind: Literal["recall"] = "recall"


class RecordLegalMilestone(_Override):
    kind: Literal["legal_milestone"] = "legal_milestone"
    milestone: LegalMilestoneName


class CloseCase(_Override):
    kind: Literal["close"] = "close"
    outcome: Literal["closed", "written_off"] = "closed"


class MoveArm(_Override):
    """Move the case to the other arm of its champion / challenger test: it follows the
    other profile from now on. Reports still count it in the arm it was opened in
    (intention to treat, docs/DECISIONS.md). The case workflow decides it with the
    profile of the arm it moves to, which is what `arm_changed` then names."""

    kind: Literal["move_arm"] = "move_arm"
    arm: Arm


Override = Annotated[
    PromiseToPay
    | InstallmentPlan
    | Waiver
    | Settlement
    | Pause
    | Resume
    | CeaseContact
    | OpenDispute
    | ResolveDispute
    | Escalate
    | EarlyPlacement
    | PackagePlacement
    | Recall
    | RecordLegalMilestone
    | CloseCase
    | MoveArm,
    Field(discriminator="kind"),
]

Command = OpenCase | AdvanceTime | ReceivePayment | RecordContactAttempt | Override


#: Any command, discriminated by `kind`, for carrying commands in messages and scripts.
AnyCommand = Annotated[
    OpenCase | AdvanceTime | ReceivePayment | RecordContactAttempt | Override,
    Field(discriminator="kind"),
]
