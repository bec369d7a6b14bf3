"""The business instruments and what the interceptors feed them, on an in-memory metric
buffer of a real SDK runtime (no server: the recording itself is what is tested)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from temporalio.runtime import MetricBuffer

from activities.event_store import AppendEvents
from arrears.metrics import BusinessMetrics
from arrears.metrics.interceptors import newly_stored
from arrears.store.events import Appended
from domain.events import (
    Actor,
    ContactAttempted,
    Event,
    OverrideApplied,
    PaymentReceived,
    StageChanged,
)
from tests.arrears.metrics.conftest import recorded

AT = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)


def events() -> list[Event]:
    return [
        ContactAttempted(
            seq=1, at=AT, channel="call", target="debtor", outcome="no_answer", planned_at=AT
        ),
        StageChanged(seq=2, at=AT, stage="letter", previous="phone", reason="calendar"),
        PaymentReceived(
            seq=3,
            at=AT,
            reference="P-1",
            amount=Decimal("1234.07"),
            to_fees=Decimal("0"),
            to_interest=Decimal("34.07"),
            to_principal=Decimal("1200"),
            unapplied=Decimal("0"),
            paid_on=date(2026, 5, 4),
        ),
        OverrideApplied(
            seq=4,
            at=AT,
            override="waiver",
            actor=Actor(id="s-2", role="supervisor"),
            reason="hardship",
            args={"amount": "100.00"},
        ),
    ]


def test_each_stored_event_moves_its_own_metric_by_one_and_others_none(
    metrics: BusinessMetrics, buffer: MetricBuffer
) -> None:
    metrics.stored(events())

    assert recorded(buffer) == [
        ("arrears_contact_attempts", {"channel": "call", "outcome": "no_answer"}, 1),
        ("arrears_payments", {}, 1),
        ("arrears_payment_amount_cents", {}, 123407),
        ("arrears_overrides", {"kind": "waiver", "result": "applied"}, 1),
    ]


def test_an_append_retried_after_storing_part_counts_only_what_it_stored_itself() -> None:
    request = AppendEvents.model_construct(case_id="case-1", events=events(), summary=None)

    # seqs 1-3 were stored by an attempt whose answer was lost; this attempt stored 4.
    again = newly_stored(request, Appended(appended=1, already_stored=3, last_seq=4))
    nothing_new = newly_stored(request, Appended(appended=0, already_stored=4, last_seq=4))
    first = newly_stored(request, Appended(appended=4, already_stored=0, last_seq=4))

    assert [e.seq for e in again] == [4]
    assert nothing_new == []
    assert [e.seq for e in first] == [1, 2, 3, 4]


def test_open_cases_are_reported_for_every_stage_even_those_with_none(
    metrics: BusinessMetrics, buffer: MetricBuffer
) -> None:
    metrics.cases_by_stage({"phone": 2, "legal": 1})

    by_stage = {attrs["stage"]: value for name, attrs, value in recorded(buffer)}
    assert by_stage == {
        "reminder": 0, "phone": 2, "letter": 0, "visit": 0, "outsourcing": 0, "legal": 1,
    }  # fmt: skip
