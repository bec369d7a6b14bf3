"""Payments through the decider (POLICY §1, §2, §6): allocation, duplicates, backward
roll, cure, promises, installment plans, settlements and waivers.

Expected numbers are worked by hand in the comments. The default case (conftest) is
principal 10,000.00 opened 2026-03-01 with 1,000.00 unpaid since 2026-02-25; without
payments it carries (see test_cycle.py for the working):

    2026-03-05  interest 20.00; minimum 1,002.00 due 03-25 (2,002.00 due together), M1
    2026-03-26  late fee 20.02                     -> balance 10,040.02
    2026-04-05  interest 155.31; minimum 1,019.53 due 04-25, M2
                principal 10,000.00, interest 175.31, fees 20.02 (10,195.33)
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain.commands import InstallmentPlan, PromiseToPay, Settlement, Waiver
from domain.events import (
    BalanceWaived,
    BucketChanged,
    CaseClosed,
    InstallmentPaid,
    PaymentReceived,
    PlanAgreed,
    PlanBroken,
    PromiseBroken,
    PromiseKept,
    PromiseMade,
)
from domain.simulation import CaseRun
from domain.state import Due
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


# --- allocation -------------------------------------------------------------------------


def test_a_payment_goes_to_fees_first_then_interest_then_principal() -> None:
    run = open_case(fees="50.00", interest="200.00")  # balance 10,250.00

    [small] = of_type(pay(run, "230.00", bank_time("2026-03-02", 12), "P-1"), PaymentReceived)
    # 230.00: fees 50.00 in full, then 180.00 of the 200.00 interest, nothing to principal
    assert (small.to_fees, small.to_interest, small.to_principal, small.unapplied) == (
        D("50.00"),
        D("180.00"),
        D("0.00"),
        D("0.00"),
    )
    assert (run.state.fees, run.state.interest, run.state.principal) == (
        D("0.00"),
        D("20.00"),
        D("10000.00"),
    )

    [larger] = of_type(pay(run, "100.00", bank_time("2026-03-02", 13), "P-2"), PaymentReceived)
    # 100.00: the last 20.00 of interest, then 80.00 of principal
    assert (larger.to_fees, larger.to_interest, larger.to_principal) == (
        D("0.00"),
        D("20.00"),
        D("80.00"),
    )
    assert run.state.total == D("9920.00")  # 10,250.00 - 230.00 - 100.00


def test_a_payment_also_pays_the_unpaid_minimums_oldest_first() -> None:
    run = open_case()
    advance(run, bank_time("2026-03-27"))  # 02-25 1,000.00 and 03-25 1,002.00 unpaid

    pay(run, "1200.00", bank_time("2026-03-27", 12))

    # 1,000.00 clears 02-25; the other 200.00 reduces 03-25 to 802.00
    assert run.state.dues == (Due(due_date=date(2026, 3, 25), amount=D("802.00")),)


def test_an_overpayment_is_kept_as_unapplied_and_the_balance_stops_at_zero() -> None:
    run = open_case(fees="50.00", interest="200.00")

    [payment] = of_type(pay(run, "11000.00", bank_time("2026-03-02", 12)), PaymentReceived)

    # 50.00 + 200.00 + 10,000.00 = 10,250.00 applied; 11,000.00 - 10,250.00 = 750.00 over
    assert (payment.to_fees, payment.to_interest, payment.to_principal, payment.unapplied) == (
        D("50.00"),
        D("200.00"),
        D("10000.00"),
        D("750.00"),
    )
    assert run.state.total == D("0.00")
    assert run.state.outcome == "cured"


def test_a_payment_repeated_with_the_same_reference_is_ignored() -> None:
    run = open_case()
    pay(run, "300.00", bank_time("2026-03-02", 12), "BANK-42")

    again = pay(run, "300.00", bank_time("2026-03-02", 13), "BANK-42")
    other = pay(run, "300.00", bank_time("2026-03-02", 14), "BANK-43")

    assert again == []
    assert len(of_type(other, PaymentReceived)) == 1
    # 10,000.00 - 300.00 - 300.00: the duplicate moved nothing
    assert run.state.total == D("9400.00")
    assert run.state.dues == (Due(due_date=date(2026, 2, 25), amount=D("400.00")),)


# --- backward roll and cure -------------------------------------------------------------


def test_a_payment_clearing_the_oldest_minimum_rolls_the_bucket_back() -> None:
    run = open_case()
    advance(run, bank_time("2026-04-10"))  # M2: 02-25 and 03-25 missed, 04-25 not yet due

    events = pay(run, "1000.00", bank_time("2026-04-10", 12))

    # Money: fees 20.02, interest 175.31, principal 1,000.00 - 195.33 = 804.67
    [payment] = of_type(events, PaymentReceived)
    assert (payment.to_fees, payment.to_interest, payment.to_principal) == (
        D("20.02"),
        D("175.31"),
        D("804.67"),
    )
    # Minimums: 02-25 (1,000.00) cleared; oldest unpaid is 03-25, with one statement date
    # (04-05) since: M1; DPD 6 (03-26..03-31) + 10 = 16
    [roll] = of_type(events, BucketChanged)
    assert (roll.previous, roll.bucket, roll.dpd, roll.oldest_unpaid_due_date) == (
        "M2",
        "M1",
        16,
        date(2026, 3, 25),
    )
    assert not run.state.closed


def test_a_payment_a_cent_short_of_the_oldest_minimum_does_not_roll_back() -> None:
    run = open_case()
    advance(run, bank_time("2026-04-10"))

    events = pay(run, "999.99", bank_time("2026-04-10", 12))

    assert of_type(events, BucketChanged) == []
    assert run.state.bucket == 2
    assert run.state.dues[0] == Due(due_date=date(2026, 2, 25), amount=D("0.01"))


def test_paying_every_past_due_minimum_cures_the_case() -> None:
    run = open_case()
    advance(run, bank_time("2026-04-10"))

    # Past due: 1,000.00 (02-25) + 1,002.00 (03-25) = 2,002.00. The 04-25 minimum is
    # not past due yet and need not be paid for a cure.
    events = pay(run, "2002.00", bank_time("2026-04-10", 12))

    assert types(events) == ["payment_received", "bucket_changed", "case_closed"]
    [roll] = of_type(events, BucketChanged)
    assert (roll.bucket, roll.dpd, roll.oldest_unpaid_due_date) == ("M0", 0, None)
    [closed] = of_type(events, CaseClosed)
    assert closed.outcome == "cured"
    # 10,195.33 - 2,002.00 = 8,193.33 still owed, but the case is over
    assert run.state.total == D("8193.33")
    assert advance(run, bank_time("2026-06-01")) == []


def test_a_minimum_is_not_past_due_on_its_due_date_so_paying_the_older_ones_then_cures() -> None:
    run = open_case()
    advance(run, bank_time("2026-03-25", 9))  # the 1,002.00 of S1 falls due today

    # Only the 1,000.00 of 02-25 is past due during 03-25; 03-25's own minimum becomes
    # past due at 00:00 on 03-26.
    events = pay(run, "1000.00", bank_time("2026-03-25", 23, 59))

    assert of_type(events, CaseClosed)[0].outcome == "cured"


def test_a_cent_left_on_a_past_due_minimum_is_no_cure() -> None:
    run = open_case()
    advance(run, bank_time("2026-04-10"))

    events = pay(run, "2001.99", bank_time("2026-04-10", 12))

    # 0.01 of the 03-25 minimum is still past due: M1 (04-05 since), DPD 16
    assert of_type(events, CaseClosed) == []
    [roll] = of_type(events, BucketChanged)
    assert (roll.bucket, roll.dpd) == ("M1", 16)


def test_paying_the_past_due_minimum_in_m0_cures_the_case() -> None:
    run = open_case()

    events = pay(run, "1000.00", bank_time("2026-03-02", 12))

    assert types(events) == ["payment_received", "case_closed"]
    assert run.state.outcome == "cured"
    assert run.state.total == D("9000.00")


def test_a_payment_after_the_case_ended_is_recorded_whole_as_unapplied_credit() -> None:
    run = open_case()
    pay(run, "1000.00", bank_time("2026-03-02", 12))  # cures: 9,000.00 still owed
    assert run.state.outcome == "cured"

    events = pay(run, "10.00", bank_time("2026-03-03", 12), "P-LATE")

    # Collections are over: nothing reduces the balance, nothing earns commission, the
    # whole 10.00 is held for the bank to apply on the account or refund.
    assert types(events) == ["payment_received"]
    [late] = of_type(events, PaymentReceived)
    assert (late.amount, late.to_fees, late.to_interest, late.to_principal, late.unapplied) == (
        D("10.00"), D("0.00"), D("0.00"), D("0.00"), D("10.00"),
    )  # fmt: skip
    assert run.state.total == D("9000.00")
    assert run.state.unapplied_credit == D("10.00")
    assert pay(run, "10.00", bank_time("2026-03-04", 12), "P-LATE") == []  # seen: once


def test_an_overpayment_that_ends_the_case_keeps_the_excess_as_unapplied_credit() -> None:
    run = open_case(fees="0.00", interest="0.00")  # 10,000.00 owed

    [payment] = of_type(pay(run, "10000.50", bank_time("2026-03-02", 12)), PaymentReceived)

    assert payment.unapplied == D("0.50")
    assert run.state.total == D("0.00")
    assert run.state.unapplied_credit == D("0.50")


# --- promises to pay --------------------------------------------------------------------


def _promise_500_by_april_10() -> PromiseToPay:
    return PromiseToPay(
        actor=actor("collector"),
        reason="debtor called",
        amount=D("500.00"),
        date=date(2026, 4, 10),
    )


def test_a_promise_paid_in_parts_by_the_end_of_the_grace_days_is_kept() -> None:
    run = open_case()
    advance(run, bank_time("2026-03-27"))
    made = send(
        run,
        _promise_500_by_april_10(),
        bank_time("2026-03-27", 10),
    )
    # Promised for 04-10; grace 2 days: it may arrive until the end of 04-12.
    [promise] = of_type(made, PromiseMade)
    assert promise.pause_until == bank_time("2026-04-13")

    first = pay(run, "300.00", bank_time("2026-04-08", 12), "P-1")
    last = pay(run, "200.00", bank_time("2026-04-12", 23, 59), "P-2")

    assert of_type(first, PromiseKept) == []
    [kept] = of_type(last, PromiseKept)
    assert (kept.amount, kept.paid) == (D("500.00"), D("500.00"))  # 300.00 + 200.00
    assert run.state.promise is None
    assert of_type(advance(run, bank_time("2026-04-14")), PromiseBroken) == []


def test_a_promise_short_at_the_end_of_the_grace_days_is_broken_and_the_case_resumes() -> None:
    run = open_case()
    advance(run, bank_time("2026-03-27"))
    send(
        run,
        _promise_500_by_april_10(),
        bank_time("2026-03-27", 10),
    )
    pay(run, "300.00", bank_time("2026-04-08", 12), "P-1")

    before = advance(run, bank_time("2026-04-12", 23, 59))
    events = pay(run, "200.00", bank_time("2026-04-13"), "P-2")  # one minute too late

    assert of_type(before, PromiseBroken) == []
    # The deadline runs before the late payment at the same moment: broken, 300.00 paid.
    assert types(events)[:2] == ["promise_broken", "payment_received"]
    [broken] = of_type(events, PromiseBroken)
    assert (broken.amount, broken.paid, broken.at) == (
        D("500.00"),
        D("300.00"),
        bank_time("2026-04-13"),
    )
    assert of_type(events, PromiseKept) == []
    assert run.state.promise is None
    assert run.state.stage == "phone"  # where it was


def test_a_payment_made_before_the_promise_does_not_count_towards_it() -> None:
    run = open_case()
    advance(run, bank_time("2026-03-27"))
    pay(run, "500.00", bank_time("2026-03-27", 9))
    send(
        run,
        _promise_500_by_april_10(),
        bank_time("2026-03-27", 10),
    )

    events = advance(run, bank_time("2026-04-13"))

    [broken] = of_type(events, PromiseBroken)
    assert broken.paid == D("0.00")


# --- installment plans ------------------------------------------------------------------


def _plan_case(installments: int = 60) -> CaseRun:
    run = open_case()
    advance(run, bank_time("2026-03-27"))
    events = send(
        run,
        InstallmentPlan(
            actor=actor("supervisor"),
            reason="hardship",
            installments=installments,
            first_due=date(2026, 4, 10),
        ),
        bank_time("2026-03-27", 10),
    )
    [plan] = of_type(events, PlanAgreed)
    # Balance on 03-27: 10,000.00 + 20.00 + 20.02 = 10,040.02. / 60 = 167.3336... -> 167.33,
    # but 60 x 167.33 = 10,039.80 falls 0.22 short, so each installment is 167.34.
    assert plan.installment_amount == D("167.34")
    return run


def test_installments_paid_on_time_are_counted_one_by_one() -> None:
    run = _plan_case()

    first = pay(run, "167.34", bank_time("2026-04-10", 12), "I-1")
    # 04-10 + 1 month = 05-10, paid within its 2 grace days, and one ahead:
    # 334.68 + 167.34 = 502.02 = 3 x 167.34
    catch_up = pay(run, "334.68", bank_time("2026-05-12", 12), "I-2")

    assert [e.number for e in of_type(first, InstallmentPaid)] == [1]
    assert [e.number for e in of_type(catch_up, InstallmentPaid)] == [2, 3]
    assert of_type(catch_up, PlanBroken) == []
    # Next due: installment 4 on 07-10 (3 months after 04-10), late from 07-13 00:00.
    assert of_type(advance(run, bank_time("2026-07-12", 23, 59)), PlanBroken) == []
    [broken] = of_type(advance(run, bank_time("2026-07-13")), PlanBroken)
    # due 4 x 167.34 = 669.36; paid 502.02
    assert (broken.number, broken.paid, broken.due) == (4, D("502.02"), D("669.36"))


def test_a_missed_installment_breaks_the_plan_and_the_case_resumes() -> None:
    run = _plan_case()
    pay(run, "167.34", bank_time("2026-04-10", 12), "I-1")

    before = advance(run, bank_time("2026-05-12", 23, 59))
    events = advance(run, bank_time("2026-05-13"))

    assert of_type(before, PlanBroken) == []
    [broken] = of_type(events, PlanBroken)
    # installment 2 due 05-10 (+2 days grace); 2 x 167.34 = 334.68 due, 167.34 paid
    assert (broken.number, broken.paid, broken.due) == (2, D("167.34"), D("334.68"))
    assert run.state.plan is None
    assert not run.state.closed


def test_an_installment_plan_paid_in_full_completes_and_cures_the_case() -> None:
    # The whole balance is past due: 1,000.00 principal, 1,000.00 unpaid since 02-25.
    run = open_case(principal="1000.00", unpaid_minimum="1000.00")
    [plan] = of_type(
        send(
            run,
            InstallmentPlan(
                actor=actor("supervisor"),
                reason="hardship",
                installments=2,
                first_due=date(2026, 3, 3),
            ),
            bank_time("2026-03-01", 10),
        ),
        PlanAgreed,
    )
    assert plan.installment_amount == D("500.00")  # 1,000.00 / 2

    events = pay(run, "1000.00", bank_time("2026-03-02", 12))

    assert types(events) == [
        "payment_received",
        "installment_paid",
        "installment_paid",
        "plan_completed",
        "case_closed",
    ]
    assert of_type(events, CaseClosed)[0].outcome == "cured"
    assert run.state.total == D("0.00")


# --- settlements and waivers ------------------------------------------------------------


def test_a_settlement_waives_the_rest_and_closes_the_case_settled_once_paid() -> None:
    run = open_case()
    settled = send(
        run,
        Settlement(actor=actor("manager"), reason="lump sum offer", amount=D("6000.00")),
        bank_time("2026-03-02", 10),
    )

    # 10,000.00 - 6,000.00 = 4,000.00 waived = 40 % (a manager may waive up to 50 %);
    # no fees or interest, so all of it from principal.
    [waived] = of_type(settled, BalanceWaived)
    assert (waived.from_fees, waived.from_interest, waived.from_principal) == (
        D("0.00"),
        D("0.00"),
        D("4000.00"),
    )
    assert (waived.share, waived.settlement_amount) == (D("0.4000"), D("6000.00"))
    assert run.state.total == D("6000.00")

    part = pay(run, "4000.00", bank_time("2026-03-03", 12), "S-1")
    rest = pay(run, "2000.00", bank_time("2026-03-04", 12), "S-2")

    assert of_type(part, CaseClosed) == []  # the minimum is paid, but not the settlement
    [closed] = of_type(rest, CaseClosed)
    assert closed.outcome == "settled"
    assert run.state.total == D("0.00")


def test_the_agreed_settlement_amount_still_settles_after_a_statement_date() -> None:
    run = open_case()
    send(
        run,
        Settlement(actor=actor("manager"), reason="lump sum offer", amount=D("6000.00")),
        bank_time("2026-03-02", 10),
    )

    # The statement of 03-05 and due date of 03-25 pass before the money arrives.
    # What was agreed is 6,000.00: no interest or fees may grow it, or paying it would
    # leave the debtor owing (and being chased for) more than the agreement says.
    statement = advance(run, bank_time("2026-03-26"))
    events = pay(run, "6000.00", bank_time("2026-03-26", 12))

    assert [e.type for e in statement if e.type in ("interest_charged", "fee_charged")] == []
    assert run.state.outcome == "settled"
    assert of_type(events, PaymentReceived)[0].unapplied == D("0.00")


def test_a_waiver_takes_fees_first_then_interest_then_principal() -> None:
    small_run = open_case(fees="50.00", interest="200.00")  # balance 10,250.00
    large_run = open_case(fees="50.00", interest="200.00")

    [small] = of_type(
        send(
            small_run,
            Waiver(actor=actor("supervisor"), reason="goodwill", amount=D("100.00")),
            bank_time("2026-03-02", 10),
        ),
        BalanceWaived,
    )
    [large] = of_type(
        send(
            large_run,
            Waiver(actor=actor("manager"), reason="goodwill", amount=D("1000.00")),
            bank_time("2026-03-02", 10),
        ),
        BalanceWaived,
    )

    # 100.00: all 50.00 of fees, then 50.00 of interest; share 100 / 10,250 = 0.00976 -> 0.0098
    assert (small.from_fees, small.from_interest, small.from_principal) == (
        D("50.00"),
        D("50.00"),
        D("0.00"),
    )
    assert small.share == D("0.0098")
    assert (small_run.state.fees, small_run.state.interest, small_run.state.principal) == (
        D("0.00"),
        D("150.00"),
        D("10000.00"),
    )
    # 1,000.00: 50.00 fees, 200.00 interest, 750.00 principal; share 0.09756 -> 0.0976
    assert (large.from_fees, large.from_interest, large.from_principal) == (
        D("50.00"),
        D("200.00"),
        D("750.00"),
    )
    assert large.share == D("0.0976")
    assert large_run.state.total == D("9250.00")


def test_a_waiver_cuts_the_minimums_due_down_to_the_smaller_balance() -> None:
    run = open_case(principal="1000.00", unpaid_minimum="1000.00")

    # 200.00 of 1,000.00 is 20 %: the supervisor's limit exactly.
    send(
        run,
        Waiver(actor=actor("supervisor"), reason="goodwill", amount=D("200.00")),
        bank_time("2026-03-02", 10),
    )

    assert run.state.total == D("800.00")
    assert run.state.dues == (Due(due_date=date(2026, 2, 25), amount=D("800.00")),)
    events = pay(run, "800.00", bank_time("2026-03-02", 12))
    assert of_type(events, CaseClosed)[0].outcome == "settled"
