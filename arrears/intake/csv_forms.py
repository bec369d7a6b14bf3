"""The text forms of a placement file's list columns, taken apart before validation.

A CSV export can only hold text, so banks write the two list columns as text:
`contacts` as `name:relation:phone` entries separated by `;`, `flags` as names
separated by `;`. Chinese exports use the full-width `；` and `：` as often as the ASCII
ones, so both are separators. That is a file format, not a rule of the placement:
`domain.placement.PlacementRow` takes the structured form JSON Lines gives (a list of
objects, a list of names), and `structured` turns the text forms into it. JSON Lines
files may use the text forms too (a string column, or a list of `name:relation:phone`
strings), so every record read from a file goes through here, whatever its format.

What cannot be taken apart is handed over as `domain.placement.Refused` with a fixed
sentence, so the row reports it for its column together with every other problem, in
column order, exactly as if the model had read the text itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from domain.placement import PlacementRow, Refused

_LIST_SEPARATOR: Final = re.compile(r"[;；]")
_PART_SEPARATOR: Final = re.compile(r"[:：]")
_PARTS: Final = ("name", "relation", "phone")
# Longer texts are refused before they are split: a bound on the work one cell can cause.
_MAX_RAW_CONTACTS: Final = 20_000
_MAX_RAW_FLAGS: Final = 500
_TOO_LONG: Final = "is too long"


def placement_row(record: Mapping[Any, object]) -> PlacementRow:
    """The validated row of one record of a placement file (CSV cells or a JSON object);
    raises the model's `ValidationError` (see `domain.placement.row_errors`)."""
    return PlacementRow.model_validate(structured(record))


def structured(record: Mapping[Any, object]) -> dict[Any, object]:
    """`record` with `contacts` and `flags` in the structured form; every other column,
    and a value of another JSON type, as it was (the model judges those)."""
    data = dict(record)
    if "contacts" in data:
        data["contacts"] = _contacts(data["contacts"])
    if "flags" in data:
        data["flags"] = _flags(data["flags"])
    return data


def _contacts(value: object) -> object:
    """A list of contact objects from `name:relation:phone;...`, or from a list mixing
    such strings and objects. Blank entries (a trailing `;`) are no entries."""
    entries: Sequence[object]
    if isinstance(value, str):
        if not value.strip():
            return value  # an empty cell: the column is absent
        if len(value) > _MAX_RAW_CONTACTS:
            return Refused("contacts_too_long", _TOO_LONG)
        entries = _LIST_SEPARATOR.split(value)
    elif isinstance(value, list | tuple):
        entries = value
    else:
        return value
    present = [e for e in entries if not (isinstance(e, str) and not e.strip())]
    return [_contact(n, entry) for n, entry in enumerate(present, start=1)]


def _contact(n: int, entry: object) -> object:
    """Entry `n` (1-based, as the model counts them) as an object, if it is text."""
    if not isinstance(entry, str):
        return entry
    pieces = _PART_SEPARATOR.split(entry.strip())
    if len(pieces) != len(_PARTS):
        return Refused("contact_entry", f"entry {n}: expected name:relation:phone")
    return dict(zip(_PARTS, pieces, strict=True))


def _flags(value: object) -> object:
    """A list of flag names from `a;b` (the model matches and orders them)."""
    if not isinstance(value, str) or not value.strip():
        return value
    if len(value) > _MAX_RAW_FLAGS:
        return Refused("flags_too_long", _TOO_LONG)
    return _LIST_SEPARATOR.split(value)
