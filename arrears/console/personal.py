"""The debtor's contact data on the case page, whole or masked, and what a view of it is
called in the access log.

Collectors, supervisors and managers work a case and see the contact data as the bank
placed it (sealed in `placement_records` by `arrears.intake.importer`, opened for the
one case shown by `arrears.crypto.vault.PersonalVault.read`). Auditors
check the work, not the debtor: they see it masked, enough to tell one number or person
from another (the last digits, the first character) and no more. Masking keeps no length
of a name or an address, since a length alone narrows who someone is.

Pure functions of the decrypted personal columns: no database, no clock, so the rules
are tested alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from arrears.console.i18n import N_

#: Roles that see contact data masked (issue 14, "Personal data on screen").
MASKED_ROLES: Final = frozenset({"auditor"})

#: What a view is called in the access log (`arrears.people.access_log.record_view`).
VIEW_WHOLE: Final = "contact data"
VIEW_MASKED: Final = "contact data (masked)"

#: The personal columns shown, in order, with their labels (translated where shown).
FIELDS: Final[tuple[tuple[str, str], ...]] = (
    ("debtor_name", N_("Name")),
    ("national_id", N_("National id")),
    ("mobile", N_("Mobile")),
    ("home_phone", N_("Home phone")),
    ("work_phone", N_("Work phone")),
    ("home_address", N_("Home address")),
    ("work_address", N_("Work address")),
)

_HIDDEN = "*"
_SHOWN_DIGITS = 4


@dataclass(frozen=True)
class Contact:
    name: str
    relation: str
    phone: str


@dataclass(frozen=True)
class ContactData:
    """What the page shows: (label, value) rows, the registered contacts, and whether it
    is masked."""

    rows: tuple[tuple[str, str], ...]
    contacts: tuple[Contact, ...]
    masked: bool

    @property
    def logged_as(self) -> str:
        return VIEW_MASKED if self.masked else VIEW_WHOLE


def masked_for(role: str) -> bool:
    return role in MASKED_ROLES


def mask_name(name: str) -> str:
    """The first character and three stars, whatever the name's length: 张*** / Z***."""
    name = name.strip()
    return f"{name[:1]}{_HIDDEN * 3}" if name else ""


def mask_digits(value: str) -> str:
    """A phone number or national id with all but its last four characters starred (the
    leading `+` of an international number kept, so it still reads as a phone)."""
    value = value.strip()
    plus = "+" if value.startswith("+") else ""
    body = value[len(plus) :]
    if len(body) <= _SHOWN_DIGITS:
        return plus + _HIDDEN * len(body)
    return plus + _HIDDEN * (len(body) - _SHOWN_DIGITS) + body[-_SHOWN_DIGITS:]


def mask_address(address: str) -> str:
    """The first two characters (a province or a house number at most) and three stars."""
    address = address.strip()
    return f"{address[:2]}{_HIDDEN * 3}" if address else ""


_MASKS: Final = {
    "debtor_name": mask_name,
    "national_id": mask_digits,
    "mobile": mask_digits,
    "home_phone": mask_digits,
    "work_phone": mask_digits,
    "home_address": mask_address,
    "work_address": mask_address,
}


def contact_data(personal: Mapping[str, Any] | None, *, masked: bool) -> ContactData | None:
    """The rows to show for a case's personal data (the vault's dict); None when there is none
    (no placement record, or purged after retention): nothing shown, nothing logged."""
    if not personal:
        return None

    def shown(column: str, value: str) -> str:
        return _MASKS[column](value) if masked else value

    rows = tuple(
        (label, shown(column, str(personal[column])))
        for column, label in FIELDS
        if personal.get(column)
    )
    contacts = tuple(
        Contact(
            name=mask_name(str(c.get("name", ""))) if masked else str(c.get("name", "")),
            relation=str(c.get("relation", "")),
            phone=shown("mobile", str(c.get("phone", ""))),
        )
        for c in personal.get("contacts") or ()
    )
    if not rows and not contacts:
        return None
    return ContactData(rows=rows, contacts=contacts, masked=masked)
