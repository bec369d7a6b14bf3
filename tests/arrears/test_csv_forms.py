"""The CSV text forms of a placement record are taken apart outside the model.

`arrears.intake.csv_forms` turns `contacts` and `flags` written as text into the lists
JSON Lines gives; `PlacementRow` itself takes only the structured form. The reasons a
refused record gets are covered column by column in tests/domain/test_placement.py,
which reads every row through the adapter as the file reader does.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from arrears.intake.csv_forms import placement_row, structured
from domain.placement import PlacementRow, Refused, row_errors

ROW = {
    "account_id": "6225880012345678",
    "debtor_name": "张伟",
    "mobile": "13812345678",
    "credit_limit": "20000",
    "principal": "21000.00",
    "interest": "0",
    "fees": "0",
    "statement_day": "5",
    "oldest_unpaid_due_date": "2026-01-25",
    "unpaid_minimum": "2100.00",
}


def test_text_forms_become_the_lists_json_lines_gives() -> None:
    record = {
        **ROW,
        "contacts": "李娜:配偶:139 0000 1111；王强：同事：13900002222; ",
        "flags": "a;b",
    }
    assert structured(record) == {
        **ROW,
        "contacts": [
            {"name": "李娜", "relation": "配偶", "phone": "139 0000 1111"},
            {"name": "王强", "relation": "同事", "phone": "13900002222"},
        ],
        "flags": ["a", "b"],
    }


def test_other_columns_and_values_of_other_types_are_left_to_the_model() -> None:
    record = {**ROW, "contacts": 7, "flags": ["cash_out"], None: ["surplus"]}
    assert structured(record) == record


def test_an_entry_that_is_not_three_parts_is_handed_over_as_refused_with_its_number() -> None:
    contacts = structured({"contacts": "李娜:配偶:13900001111;;王强:同事"})["contacts"]
    assert contacts == [
        {"name": "李娜", "relation": "配偶", "phone": "13900001111"},
        Refused("contact_entry", "entry 2: expected name:relation:phone"),
    ]


def test_the_model_alone_refuses_the_text_forms_so_nothing_bypasses_the_adapter() -> None:
    with pytest.raises(ValidationError) as caught:
        PlacementRow.model_validate({**ROW, "contacts": "李娜:配偶:13900001111", "flags": "x"})
    assert [column for column, _ in row_errors(caught.value)] == ["contacts", "flags"]
    row = placement_row({**ROW, "contacts": "李娜:配偶:13900001111", "flags": "cash_out"})
    assert (len(row.contacts), row.flags) == (1, ("cash_out",))
