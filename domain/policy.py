"""The collections policy as data: every number of POLICY.md, with the defaults of `cn-card`.

A bank changes its policy by shipping a file, not by changing code: each rule module
reads its numbers from the matching section here. Section and field names follow
POLICY.md so a reader can go from a rule to its number and back.
"""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Stage = Literal["reminder", "phone", "letter", "visit", "outsourcing", "legal"]
STAGES: tuple[Stage, ...] = ("reminder", "phone", "letter", "visit", "outsourcing", "legal")
Hand = Literal["early", "first", "second", "third", "long_aged", "package"]
Role = Literal["collector", "supervisor", "manager", "auditor"]

# POLICY §3 table: the stage each bucket calls for ("M4+" is bucket 4).
_STAGE_BY_BUCKET: dict[int, Stage] = {
    0: "reminder",
    1: "phone",
    2: "phone",
    3: "letter",
    4: "outsourcing",
}
# POLICY §4 commission rates by hand [004]; `package` is set per placement by override.
_HAND_RATES: dict[Hand, Decimal] = {
    "early": Decimal("0.15"),
    "first": Decimal("0.20"),
    "second": Decimal("0.25"),
    "third": Decimal("0.30"),
    "long_aged": Decimal("0.35"),
}
# POLICY §6 waiver approval limits as a share of the balance [004].
_WAIVER_LIMITS: dict[Role, Decimal] = {
    "collector": Decimal("0"),
    "supervisor": Decimal("0.20"),
    "manager": Decimal("0.50"),
    "auditor": Decimal("0"),
}

_STAFF: tuple[Role, ...] = ("collector", "supervisor", "manager")
_APPROVERS: tuple[Role, ...] = ("supervisor", "manager")
_OVERRIDE_ROLES: dict[str, tuple[Role, ...]] = {
    "promise_to_pay": _STAFF,
    "installment_plan": _APPROVERS,
    "waiver": _STAFF,  # limited further by waiver_limits (a collector's is 0 %)
    "settlement": _STAFF,
    "pause": _APPROVERS,
    "resume": _APPROVERS,
    "cease_contact": _STAFF,
    "dispute_open": _STAFF,
    "dispute_resolve": _APPROVERS,
    "escalate": _APPROVERS,
    "early_placement": _APPROVERS,
    "package_placement": _APPROVERS,
    "recall": _APPROVERS,
    "legal_milestone": _APPROVERS,
    "close": ("manager",),
    "move_arm": _APPROVERS,  # champion / challenger: never silently, always recorded
}


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _merged(defaults: dict[Any, Any], given: Any) -> Any:
    """A bank's file names only the entries it changes: the others keep their defaults."""
    return {**defaults, **given} if isinstance(given, dict) else given


def _require_share(values: dict[Any, Decimal], what: str) -> None:
    for key, value in values.items():
        if not Decimal(0) <= value <= Decimal(1):
            raise ValueError(f"{what} for {key} must be between 0 and 1, not {value}")


class MoneyPolicy(_Section):
    """POLICY §1."""

    currency: str = "CNY"
    #: How amounts and dates are written for the people who work this profile (a CLDR
    #: locale such as zh_CN or en_US), and the console's language unless a user chose one.
    locale: str = "zh_CN"


class CyclePolicy(_Section):
    """POLICY §2: billing cycle, interest, fees and minimum payments."""

    bank_timezone: str = "Asia/Shanghai"

    @field_validator("bank_timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {name!r} (an IANA name such as Asia/Shanghai)"
            ) from None
        return name

    default_grace_days: int = Field(default=20, ge=0, le=60)
    daily_interest_rate: Decimal = Field(default=Decimal("0.0005"), ge=0, le=Decimal("0.01"))
    over_limit_fee_rate: Decimal = Field(default=Decimal("0.05"), ge=0, le=1)
    over_limit_fee_minimum: Decimal = Field(default=Decimal("5.00"), ge=0)
    late_fee_rate: Decimal = Field(default=Decimal("0.01"), ge=0, le=1)
    late_fee_minimum: Decimal = Field(default=Decimal("10.00"), ge=0)
    minimum_payment_rate: Decimal = Field(default=Decimal("0.10"), gt=0, le=1)


