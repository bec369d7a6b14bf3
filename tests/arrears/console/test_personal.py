"""The debtor's contact data as the case page shows it: whole for the people who work the
case, masked for auditors, and what each view is called in the access log."""

from __future__ import annotations

import pytest

from arrears.console.personal import (
    contact_data,
    mask_address,
    mask_digits,
    mask_name,
    masked_for,
)

PERSONAL = {
    "debtor_name": "张三丰",
    "national_id": "110101199003071234",
    "mobile": "+8613912345678",
    "home_phone": None,
    "home_address": "上海市浦东新区世纪大道1号",
    "contacts": [{"name": "李四", "relation": "spouse", "phone": "+8613800001111"}],
}


def test_a_name_keeps_its_first_character_and_not_its_length() -> None:
    assert mask_name("张三丰") == "张***"
    assert mask_name("Zhang Sanfeng") == "Z***"
    assert mask_name("李四") == "李***"


def test_a_phone_or_id_keeps_only_its_last_four_characters() -> None:
    assert mask_digits("+8613912345678") == "+*********5678"
    assert mask_digits("110101199003071234") == "**************1234"
    assert mask_digits("1234") == "****"


def test_an_address_keeps_two_characters_and_not_its_length() -> None:
    assert mask_address("上海市浦东新区世纪大道1号") == "上海***"
    assert mask_address("12 Long Street") == "12***"


def test_only_auditors_see_contact_data_masked() -> None:
    assert [masked_for(r) for r in ("collector", "supervisor", "manager", "auditor")] == [
        False, False, False, True,
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("masked", "rows", "contact", "logged_as"),
    [
        (
            False,
            ["张三丰", "110101199003071234", "+8613912345678", "上海市浦东新区世纪大道1号"],
            ("李四", "spouse", "+8613800001111"),
            "contact data",
        ),
        (
            True,
            ["张***", "**************1234", "+*********5678", "上海***"],
            ("李***", "spouse", "+*********1111"),
            "contact data (masked)",
        ),
    ],
)
def test_contact_data_is_shown_whole_or_masked_and_named_so_in_the_access_log(
    masked: bool, rows: list[str], contact: tuple[str, str, str], logged_as: str
) -> None:
    shown = contact_data(PERSONAL, masked=masked)
    assert shown is not None
    # the placed columns in order; the empty home phone is not a row
    assert shown.rows == tuple(
        zip(("Name", "National id", "Mobile", "Home address"), rows, strict=True)
    )
    assert [(c.name, c.relation, c.phone) for c in shown.contacts] == [contact]
    assert shown.masked is masked and shown.logged_as == logged_as


def test_no_placed_or_purged_data_shows_nothing() -> None:
    assert contact_data(None, masked=False) is None
    assert contact_data({}, masked=True) is None
    assert contact_data({"debtor_name": None, "contacts": []}, masked=False) is None
