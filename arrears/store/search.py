"""Finding a case (issue 14, page 4): by case id, account id, or, for a collector taking
an inbound call, the debtor's phone number or name as the placement records hold them.

What comes back is case ids and columns without personal data (stage, bucket, balance),
and which kind of match it was; the term itself is never logged, stored, or echoed into
a URL (the page submits it by POST). Personal data is stored sealed (arrears.crypto), so
phones and names are matched on keyed hashes (HMAC, `arrears.crypto.lookup`) of the
term against the hashes stored beside each record: nothing is decrypted to search.
Records whose personal data was purged have no hashes left and match only by id.

A term is read as:
- a case id when it starts with `case-`;
- digits (spaces, dashes, dots, brackets and a leading `+` allowed): an account id, or a
  phone number when it has at least `MIN_PHONE_DIGITS` digits: the debtor's mobile, home
  or work phone when the digits of one end with the other's (so `138 0000 0000` finds
  `+86 13800000000`, and `+86 139...` finds `139...`);
- anything else of at least two characters: the debtor's full name, exactly, after
  normalising case, width and spaces (a part of a name no longer finds anyone:
  docs/DECISIONS.md, "Search by name after encryption").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Literal

from arrears.crypto import lookup
from arrears.crypto.vault import PersonalVault
from arrears.store.db import Conn

MIN_PHONE_DIGITS: Final = lookup.MIN_PHONE_DIGITS
MIN_NAME_CHARS: Final = 2
LIMIT: Final = 50
_PHONE_CHARS = re.compile(r"^\+?[\d\s().-]+$")

Match = Literal["case", "account", "phone", "name"]


@dataclass(frozen=True)
class Found:
    case_id: str
    account_id: str
    matched: Match
    stage: str | None
    bucket: str | None
    balance: Decimal | None
    outcome: str | None


class SearchTermError(ValueError):
    """A term too short to search by (the message says what is needed, not the term)."""


_SELECT = (
    "SELECT r.case_id, r.account_id, {matched} AS matched, c.stage, c.bucket, c.balance,"
    " c.outcome FROM placement_records r LEFT JOIN cases c USING (case_id) WHERE {where}"
    " ORDER BY c.outcome IS NOT NULL, r.case_id LIMIT {limit}"
)


async def search(conn: Conn, term: str, vault: PersonalVault) -> list[Found]:
    """The cases the term finds (open cases first), at most LIMIT."""
    term = term.strip()
    args: list[object]
    if term.startswith("case-"):
        where, args, matched = "r.case_id = $1", [term], "'case'"
    elif _PHONE_CHARS.match(term):
        digits = lookup.phone_digits(term)
        if not digits:
            raise SearchTermError("a number needs digits")
        where = "r.account_id = $1"
        matched = "'account'"
        args = [digits]
        hkey = await vault.lookup_key(conn, create=False)
        if len(digits) >= MIN_PHONE_DIGITS and hkey is not None:
            # A stored number ending with the term's digits has the term's hash among
            # its suffix hashes ($2); a number the term ends with (the term carries a
            # +86 or trunk prefix) has its own hash among the term's suffix hashes
            # ($3). So a country code on either side does not matter. Both are GIN.
            args += [lookup.digits_hash(hkey, digits), lookup.suffix_hashes(hkey, digits)]
            where = (
                "r.account_id = $1 OR r.phone_suffixes @> ARRAY[$2::bytea]"
                " OR r.phone_hashes && $3::bytea[]"
            )
            matched = "CASE WHEN r.account_id = $1 THEN 'account' ELSE 'phone' END"
    else:
        if len(term) < MIN_NAME_CHARS:
            raise SearchTermError(f"a name needs at least {MIN_NAME_CHARS} characters")
        hkey = await vault.lookup_key(conn, create=False)
        if hkey is None:
            return []  # no personal data was ever sealed: no name to find
        where, args, matched = "r.name_hash = $1", [lookup.name_hash(hkey, term)], "'name'"
    sql = _SELECT.format(matched=matched, where=where, limit=LIMIT)
    rows = await conn.fetch(sql, *args)
    return [Found(**r) for r in rows]