class DelinquencyPolicy(_Section):
    """POLICY §2: buckets, DPD, charge-off."""

    charge_off_dpd: int = Field(default=180, ge=1)
    top_bucket: int = Field(default=4, ge=1, description="M4+ : buckets above are reported as it")


class StagePolicy(_Section):
    """POLICY §3: which stage each bucket calls for, and the letter's response window."""

    stage_by_bucket: dict[int, Stage] = Field(default_factory=lambda: dict(_STAGE_BY_BUCKET))
    letter_response_days: int = Field(default=10, ge=1)

    @model_validator(mode="after")
    def _every_bucket_from_zero(self) -> StagePolicy:
        buckets = sorted(self.stage_by_bucket)
        if not buckets or buckets != list(range(len(buckets))):
            raise ValueError("stage_by_bucket must map every bucket from 0 up, without gaps")
        order = [STAGES.index(self.stage_by_bucket[b]) for b in buckets]
        if order != sorted(order):
            raise ValueError("stage_by_bucket must never map a higher bucket to an earlier stage")
        return self


class ContactPolicy(_Section):
    """POLICY §3 (what each stage sends) and §5 (contact rules)."""

    window_start: time = time(8, 0)
    window_end: time = time(22, 0)
    reminder_sms_within_hours: int = Field(default=24, ge=1)
    reminder_second_sms_after_days: int = Field(default=5, ge=1)
    m1_call_threshold: Decimal = Field(default=Decimal("2000.00"), ge=0)
    m1_sms_every_days: int = Field(default=7, ge=1)
    calls_per_week_contactable: int = Field(default=3, ge=1, le=7)
    calls_per_week_uncontactable: int = Field(default=4, ge=1, le=7)
    contactable_lookback_days: int = Field(default=7, ge=1)
    max_unanswered_calls_per_number_per_day: int = Field(default=6, ge=1)
    max_calls_per_7_days: int | None = Field(default=None, ge=1)
    quiet_days_after_conversation: int = Field(default=0, ge=0)
    third_party_calls_from_bucket: int = Field(default=2, ge=0)
    max_third_party_calls_per_contact_per_week: int = Field(default=1, ge=0)
    third_party_calls_per_contact_total: int | None = Field(default=None, ge=0)
    visit_collectors: int = Field(default=2, ge=2)
    visit_max_minutes: int = Field(default=20, ge=1)

    @model_validator(mode="after")
    def _window_is_a_day_range(self) -> ContactPolicy:
        if self.window_start >= self.window_end:
            raise ValueError("window_start must be before window_end")
        return self


class OutsourcingPolicy(_Section):
    """POLICY §4: placements, hands and commission rates."""

    term_days: int = Field(default=90, ge=1)
    #: How a term's days are counted (`domain.outsourcing.term_ends`): "bank" on the
    #: bank's calendar, the rule. "start_zone" added them in whatever zone the start was
    #: written in, which could differ by an hour across daylight saving; it is kept only
    #: so that cases recorded before 2026-11-25 replay as they ran (the case workflow
    #: sets it for them, workflow patch "placement-terms-on-the-bank-calendar"). Not a
    #: choice for a bank's policy file, and never serialised: a policy's JSON (workflow
    #: inputs, histories) is what it was before, and workers of the previous release
    #: can still read it.
    term_calendar: Literal["bank", "start_zone"] = Field(default="bank", exclude=True)
    rates: dict[Hand, Decimal] = Field(default_factory=lambda: dict(_HAND_RATES))

    @field_validator("rates", mode="before")
    @classmethod
    def _rates_over_defaults(cls, given: Any) -> Any:
        return _merged(_HAND_RATES, given)

    @field_validator("rates")
    @classmethod
    def _rates_are_shares(cls, rates: dict[Hand, Decimal]) -> dict[Hand, Decimal]:
        _require_share(dict(rates), "the commission rate")
        return rates

    @model_validator(mode="after")
    def _package_range(self) -> OutsourcingPolicy:
        if self.package_rate_min > self.package_rate_max:
            raise ValueError("package_rate_min must not exceed package_rate_max")
        return self

    package_rate_min: Decimal = Field(default=Decimal("0.35"), ge=0, le=1)
    package_rate_max: Decimal = Field(default=Decimal("0.50"), ge=0, le=1)
    default_agency: str = "agency-a"
    agencies: tuple[str, ...] = ("agency-a", "agency-b", "agency-c")


