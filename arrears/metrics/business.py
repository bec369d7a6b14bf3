"""The business metrics (`arrears_*`), on a Temporal SDK metric meter.

They are recorded through the meter of the worker's runtime, so they are served on the
same Prometheus endpoint as the SDK's own metrics (`temporal_*`), with the same labels
the runtime adds (`service_name`). Counters count what was *recorded*: a contact attempt
or a payment is counted when its event is stored for the first time (never again when a
retried activity appends it once more), so a counter agrees with the read models.

Label values come from closed sets (channels, outcomes, override kinds, stages, failure
types): never a case id, account id or anything personal, which would also make the
series count grow with the book.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Final, get_args

from temporalio.common import MetricMeter

from domain.events import (
    ContactAttempted,
    Event,
    OverrideApplied,
    OverrideRejected,
    PaymentReceived,
)
from domain.policy import Stage

CONTACT_ATTEMPTS: Final = "arrears_contact_attempts"
PAYMENTS: Final = "arrears_payments"
PAYMENT_AMOUNT: Final = "arrears_payment_amount_cents"
OVERRIDES: Final = "arrears_overrides"
APPROVALS_PENDING: Final = "arrears_approvals_pending"
CASES: Final = "arrears_cases"
ACTIVITY_FAILURES: Final = "arrears_activity_failures"

#: Every business metric, for the dashboard's and the tests' cross-checks.
NAMES: Final = (
    CONTACT_ATTEMPTS,
    PAYMENTS,
    PAYMENT_AMOUNT,
    OVERRIDES,
    APPROVALS_PENDING,
    CASES,
    ACTIVITY_FAILURES,
)

STAGES: Final[tuple[Stage, ...]] = get_args(Stage)

#: The event with which an override becomes a request for a second person (four-eyes,
#: issue 16); counted as an override with result `requested`.
APPROVAL_REQUESTED: Final = "approval_requested"


def cents(amount: Decimal) -> int:
    """An amount in minor units: counters are integers, and money stays exact in them."""
    return int((amount * 100).to_integral_value())


def _type_of(event: Event) -> str:
    """An event's type as a plain string: the requests' events may not be in `Event` yet."""
    return str(event.type)


def _override_kind(event: Event) -> str:
    """The override kind an approval request carries (its `override`, a kind or an
    override with one), without importing the request's event class."""
    override = getattr(event, "override", None)
    kind = getattr(override, "kind", override)
    return kind if isinstance(kind, str) else "unknown"


class BusinessMetrics:
    """The `arrears_*` instruments, created once on a meter."""

    def __init__(self, meter: MetricMeter) -> None:
        self._contacts = meter.create_counter(
            CONTACT_ATTEMPTS, "Contact attempts recorded, by channel and outcome."
        )
        self._payments = meter.create_counter(PAYMENTS, "Payments recorded.")
        self._amount = meter.create_counter(
            PAYMENT_AMOUNT, "Sum of the payments recorded, in cents.", "cents"
        )
        self._overrides = meter.create_counter(
            OVERRIDES, "Overrides by kind and result (applied, requested, rejected)."
        )
        self._pending = meter.create_gauge(
            APPROVALS_PENDING, "Approval requests waiting for a second person."
        )
        self._cases = meter.create_gauge(CASES, "Open cases by stage (the cases read model).")
        self._failures = meter.create_counter(
            ACTIVITY_FAILURES, "Failed activity attempts, by activity type and failure type."
        )
        # Served as 0 from the start (a series that appears only with its first payment
        # makes `rate` and `increase` miss that payment); labelled series appear with
        # their first value, as usual.
        self._payments.add(0)
        self._amount.add(0)

    def stored(self, events: Iterable[Event]) -> None:
        """Count events the event store has just recorded (each exactly once)."""
        for event in events:
            if isinstance(event, ContactAttempted):
                self._contacts.add(1, {"channel": event.channel, "outcome": event.outcome})
            elif isinstance(event, PaymentReceived):
                self._payments.add(1)
                self._amount.add(cents(event.amount))
            elif isinstance(event, OverrideApplied):
                self.override(event.override, "applied")
            elif isinstance(event, OverrideRejected):  # scripted runs record refusals
                self.override(event.override, "rejected")
            elif _type_of(event) == APPROVAL_REQUESTED:
                self.override(_override_kind(event), "requested")

    def override(self, kind: str, result: str) -> None:
        self._overrides.add(1, {"kind": kind, "result": result})

    def activity_failed(self, activity_type: str, failure: str) -> None:
        self._failures.add(1, {"activity_type": activity_type, "failure": failure})

    def cases_by_stage(self, counts: Mapping[str, int]) -> None:
        """Every stage, a stage with no open case as 0 (not a series that stops)."""
        for stage in (*STAGES, *sorted(set(counts) - set(STAGES))):
            self._cases.set(counts.get(stage, 0), {"stage": stage})

    def approvals_pending(self, count: int) -> None:
        self._pending.set(count)
