"""Outsourcing (委外) and legal referral through the decider (POLICY §4).

Expected numbers are worked by hand in the comments. Most tests use a case that arrives
already in M4+ (`_placed_case`):

    statement day 5, grace 20; missed D = 2025-10-05 + 20 = 2025-10-25 (5,000.00 unpaid);
    opened 2026-03-06 00:00, the day after the 2026-03-05 statement: statement dates
    11-05, 12-05, 01-05, 02-05, 03-05 have passed -> n = 5 -> M4+, DPD
    6 + 30 + 31 + 31 + 28 + 6 = 132; credit limit 100,000.00 (never over it).
    No statement before 2026-04-05, so the balance does not move until then.

    90-day terms from 2026-03-06: first hand to 06-04 (25 + 30 + 31 + 4), second to
    09-02 (26 + 31 + 31 + 2), third to 12-01 (28 + 31 + 30 + 1), long-aged after that.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from itertools import pairwise

import pytest

from domain.commands import EarlyPlacement, Escalate, PackagePlacement, Settlement
from domain.events import (
    BucketChanged,
    CaseClosed,
    CommissionEarned,
    Event,
    LegalReferred,
    OverrideRejected,
    Placed,
    Recalled,
    StageChanged,
)
from domain.localtime import zone
from domain.outsourcing import term_ends
from domain.policy import CyclePolicy, OutsourcingPolicy, Policy
from domain.simulation import CaseRun
from tests.domain.conftest import (
    actor,
    advance,
    bank_time,
    of_type,
    open_case,
    pay,
    send,
    types,
)

D = Decimal

SHORT_TERMS = Policy(outsourcing=OutsourcingPolicy(term_days=9))
"""Nine-day terms, so four hands fit before the first statement (every number of the
policy is configuration): first 03-06 -> 03-15, second -> 03-24, third -> 04-02,
long-aged 04-02 -> 04-11 -> 04-20 -> 04-29 -> 05-08."""


def _placed_case(principal: str = "10000.00", policy: Policy | None = None) -> CaseRun:
    return open_case(
        principal=principal,
        unpaid_minimum="5000.00",
        credit_limit="100000.00",
        oldest_unpaid_due_date="2025-10-25",
        at=bank_time("2026-03-06"),
        policy=policy,
    )


def _hands(events: Iterable[Event]) -> list[tuple[datetime, str, Decimal]]:
    return [(p.at, p.hand, p.commission_rate) for p in of_type(events, Placed)]


# --- placements -------------------------------------------------------------------------


def test_entering_m4_places_the_case_at_the_first_hand_for_twenty_percent() -> None:
    run = open_case()  # default case: M3 on 2026-05-05, M4+ on 2026-06-05

    before = advance(run, bank_time("2026-06-04", 23, 59))
    events = advance(run, bank_time("2026-06-05"))

    assert of_type(before, Placed) == []
    [placed] = of_type(events, Placed)
    assert (placed.hand, placed.commission_rate) == ("first", D("0.20"))
    assert placed.at == bank_time("2026-06-05")
    # 90 days: 25 (rest of June) + 31 + 31 + 3 = 2026-09-03
    assert placed.term_ends == bank_time("2026-09-03")
    assert types(events)[-2:] == ["stage_changed", "placed"]
    assert run.state.stage == "outsourcing"


NEW_YORK = zone("America/New_York")


def _new_york_bank(term_days: int) -> Policy:
    """A bank in New York (daylight saving from 03-08 to 11-01 in 2026)."""
    return Policy(
        cycle=CyclePolicy(bank_timezone="America/New_York"),
        outsourcing=OutsourcingPolicy(term_days=term_days),
    )


def test_a_term_begun_at_a_statement_ends_at_the_banks_midnight_across_daylight_saving() -> None:
    # A bank in New York, terms of 160 days: placed at the M4+ statement, 2026-06-05
    # 00:00 EDT (UTC-4); 25 + 31 + 31 + 30 + 31 + 12 = 160 days later is 2026-11-12,
    # after clocks went back on 11-01, so its midnight is 05:00 UTC, not 04:00.
    run = open_case(policy=_new_york_bank(term_days=160), at=datetime(2026, 3, 1, tzinfo=NEW_YORK))

    events = advance(run, datetime(2026, 6, 5, tzinfo=NEW_YORK))

    [placed] = of_type(events, Placed)
    assert placed.at == datetime(2026, 6, 5, 4, tzinfo=UTC)
    assert placed.term_ends == datetime(2026, 11, 12, 5, tzinfo=UTC)


def test_a_term_begun_as_a_case_opens_ends_at_the_banks_clock_time_across_daylight_saving() -> None:
    # New York, 9-day terms: a case arriving in M4+ is placed as it opens, 2026-10-26
    # 00:00 EDT (04:00 UTC). Nine days on the bank's calendar is 2026-11-04 00:00, after
    # clocks went back on 11-01: 05:00 UTC (9 x 24 hours would end at 23:00 the day before).
    run = open_case(
        policy=_new_york_bank(term_days=9),
        oldest_unpaid_due_date="2026-05-25",
        at=datetime(2026, 10, 26, tzinfo=NEW_YORK),
    )

    [placed] = of_type(run.events, Placed)
    assert placed.at == datetime(2026, 10, 26, 4, tzinfo=UTC)
    assert placed.term_ends == datetime(2026, 11, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    "written",
    [
        datetime(2026, 9, 8, 4, tzinfo=UTC),
        datetime(2026, 9, 8, tzinfo=timezone(timedelta(hours=-4))),  # as read back from JSON
        datetime(2026, 9, 8, tzinfo=NEW_YORK),
    ],
    ids=["utc", "fixed-offset", "zone"],
)
def test_a_term_ends_at_the_same_instant_whatever_zone_its_start_is_written_in(
    written: datetime,
) -> None:
    # 2026-09-08 00:00 EDT + 90 days on the calendar = 2026-12-07 00:00 EST = 05:00 UTC
    assert term_ends(written, OutsourcingPolicy(), "America/New_York") == datetime(
        2026, 12, 7, 5, tzinfo=UTC
    )


def test_terms_counted_in_the_starts_zone_are_kept_for_cases_recorded_before_the_rule() -> None:
    # The count before 2026-11-25: 90 days added in the zone the start is written in,
    # elapsed hours for a fixed offset (an hour short across the change of 11-01).
    legacy = OutsourcingPolicy(term_calendar="start_zone")
    start = datetime(2026, 9, 8, tzinfo=timezone(timedelta(hours=-4)))
    assert term_ends(start, legacy, "America/New_York") == datetime(2026, 12, 7, 4, tzinfo=UTC)


def test_a_case_arriving_in_m4_is_placed_at_the_first_hand_when_it_opens() -> None:
    run = _placed_case()

    [change] = of_type(run.events, BucketChanged)
    assert (change.bucket, change.dpd) == ("M4+", 132)
    assert _hands(run.events) == [(bank_time("2026-03-06"), "first", D("0.20"))]
    assert of_type(run.events, Placed)[0].term_ends == bank_time("2026-06-04")


def test_at_the_end_of_each_term_the_case_is_recalled_and_placed_at_the_next_hand() -> None:
    run = _placed_case()

    not_yet = advance(run, bank_time("2026-06-03", 23, 59))
    events = advance(run, bank_time("2027-06-01"))

    assert of_type(not_yet, Recalled) == []
    # The balance stays far below 50,000.00, so after the third hand come long-aged
    # placements: 2026-12-01 + 90 = 2027-03-01 (30 + 31 + 28 + 1), + 90 = 2027-05-30
    # (30 + 30 + 30).
    assert _hands(events) == [
        (bank_time("2026-06-04"), "second", D("0.25")),
        (bank_time("2026-09-02"), "third", D("0.30")),
        (bank_time("2026-12-01"), "long_aged", D("0.35")),
        (bank_time("2027-03-01"), "long_aged", D("0.35")),
        (bank_time("2027-05-30"), "long_aged", D("0.35")),
    ]
    recalls = of_type(events, Recalled)
    assert [(r.at, r.hand, r.reason) for r in recalls] == [
        (bank_time("2026-06-04"), "first", "term_ended"),
        (bank_time("2026-09-02"), "second", "term_ended"),
        (bank_time("2026-12-01"), "third", "term_ended"),
        (bank_time("2027-03-01"), "long_aged", "term_ended"),
        (bank_time("2027-05-30"), "long_aged", "term_ended"),
    ]
    # Each recall comes right before the next placement
    kinds = [t for t in types(events) if t in ("recalled", "placed")]
    assert kinds == ["recalled", "placed"] * 5


def test_each_hand_goes_to_a_different_agency_from_the_one_before() -> None:
    run = _placed_case()

    advance(run, bank_time("2027-03-01"))

    agencies = [p.agency for p in of_type(run.events, Placed)]
    assert len(agencies) == 5  # first, second, third, long-aged, long-aged
    assert all(a != b for a, b in pairwise(agencies))
    assert len(set(agencies[:3])) == 3  # first three hands: three different agencies
    # The agency recalled is the one placed
    recalled = [r.agency for r in of_type(run.events, Recalled)]
    assert recalled == agencies[:4]


# --- commission -------------------------------------------------------------------------


def test_each_hand_earns_its_own_rate_on_payments_received_while_placed() -> None:
    run = _placed_case()

    payments = [
        ("2026-04-01", "C-1"),  # first hand
        ("2026-07-01", "C-2"),  # second hand
        ("2026-10-01", "C-3"),  # third hand
        ("2026-12-15", "C-4"),  # long-aged
    ]
    earned: list[CommissionEarned] = []
    for day, reference in payments:
        events = pay(run, "1000.00", bank_time(day, 12), reference)
        [commission] = of_type(events, CommissionEarned)
        placement = run.state.placement  # the agency holding the case when it was paid
        assert placement is not None and commission.agency == placement.agency
        earned.append(commission)

    # 1,000.00 each (never more than owed, none of them clears the 5,000.00 of 2025-10-25):
    # 20 % = 200.00, 25 % = 250.00, 30 % = 300.00, 35 % = 350.00
    assert [(c.hand, c.rate, c.amount, c.payment_reference) for c in earned] == [
        ("first", D("0.20"), D("200.00"), "C-1"),
        ("second", D("0.25"), D("250.00"), "C-2"),
        ("third", D("0.30"), D("300.00"), "C-3"),
        ("long_aged", D("0.35"), D("350.00"), "C-4"),
    ]


def test_commission_is_earned_on_every_payment_and_rounded_half_up() -> None:
    run = _placed_case()
    advance(run, bank_time("2026-12-02"))  # long-aged, 35 %

    first = pay(run, "333.33", bank_time("2026-12-02", 12), "A")
    second = pay(run, "100.01", bank_time("2026-12-03", 12), "B")

    # 333.33 x 0.35 = 116.6655 -> 116.67 ; 100.01 x 0.35 = 35.0035 -> 35.00
    assert [c.amount for c in of_type(first, CommissionEarned)] == [D("116.67")]
    assert [c.amount for c in of_type(second, CommissionEarned)] == [D("35.00")]


def test_an_early_placement_earns_fifteen_percent() -> None:
    run = open_case(flags="cash_out")
    placed = send(
        run,
        EarlyPlacement(actor=actor("supervisor"), reason="cash-out"),
        bank_time("2026-03-02", 10),
    )

    events = pay(run, "333.33", bank_time("2026-03-02", 12))

    assert _hands(placed) == [(bank_time("2026-03-02", 10), "early", D("0.15"))]
    # 333.33 x 0.15 = 49.9995 -> 50.00
    [commission] = of_type(events, CommissionEarned)
    assert (commission.hand, commission.amount) == ("early", D("50.00"))


def test_after_an_early_placement_the_next_hand_is_the_first() -> None:
    run = open_case(flags="cash_out")
    send(
        run,
        EarlyPlacement(actor=actor("supervisor"), reason="cash-out"),
        bank_time("2026-03-02", 10),
    )

    # 2026-03-02 10:00 + 90 days = 2026-05-31 10:00 (29 + 30 + 31)
    events = advance(run, bank_time("2026-05-31", 10))

    assert [(r.hand, r.reason) for r in of_type(events, Recalled)] == [("early", "term_ended")]
    assert _hands(events) == [(bank_time("2026-05-31", 10), "first", D("0.20"))]


def test_a_package_placement_earns_the_rate_set_by_the_override() -> None:
    run = open_case()
    send(
        run,
        PackagePlacement(actor=actor("supervisor"), reason="batch sale", rate=D("0.40")),
        bank_time("2026-03-02", 10),
    )

    events = pay(run, "500.00", bank_time("2026-03-02", 12))

    # 500.00 x 0.40 = 200.00
    [commission] = of_type(events, CommissionEarned)
    assert (commission.hand, commission.rate, commission.amount) == (
        "package",
        D("0.40"),
        D("200.00"),
    )


def test_no_commission_is_earned_while_the_case_is_not_placed() -> None:
    run = open_case()

    events = pay(run, "500.00", bank_time("2026-03-02", 12))

    assert of_type(events, CommissionEarned) == []


def test_commission_is_on_the_money_applied_not_on_an_overpayment() -> None:
    run = _placed_case()

    # Balance on 2026-04-01 is still the opening 10,000.00; 12,000.00 paid leaves
    # 2,000.00 unapplied. 20 % x 10,000.00 = 2,000.00.
    events = pay(run, "12000.00", bank_time("2026-04-01", 12))

    [commission] = of_type(events, CommissionEarned)
    assert commission.amount == D("2000.00")
    assert of_type(events, CaseClosed)[0].outcome == "cured"


# --- legal referral ---------------------------------------------------------------------


def test_a_third_hand_recalled_at_or_above_the_legal_threshold_goes_to_legal() -> None:
    run = _placed_case(principal="60000.00")

    events = advance(run, bank_time("2026-12-01"))
    after = advance(run, bank_time("2027-06-01"))

    # first and second hands are recalled and replaced whatever the balance
    assert [p.hand for p in of_type(events, Placed)] == ["second", "third"]
    [referred] = of_type(events, LegalReferred)
    assert referred.at == bank_time("2026-12-01")
    assert referred.reason == "threshold"
    assert referred.balance >= D("60000.00")  # it only grew from 60,000.00
    assert types(events)[-3:] == ["recalled", "legal_referred", "stage_changed"]
    assert of_type(events, StageChanged)[-1].stage == "legal"
    assert run.state.stage == "legal" and run.state.placement is None
    assert of_type(after, Placed) == []  # legal is the end of the placements


def test_a_third_hand_below_the_threshold_goes_to_a_long_aged_placement() -> None:
    run = _placed_case(principal="20000.00")

    events = advance(run, bank_time("2026-12-01"))

    assert of_type(events, LegalReferred) == []
    assert _hands(events)[-1] == (bank_time("2026-12-01"), "long_aged", D("0.35"))


def test_the_legal_threshold_is_reached_at_exactly_fifty_thousand() -> None:
    at = _placed_case(principal="50000.00", policy=SHORT_TERMS)
    below = _placed_case(principal="49999.99", policy=SHORT_TERMS)

    # Third hand recalled 2026-04-02, before any statement: the balance is the opening one.
    at_events = advance(at, bank_time("2026-04-02"))
    below_events = advance(below, bank_time("2026-04-02"))

    [referred] = of_type(at_events, LegalReferred)
    assert referred.balance == D("50000.00")
    assert of_type(below_events, LegalReferred) == []
    assert _hands(below_events)[-1] == (bank_time("2026-04-02"), "long_aged", D("0.35"))


def test_a_long_aged_case_goes_to_legal_at_the_statement_where_it_crosses_the_threshold() -> None:
    run = _placed_case(principal="48900.00", policy=SHORT_TERMS)

    # 2026-04-02: third hand recalled at 48,900.00 < 50,000.00 -> long-aged.
    # S 2026-04-05: 30 days (03-06 -> 04-05): 48,900.00 x 0.0005 x 30 = 733.50
    #   balance 49,633.50 < 50,000.00 -> stays long-aged; minimum 4,963.35, due 04-25
    # 04-11, 04-20: long-aged recalled at 49,633.50 and placed again
    # D 2026-04-25: late fee 1 % x (5,000.00 + 4,963.35) = 99.6335 -> 99.63 -> 49,733.13
    # 04-29: long-aged recalled at 49,733.13 and placed again (term to 05-08)
    # S 2026-05-05: 30 days: 49,633.50 x 0.015 = 744.5025 -> 744.50
    #   balance 49,733.13 + 744.50 = 50,477.63 >= 50,000.00 -> legal
    first_statement = advance(run, bank_time("2026-04-05"))
    assert run.state.total == D("49633.50")
    assert of_type(first_statement, LegalReferred) == []

    waiting = advance(run, bank_time("2026-05-04", 23, 59))
    assert of_type(waiting, LegalReferred) == []
    assert [p.hand for p in of_type(waiting, Placed)] == ["long_aged"] * 3
    assert run.state.total == D("49733.13")

    events = advance(run, bank_time("2026-05-05"))

    [referred] = of_type(events, LegalReferred)
    assert (referred.at, referred.reason, referred.balance) == (
        bank_time("2026-05-05"),
        "long_aged_threshold",
        D("50477.63"),
    )
    [recalled] = of_type(events, Recalled)
    assert (recalled.hand, recalled.reason) == ("long_aged", "legal_referral")
    assert run.state.stage == "legal" and run.state.placement is None


def test_a_supervisor_may_refer_a_case_in_m3_to_legal() -> None:
    run = open_case()
    advance(run, bank_time("2026-05-06"))  # M3, letter

    events = send(
        run,
        Escalate(actor=actor("supervisor"), reason="assets found", to_stage="legal"),
        bank_time("2026-05-06", 10),
    )

    assert types(events) == ["override_applied", "legal_referred", "stage_changed"]
    # balance then: 10,378.18 (S3 of the default case, see test_cycle.py)
    assert of_type(events, LegalReferred)[0].balance == D("10378.18")
    assert run.state.stage == "legal"


def test_a_supervisor_may_not_refer_a_case_in_m2_to_legal() -> None:
    run = open_case()
    advance(run, bank_time("2026-04-06"))  # M2, phone

    events = send(
        run,
        Escalate(actor=actor("supervisor"), reason="assets found", to_stage="legal"),
        bank_time("2026-04-06", 10),
    )

    [rejected] = of_type(events, OverrideRejected)
    assert rejected.rule == "legal_referral"
    assert types(events) == ["override_rejected"]
    assert run.state.stage == "phone"


def test_a_referral_to_legal_recalls_the_case_from_its_agency() -> None:
    run = _placed_case()

    events = send(
        run,
        Escalate(actor=actor("supervisor"), reason="assets found", to_stage="legal"),
        bank_time("2026-03-10", 10),
    )

    assert types(events) == ["override_applied", "recalled", "legal_referred", "stage_changed"]
    assert of_type(events, Recalled)[0].reason == "legal_referral"
    # no more term ends, no more placements
    assert of_type(advance(run, bank_time("2026-09-01")), Placed) == []
    assert run.state.stage == "legal"
    assert date(2026, 3, 10) < date(2026, 6, 4)  # the first term had not ended


def test_a_case_cured_while_placed_is_recalled_from_its_agency() -> None:
    run = _placed_case()

    # Past due on 2026-04-01: only the 5,000.00 of 2025-10-25 (no statement yet).
    events = pay(run, "5000.00", bank_time("2026-04-01", 12))

    # The agency earns 20 % x 5,000.00 = 1,000.00, then is told the case is over: a cured
    # account must not stay with an agency that goes on collecting.
    assert types(events) == [
        "payment_received",
        "commission_earned",
        "bucket_changed",  # M4+ -> M0
        "recalled",
        "case_closed",
    ]
    assert of_type(events, CommissionEarned)[0].amount == D("1000.00")
    [recalled] = of_type(events, Recalled)
    assert (recalled.hand, recalled.reason) == ("first", "cured")
    assert run.state.outcome == "cured" and run.state.placement is None


def test_a_case_settled_while_placed_is_recalled_from_its_agency() -> None:
    run = _placed_case()
    send(
        run,
        Settlement(actor=actor("manager"), reason="lump sum offer", amount=D("8000.00")),
        bank_time("2026-03-10", 10),
    )

    # 10,000.00 - 8,000.00 = 2,000.00 waived (20 %); 8,000.00 paid: settled.
    events = pay(run, "8000.00", bank_time("2026-03-11", 12))

    # commission 20 % x 8,000.00 = 1,600.00
    assert of_type(events, CommissionEarned)[0].amount == D("1600.00")
    assert [r.reason for r in of_type(events, Recalled)] == ["settled"]
    assert of_type(events, CaseClosed)[0].outcome == "settled"