class LegalPolicy(_Section):
    """POLICY §4: legal referral."""

    threshold: Decimal = Field(default=Decimal("50000.00"), ge=0)
    supervisor_referral_from_bucket: int = Field(default=3, ge=0)


class PromisePolicy(_Section):
    """POLICY §6: promises to pay and installment plans."""

    max_days_ahead: int = Field(default=30, ge=1)
    grace_days: int = Field(default=2, ge=0)
    max_installments: int = Field(default=60, ge=1)


class AuthorityPolicy(_Section):
    """POLICY §6: who may do what. Waiver limits are shares of the balance waived.

    Collectors record what a debtor says (a promise, a cease request, a dispute);
    supervisors approve plans, waivers up to their limit, holds, placements and
    escalations; closing a case is a manager's decision; auditors only read.
    """

    waiver_limits: dict[Role, Decimal] = Field(default_factory=lambda: dict(_WAIVER_LIMITS))
    override_roles: dict[str, tuple[Role, ...]] = Field(
        default_factory=lambda: dict(_OVERRIDE_ROLES)
    )

    @field_validator("waiver_limits", mode="before")
    @classmethod
    def _limits_over_defaults(cls, given: Any) -> Any:
        return _merged(_WAIVER_LIMITS, given)

    @field_validator("override_roles", mode="before")
    @classmethod
    def _roles_over_defaults(cls, given: Any) -> Any:
        return _merged(_OVERRIDE_ROLES, given)

    @field_validator("waiver_limits")
    @classmethod
    def _limits_are_shares(cls, limits: dict[Role, Decimal]) -> dict[Role, Decimal]:
        _require_share(dict(limits), "the waiver limit")
        return limits


class RetentionPolicy(_Section):
    """POLICY §5: records kept this long after the case ends, then purged of personal data."""

    years_after_close: int = Field(default=5, ge=1)


class ChallengerPolicy(_Section):
    """A champion / challenger test: `split` of the new cases (drawn by `domain.arms`
    from the account id) are opened under the `profile` named here, the rest under this
    profile. Checked against the challenger's own file when the profile is loaded
    (`arrears.policies.load_arms`).

    Not serialised (like `term_calendar`): a case carries the profile of its own arm,
    and the test belongs to the importer, not to the case; a policy's JSON in workflow
    inputs stays what it was, readable by workers of the previous release."""

    profile: str = Field(min_length=1)
    split: Decimal = Field(ge=0, le=1)


class Policy(_Section):
    """A complete policy profile. All defaults are `cn-card` (POLICY.md)."""

    name: str = "cn-card"
    money: MoneyPolicy = MoneyPolicy()
    cycle: CyclePolicy = CyclePolicy()
    delinquency: DelinquencyPolicy = DelinquencyPolicy()
    stages: StagePolicy = StagePolicy()
    contact: ContactPolicy = ContactPolicy()
    outsourcing: OutsourcingPolicy = OutsourcingPolicy()
    legal: LegalPolicy = LegalPolicy()
    promises: PromisePolicy = PromisePolicy()
    authority: AuthorityPolicy = AuthorityPolicy()
    retention: RetentionPolicy = RetentionPolicy()
    #: No test unless a profile names one (`[challenger]` in its file).
    challenger: ChallengerPolicy | None = Field(default=None, exclude=True)
