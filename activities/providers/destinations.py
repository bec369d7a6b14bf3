"""The one phone number or address a contact attempt needs, read from the case's
personal data for that attempt alone.

The case workflow knows only which lines, addresses and contacts exist (`AccountFacts`);
the values are in PostgreSQL. `PersonalDestinations` reads the one case's personal data
through a `PersonalReader` (the personal data vault: `PersonalVault.read(conn, case_id)`,
which decrypts only that case) and keeps just the field the attempt uses: the debtor's
mobile, home or work phone, a registered contact's phone, or the home or work address
with the debtor's name as addressee. Nothing is cached: each attempt reads what it needs
when it needs it, so a purged case has nothing to give.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import asyncpg

from activities.contact import ContactRequest, Destination
from arrears.store.db import Conn


class PersonalReader(Protocol):
    """One case's personal data, or None (never placed, or purged). The signature of
    `arrears.crypto.vault.PersonalVault.read`."""

    async def read(self, conn: Conn, case_id: str) -> dict[str, Any] | None: ...


def destination_for(personal: Mapping[str, Any], request: ContactRequest) -> Destination | None:
    """The field of `personal` the attempt uses, or None if it is not on record.

    An SMS goes to the mobile (the plan names no line for it); a call to the line the plan
    chose, or to the registered contact `contact_index` (0-based, as the plan counts); a
    letter or a visit to the address named by its target, for the debtor."""
    if request.target == "contact":
        contacts = personal.get("contacts") or []
        index = request.contact_index
        if index is None or not 0 <= index < len(contacts):
            return None
        return _phone(contacts[index].get("phone"))
    if request.target == "debtor":
        return _phone(personal.get(request.line or "mobile"))
    address = personal.get(request.target)
    if not address:
        return None
    name = personal.get("debtor_name")
    return Destination(address=address, addressee=name or None)


def _phone(value: object) -> Destination | None:
    return Destination(phone=str(value)) if value else None


class PersonalDestinations:
    """`DestinationLookup` on the worker's pool: one case's personal data per attempt."""

    def __init__(self, pool: asyncpg.Pool, reader: PersonalReader) -> None:
        self._pool = pool
        self._reader = reader

    async def destination(self, request: ContactRequest) -> Destination | None:
        async with self._pool.acquire() as conn:
            personal = await self._reader.read(conn, request.case_id)
        return destination_for(personal, request) if personal is not None else None
