"""The placement row (CONTRACTS.md §1): every column's good forms and every way it fails.

Expected values are written out by hand from the contract; nothing here is computed by
the code under test. Reasons are compared as whole sentences because they are what the
rejection report shows to operations.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
from datetime import date
from decimal import Decimal
from typing import Any, get_args

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import ValidationError

from arrears.intake import csv_forms
from arrears.intake.csv_forms import placement_row
from domain import placement, placement_values
from domain.placement import (
    FLAGS,
    Contact,
    Flag,
    PlacementRow,
    case_id_for,
    parse_case_id,
    personal_fields,
    row_errors,
)

PHONE = "not a phone number: expected E.164 (+8613812345678) or 7-15 digits"
MISSING = "is required but missing or empty"
NOT_AMOUNT = "not a decimal amount: expected digits with an optional point, e.g. 1234.50"
FLOAT = (
    "is a floating-point number, which cannot hold cents exactly: "
    'write the amount as a quoted decimal, e.g. "1234.50"'
)
ONE_LINE = "must be one line without control characters"
STATEMENT_DAY = "must be a whole number from 1 to 28"
GRACE_DAYS = "must be a whole number of days from 0 to 60"
TIMEZONE = "not an IANA time zone name such as Asia/Shanghai"
DATE_FORMAT = "must be a date written YYYY-MM-DD"
NO_PHONE = "at least one of mobile, home_phone, work_phone is required"
ID_FORMAT = "must be 6-32 letters or digits"
ID_CHECK = "looks like a mainland China resident id (18 characters) but its check digit is wrong"

# A CSV row as csv.DictReader yields it: every value a string, absent ones empty.
# Balance = 21000.00 + 315.50 + 120.00 = 21435.50.
CSV_ROW: dict[str, str] = {
    "account_id": "6225880012345678",
    "debtor_name": "张伟",
    "national_id": "11010519491231002X",
    "mobile": "13812345678",
    "home_phone": "",
    "work_phone": "010-6552 9988",
    "home_address": "北京市朝阳区建国路1号",
    "work_address": "",
    "contacts": "李娜:配偶:13900001111;王强:同事:+86 139 0000 2222",
    "timezone": "",
    "credit_limit": "20000",
    "principal": "21000.00",
    "interest": "315.5",
    "fees": "120.00",
    "statement_day": "5",
    "grace_days": "",
    "oldest_unpaid_due_date": "2026-01-25",
    "unpaid_minimum": "2143.55",
    "segment": "",
    "flags": "",
}

# A JSON Lines record with unquoted decimals, integers, lists and an unknown column.
JSON_LINE = (
    '{"account_id": "AC-000123", "debtor_name": "Li Na", '
    '"home_phone": "+1 (415) 555-0100", '
    '"contacts": [{"name": "Wang Qiang", "relation": "colleague", "phone": "13900002222"}], '
    '"timezone": "America/Los_Angeles", "credit_limit": 5000, "principal": 4800.10, '
    '"interest": 0, "fees": 25, "statement_day": 28, "grace_days": 25, '
    '"oldest_unpaid_due_date": "2026-03-20", "unpaid_minimum": 480.01, '
    '"segment": "us-prime", "flags": ["bankrupt", "suspected_fraud"], '
    '"bank_internal_score": 712, "national_id": null}'
)


def row(**changes: Any) -> PlacementRow:
    """CSV_ROW with `changes`, read as the placement file reader reads a record."""
    return placement_row({**CSV_ROW, **changes})


def reasons(**changes: Any) -> list[tuple[str, str]]:
    """The (column, reason) pairs for CSV_ROW with `changes`; fails if the row is valid."""
    with pytest.raises(ValidationError) as caught:
        row(**changes)
    return row_errors(caught.value)


# --- good paths -------------------------------------------------------------------------


def test_a_csv_row_of_strings_becomes_typed_normalised_values() -> None:
    r = row()
    assert r.account_id == "6225880012345678"
    assert r.debtor_name == "张伟"
    assert r.national_id == "11010519491231002X"
    assert r.mobile == "13812345678"
    assert r.work_phone == "01065529988"
    assert r.home_address == "北京市朝阳区建国路1号"
    assert r.contacts == (
        Contact(name="李娜", relation="配偶", phone="13900001111"),
        Contact(name="王强", relation="同事", phone="+8613900002222"),
    )
    assert str(r.credit_limit) == "20000.00"
    assert str(r.principal) == "21000.00"
    assert str(r.interest) == "315.50"
    assert str(r.fees) == "120.00"
    assert r.statement_day == 5
    assert r.oldest_unpaid_due_date == date(2026, 1, 25)
    assert str(r.unpaid_minimum) == "2143.55"
    assert r.balance == Decimal("21435.50")


def test_empty_optional_columns_are_absent_and_defaults_apply() -> None:
    r = row()
    assert r.home_phone is None
    assert r.work_address is None
    assert r.segment is None
    assert r.timezone == "Asia/Shanghai"
    assert r.grace_days == 20
    assert r.flags == ()


def test_optional_columns_left_out_entirely_are_absent_too() -> None:
    minimal = {
        k: v
        for k, v in CSV_ROW.items()
        if k in ("account_id", "debtor_name", "mobile", "credit_limit", "principal")
        or k in ("interest", "fees", "statement_day", "oldest_unpaid_due_date", "unpaid_minimum")
    }
    r = PlacementRow.model_validate(minimal)
    assert (r.national_id, r.home_phone, r.work_phone, r.home_address) == (None, None, None, None)
    assert r.contacts == ()
    assert (r.timezone, r.grace_days, r.flags) == ("Asia/Shanghai", 20, ())


def test_whitespace_only_values_count_as_empty() -> None:
    assert row(segment="   ", work_phone=" ").segment is None


def test_a_json_lines_record_parsed_with_decimal_floats_is_accepted() -> None:
    r = PlacementRow.model_validate(json.loads(JSON_LINE, parse_float=Decimal))
    assert r.account_id == "AC-000123"
    assert r.mobile is None
    assert r.home_phone == "+14155550100"
    assert r.national_id is None
    assert r.contacts == (Contact(name="Wang Qiang", relation="colleague", phone="13900002222"),)
    assert r.timezone == "America/Los_Angeles"
    assert str(r.credit_limit) == "5000.00"
    assert str(r.principal) == "4800.10"
    assert str(r.interest) == "0.00"
    assert str(r.fees) == "25.00"
    assert (r.statement_day, r.grace_days) == (28, 25)
    assert r.oldest_unpaid_due_date == date(2026, 3, 20)
    assert str(r.unpaid_minimum) == "480.01"
    assert r.segment == "us-prime"
    assert r.flags == ("suspected_fraud", "bankrupt")


def test_a_json_lines_record_parsed_with_binary_floats_is_refused_column_by_column() -> None:
    with pytest.raises(ValidationError) as caught:
        PlacementRow.model_validate(json.loads(JSON_LINE))
    assert row_errors(caught.value) == [("principal", FLOAT), ("unpaid_minimum", FLOAT)]


def test_unknown_columns_are_ignored() -> None:
    r = row(bank_branch="0101", risk_score="712")
    assert not hasattr(r, "bank_branch")


def test_surplus_cells_that_csv_dictreader_files_under_none_are_ignored() -> None:
    r = placement_row({**CSV_ROW, None: ["x", "y"]})
    assert r.account_id == "6225880012345678"


def test_contacts_accept_a_list_of_csv_style_strings_and_objects_mixed() -> None:
    r = row(
        contacts=[
            "李娜:配偶:13900001111",
            {"name": "王强", "relation": "同事", "phone": "139-0000-2222", "note": "x"},
        ]
    )
    assert r.contacts == (
        Contact(name="李娜", relation="配偶", phone="13900001111"),
        Contact(name="王强", relation="同事", phone="13900002222"),
    )


def test_full_width_separators_from_chinese_exports_are_understood() -> None:
    r = row(contacts="李娜：配偶：13900001111；王强：同事：13900002222", flags="deceased；bankrupt")
    assert [c.name for c in r.contacts] == ["李娜", "王强"]
    assert r.flags == ("deceased", "bankrupt")


def test_blank_contact_entries_such_as_a_trailing_semicolon_are_skipped() -> None:
    assert len(row(contacts="李娜:配偶:13900001111; ;").contacts) == 1


def test_flags_are_collapsed_case_insensitive_and_kept_in_canonical_order() -> None:
    r = row(flags="Deceased; cash_out;deceased;;CASH_OUT")
    assert r.flags == ("cash_out", "deceased")


def test_flags_may_be_a_json_list() -> None:
    assert row(flags=["bankrupt", "cash_out", "bankrupt"]).flags == ("cash_out", "bankrupt")


def test_the_flag_order_lists_every_flag_once() -> None:
    assert sorted(FLAGS) == sorted(get_args(Flag))
    assert len(set(FLAGS)) == 4


def test_amounts_are_stored_with_two_places_and_trailing_zeros_are_harmless() -> None:
    r = row(credit_limit="12.5", interest="315.500", fees=" 7 ")
    assert (str(r.credit_limit), str(r.interest), str(r.fees)) == ("12.50", "315.50", "7.00")


def test_the_largest_amount_has_fifteen_digits_before_the_point() -> None:
    assert str(row(credit_limit="999999999999999.99").credit_limit) == "999999999999999.99"


def test_national_id_with_lower_case_x_is_accepted_and_stored_upper_case() -> None:
    assert row(national_id="11010519491231002x").national_id == "11010519491231002X"


def test_a_second_hand_checked_resident_id_is_accepted() -> None:
    # 4*7+4*9+0+5*5+2*8+4*4+1*2+8*1+8*6+0+0+1*9+0+1*5+0+0+1*2 = 195; 195 mod 11 = 8 -> "4"
    assert row(national_id="440524188001010014").national_id == "440524188001010014"


@pytest.mark.parametrize(
    "other_id",
    ["E12345678", "110105491231002", "A1234567", "G123456789012345678901234567890Z"],
)
def test_national_ids_of_other_formats_are_accepted(other_id: str) -> None:
    assert row(national_id=other_id).national_id == other_id


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("+86 138 1234 5678", "+8613812345678"),
        ("+1 (415) 555-0100", "+14155550100"),
        ("+12345678", "+12345678"),
        ("+123456789012345", "+123456789012345"),
        ("(010) 6552-9988", "01065529988"),
        ("6552998", "6552998"),
        ("123456789012345", "123456789012345"),
    ],
)
def test_phones_are_reduced_to_plus_and_digits(written: str, stored: str) -> None:
    assert row(mobile=written).mobile == stored


def test_one_phone_of_any_kind_is_enough() -> None:
    r = row(mobile="", work_phone="", home_phone="02161234567")
    assert (r.mobile, r.home_phone, r.work_phone) == (None, "02161234567", None)


def test_an_address_may_span_lines() -> None:
    assert row(home_address="建国路1号\n3单元 502").home_address == "建国路1号\n3单元 502"


def test_a_name_of_exactly_200_characters_is_accepted() -> None:
    assert row(debtor_name="张" * 200).debtor_name == "张" * 200


def test_boundaries_of_statement_day_and_grace_days_are_accepted() -> None:
    assert (row(statement_day="1").statement_day, row(statement_day="28").statement_day) == (1, 28)
    assert (row(grace_days="0").grace_days, row(grace_days="60").grace_days) == (0, 60)


def test_an_unpaid_minimum_equal_to_the_balance_is_accepted() -> None:
    assert str(row(unpaid_minimum="21435.50").unpaid_minimum) == "21435.50"


def test_any_known_iana_time_zone_is_accepted() -> None:
    assert row(timezone="Europe/London").timezone == "Europe/London"


def test_a_row_is_frozen_and_hashable() -> None:
    r = row()
    with pytest.raises(ValidationError):
        r.principal = Decimal("1.00")  # type: ignore[misc]
    assert hash(r) == hash(row())


def test_a_row_survives_a_json_round_trip_unchanged() -> None:
    r = row(flags="cash_out;deceased", segment="M1-high")
    assert PlacementRow.model_validate_json(r.model_dump_json()) == r
    assert PlacementRow.model_validate(r.model_dump()) == r


def test_amounts_serialise_as_exact_decimal_strings() -> None:
    dumped = json.loads(row().model_dump_json())
    assert (dumped["principal"], dumped["interest"], dumped["fees"]) == (
        "21000.00",
        "315.50",
        "120.00",
    )


def test_a_contact_can_be_built_on_its_own_and_is_validated() -> None:
    assert Contact(name=" 李娜 ", relation="配偶", phone="139 0000 1111") == Contact(
        name="李娜", relation="配偶", phone="13900001111"
    )
    with pytest.raises(ValidationError):
        Contact(name="李娜", relation="配偶", phone="12")


def test_the_case_id_is_derived_from_the_account_id_alone() -> None:
    assert case_id_for("6225-0001") == "case-6225-0001"
    assert row().case_id == "case-6225880012345678"


def test_a_later_delinquency_episode_has_its_own_case_id_that_no_account_can_have() -> None:
    assert case_id_for("6225-0001", 2) == "case-6225-0001.2"
    assert parse_case_id("case-6225-0001.2") == ("6225-0001", 2)
    assert parse_case_id("case-6225-0001") == ("6225-0001", 1)
    # '.' is not allowed in an account id, so no first episode can look like a later one
    with pytest.raises(ValueError):
        case_id_for("6225-0001.2")
    for not_a_case in ("case-6225-0001.1", "case-6225-0001.02", "case-6225-0001.x", "6225-0001"):
        with pytest.raises(ValueError):
            parse_case_id(not_a_case)


def test_a_case_id_is_refused_for_an_invalid_account_id_without_quoting_it() -> None:
    with pytest.raises(ValueError) as caught:
        case_id_for("张伟 13812345678")
    assert "13812345678" not in str(caught.value)


def test_personal_fields_are_exactly_the_personal_columns() -> None:
    assert personal_fields == {
        "debtor_name",
        "national_id",
        "mobile",
        "home_phone",
        "work_phone",
        "home_address",
        "work_address",
        "contacts",
    }


# --- failures, column by column --------------------------------------------------------


def test_an_account_id_shorter_than_6_characters_is_refused() -> None:
    assert reasons(account_id="12345") == [("account_id", "must be 6-32 characters long")]


def test_an_account_id_longer_than_32_characters_is_refused() -> None:
    assert reasons(account_id="1" * 33) == [("account_id", "must be 6-32 characters long")]


@pytest.mark.parametrize("bad", ["6225 8800 1234", "6225_880012", "账户12345678", "6225/8800"])
def test_an_account_id_with_other_characters_is_refused(bad: str) -> None:
    assert reasons(account_id=bad) == [
        ("account_id", "may contain only letters A-Z, digits 0-9 and '-'")
    ]


def test_a_missing_account_id_is_refused() -> None:
    assert reasons(account_id="") == [("account_id", MISSING)]


def test_a_json_number_as_account_id_is_refused() -> None:
    assert reasons(account_id=622588001234) == [
        ("account_id", "must be text (in JSON Lines: a quoted string)")
    ]


def test_an_empty_debtor_name_is_refused() -> None:
    assert reasons(debtor_name="  \t ") == [("debtor_name", MISSING)]


def test_a_debtor_name_over_200_characters_is_refused() -> None:
    assert reasons(debtor_name="张" * 201) == [("debtor_name", "must be at most 200 characters")]


def test_a_huge_debtor_name_is_refused() -> None:
    assert reasons(debtor_name="x" * 1_000_000) == [
        ("debtor_name", "must be at most 200 characters")
    ]


def test_a_debtor_name_with_a_line_break_is_refused() -> None:
    assert reasons(debtor_name="张\n伟") == [("debtor_name", ONE_LINE)]


def test_a_resident_id_with_a_wrong_check_digit_is_refused() -> None:
    assert reasons(national_id="110105194912310021") == [("national_id", ID_CHECK)]


def test_a_resident_id_ending_in_a_letter_other_than_x_is_refused() -> None:
    assert reasons(national_id="11010519491231002A") == [("national_id", ID_CHECK)]


@pytest.mark.parametrize("bad", ["12345", "1101-0519491231", "E1234567 8", "1" * 33, "张伟123456"])
def test_a_national_id_of_no_known_shape_is_refused(bad: str) -> None:
    assert reasons(national_id=bad) == [("national_id", ID_FORMAT)]


@pytest.mark.parametrize(
    "bad",
    [
        "12345",  # too few digits
        "1234567890123456",  # 16 digits
        "+1234567",  # E.164 needs 8 digits
        "+1234567890123456",  # E.164 has at most 15
        "+0123456789",  # no country code starts with 0
        "138-1234-567a",
        "138.1234.5678",
        "86+13812345678",
        "phone",
        "+",
        "1" * 1000,
    ],
)
def test_a_mobile_that_is_not_a_phone_number_is_refused(bad: str) -> None:
    assert reasons(mobile=bad) == [("mobile", PHONE)]


def test_bad_home_and_work_phones_are_refused_by_their_own_column() -> None:
    assert reasons(home_phone="12", work_phone="abc") == [
        ("home_phone", PHONE),
        ("work_phone", PHONE),
    ]


def test_a_phone_given_as_a_json_number_is_refused() -> None:
    assert reasons(mobile=13812345678) == [
        ("mobile", "must be text: write phone numbers in quotes")
    ]


def test_a_row_without_any_phone_is_refused_on_the_mobile_column() -> None:
    assert reasons(mobile="", work_phone="") == [("mobile", NO_PHONE)]


def test_a_missing_phone_is_reported_together_with_other_problems_in_column_order() -> None:
    assert reasons(mobile="", work_phone="", statement_day="0", account_id="x") == [
        ("account_id", "must be 6-32 characters long"),
        ("mobile", NO_PHONE),
        ("statement_day", STATEMENT_DAY),
    ]


def test_an_address_over_500_characters_is_refused() -> None:
    assert reasons(work_address="路" * 501) == [("work_address", "must be at most 500 characters")]


def test_an_address_with_a_control_character_is_refused() -> None:
    assert reasons(home_address="建国路\x001号") == [
        ("home_address", "must not contain control characters")
    ]


def test_a_contact_entry_without_three_parts_is_refused() -> None:
    assert reasons(contacts="李娜:配偶") == [("contacts", "entry 1: expected name:relation:phone")]


def test_a_contact_entry_with_a_bad_phone_is_refused_naming_the_entry() -> None:
    assert reasons(contacts="李娜:配偶:13900001111;王强:同事:12") == [
        ("contacts", "entry 2 (phone): " + PHONE)
    ]


def test_a_contact_entry_without_a_name_is_refused() -> None:
    assert reasons(contacts=" :配偶:13900001111") == [("contacts", "entry 1: name is required")]


def test_a_json_contact_object_without_a_phone_is_refused() -> None:
    assert reasons(contacts=[{"name": "李娜", "relation": "配偶"}]) == [
        ("contacts", "entry 1: phone is required")
    ]


def test_a_json_contact_that_is_neither_text_nor_an_object_is_refused() -> None:
    assert reasons(contacts=[42]) == [
        (
            "contacts",
            "entry 1: expected name:relation:phone or an object with name, relation and phone",
        )
    ]


def test_a_contact_relation_over_50_characters_is_refused() -> None:
    assert reasons(contacts="李娜:" + "配" * 51 + ":13900001111") == [
        ("contacts", "entry 1 (relation): must be at most 50 characters")
    ]


def test_more_than_20_contacts_are_refused() -> None:
    many = ";".join(f"c{n}:friend:1390000{n:04d}" for n in range(21))
    assert reasons(contacts=many) == [("contacts", "must list at most 20 contacts")]


def test_a_huge_contacts_column_is_refused() -> None:
    assert reasons(contacts="a:b:13900001111;" * 2000) == [("contacts", "is too long")]


def test_contacts_of_another_json_type_are_refused() -> None:
    assert reasons(contacts=7) == [
        (
            "contacts",
            "must be name:relation:phone entries separated by ';' "
            "or a list of objects with name, relation and phone",
        )
    ]


@pytest.mark.parametrize(
    "bad",
    ["Mars/Olympus", "asia/shanghai", "Asia/", "../../etc/passwd", "/etc/localtime", "+08:00"],
)
def test_an_unknown_time_zone_is_refused(bad: str) -> None:
    assert reasons(timezone=bad) == [("timezone", TIMEZONE)]


@pytest.mark.parametrize("column", ["credit_limit", "principal", "interest", "fees"])
def test_a_negative_amount_is_refused(column: str) -> None:
    assert reasons(**{column: "-0.01"}) == [(column, "must not be negative")]


@pytest.mark.parametrize("column", ["credit_limit", "principal", "interest", "fees"])
def test_an_amount_below_the_cent_is_refused(column: str) -> None:
    assert reasons(**{column: "1.234"}) == [(column, "must have at most 2 decimal places")]


@pytest.mark.parametrize("bad", ["abc", "1,000.00", "1e3", "NaN", "Infinity", "12.", ".5", "¥12"])
def test_an_amount_that_is_not_a_plain_decimal_is_refused(bad: str) -> None:
    assert reasons(principal=bad) == [("principal", NOT_AMOUNT)]


def test_a_json_boolean_or_nan_amount_is_refused() -> None:
    assert reasons(fees=True, interest=Decimal("NaN")) == [
        ("interest", NOT_AMOUNT),
        ("fees", NOT_AMOUNT),
    ]


def test_a_binary_float_amount_is_refused_telling_to_quote_it() -> None:
    assert reasons(credit_limit=12.5) == [("credit_limit", FLOAT)]


def test_an_amount_of_sixteen_digits_is_refused_as_too_large() -> None:
    assert reasons(credit_limit="1000000000000000") == [
        ("credit_limit", "is too large: at most 15 digits before the point")
    ]


def test_a_missing_amount_is_refused() -> None:
    assert reasons(interest="") == [("interest", MISSING)]


@pytest.mark.parametrize("bad", ["0", "29", "-1", "5.5", "five", 5.0, True])
def test_a_statement_day_outside_1_to_28_is_refused(bad: object) -> None:
    assert reasons(statement_day=bad) == [("statement_day", STATEMENT_DAY)]


@pytest.mark.parametrize("bad", ["-1", "61", "twenty", "1" * 50])
def test_grace_days_outside_0_to_60_are_refused(bad: str) -> None:
    assert reasons(grace_days=bad) == [("grace_days", GRACE_DAYS)]


@pytest.mark.parametrize("bad", ["2026/01/25", "20260125", "25-01-2026", "2026-1-25", "yesterday"])
def test_a_due_date_not_written_yyyy_mm_dd_is_refused(bad: str) -> None:
    assert reasons(oldest_unpaid_due_date=bad) == [("oldest_unpaid_due_date", DATE_FORMAT)]


@pytest.mark.parametrize("bad", ["2026-02-30", "2026-13-01", "0000-01-01"])
def test_a_due_date_that_does_not_exist_is_refused(bad: str) -> None:
    assert reasons(oldest_unpaid_due_date=bad) == [
        ("oldest_unpaid_due_date", "is not a real calendar date (YYYY-MM-DD)")
    ]


def test_an_unpaid_minimum_of_zero_is_refused() -> None:
    assert reasons(unpaid_minimum="0.00") == [("unpaid_minimum", "must be greater than zero")]


def test_an_unpaid_minimum_above_the_balance_is_refused() -> None:
    assert reasons(unpaid_minimum="21435.51") == [
        ("unpaid_minimum", "must not exceed the balance (principal + interest + fees)")
    ]


def test_an_unknown_flag_is_refused() -> None:
    assert reasons(flags="deceased;vip") == [
        ("flags", "unknown flag: expected suspected_fraud, cash_out, deceased or bankrupt")
    ]


def test_a_flag_list_holding_a_number_is_refused() -> None:
    assert reasons(flags=["cash_out", 3]) == [
        ("flags", "must be text (in JSON Lines: a quoted string)")
    ]


def test_a_segment_over_100_characters_is_refused() -> None:
    assert reasons(segment="s" * 101) == [("segment", "must be at most 100 characters")]


def test_something_that_is_not_a_record_is_refused_for_the_whole_row() -> None:
    with pytest.raises(ValidationError) as caught:
        PlacementRow.model_validate(["6225880012345678", "张伟"])
    assert row_errors(caught.value) == [("", "a row must be a set of named columns")]


def test_every_failing_column_of_a_row_is_reported_at_once() -> None:
    columns = [column for column, _ in reasons(account_id="x", fees="-1", flags="vip")]
    assert columns == ["account_id", "fees", "flags"]


# --- no personal data in reasons ---------------------------------------------------------

ALL_BAD = {
    "account_id": "账户 13955550000",
    "debtor_name": "张伟\n13955550000",
    "national_id": "110105194912310021",
    "mobile": "138-1234-567a",
    "home_phone": "12",
    "work_address": "建国路\x00",
    "contacts": "李娜:配偶:12",
    "timezone": "Mars/Olympus",
    "principal": "1.234",
    "statement_day": "29",
    "oldest_unpaid_due_date": "2026-02-30",
    "flags": "vip",
}


def test_reasons_are_plain_ascii_sentences_that_quote_no_value() -> None:
    pairs = reasons(**ALL_BAD)
    assert [c for c, _ in pairs] == list(ALL_BAD)
    for _, reason in pairs:
        assert reason.isascii()
        for value in ("张伟", "13955550000", "110105194912310021", "李娜", "Mars", "1.234"):
            assert value not in reason


def test_the_validation_error_text_itself_hides_the_input() -> None:
    with pytest.raises(ValidationError) as caught:
        row(**ALL_BAD)
    text = str(caught.value) + repr(caught.value)
    for value in ("张伟", "13955550000", "110105194912310021", "李娜", "Mars/Olympus"):
        assert value not in text


def _literals_of_the_modules() -> list[str]:
    return [
        n.value
        for module in (placement, placement_values, csv_forms)
        for n in ast.walk(ast.parse(inspect.getsource(module)))
        if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]


# Every reason is a fixed sentence written in domain/placement.py, domain/placement_values.py
# or arrears/intake/csv_forms.py (the CSV text forms). A generated value that
# is itself a piece of that text ("digits", "+86") would be found in a reason without
# having leaked, so such values are skipped.
_LITERALS = _literals_of_the_modules()


def _forms_of(value: str) -> set[str]:
    """The value as given, trimmed, and compacted the way a phone would be."""
    forms = {value, value.strip(), re.sub(r"[ \-()]", "", value.strip())}
    return {form for form in forms if form}


def _check_no_leak(column: str, value: str) -> None:
    forms = _forms_of(value)
    assume(not any(form in literal for form in forms for literal in _LITERALS))
    try:
        row(**{column: value})
    except ValidationError as exc:
        for _, reason in row_errors(exc):
            for form in forms:
                assert form not in reason


_PERSONAL_TEXT = (
    st.text(min_size=1, max_size=80)
    | st.from_regex(r"[0-9 +()\-]{1,30}", fullmatch=True)
    | st.from_regex(r"[0-9]{17}[0-9Xx]", fullmatch=True)
    | st.text(alphabet="张王李赵伟娜强0123456789\n\x00", min_size=1, max_size=300)
)


@given(_PERSONAL_TEXT)
def test_a_refused_mobile_never_appears_in_any_reason(value: str) -> None:
    _check_no_leak("mobile", value)


@given(_PERSONAL_TEXT)
def test_a_refused_national_id_never_appears_in_any_reason(value: str) -> None:
    _check_no_leak("national_id", value)


@given(_PERSONAL_TEXT)
def test_a_refused_debtor_name_never_appears_in_any_reason(value: str) -> None:
    _check_no_leak("debtor_name", value)


# --- properties ----------------------------------------------------------------------------


@given(st.from_regex(r"[0-9]{17}", fullmatch=True))
def test_exactly_one_of_the_eleven_check_characters_completes_a_resident_id(body: str) -> None:
    accepted = []
    for check in "0123456789X":
        try:
            row(national_id=body + check)
        except ValidationError:
            continue
        accepted.append(check)
    assert len(accepted) == 1


@given(st.decimals(min_value=0, max_value=Decimal("999999999999999.99"), places=2))
def test_every_amount_with_at_most_two_places_is_read_exactly(amount: Decimal) -> None:
    text = format(amount, "f")
    assert row(credit_limit=text).credit_limit == amount


@given(st.decimals(min_value=0, max_value=Decimal("1000000"), places=3))
def test_an_amount_is_accepted_only_if_it_is_whole_cents(amount: Decimal) -> None:
    whole_cents = amount * 100 == (amount * 100).to_integral_value()
    try:
        row(fees=format(amount, "f"))
    except ValidationError:
        assert not whole_cents
    else:
        assert whole_cents
