"""Finding a case (issue 14, page 4): by case id, account id, or, for a collector taking
an inbound call, the debtor's phone number or name as the placement records hold them.

What comes back is case ids and columns without personal data (stage, bucket, balance),
and which kind of match it was; the term itself is never logged, stored, or echoed into
a URL (the page submits it by POST). Records whose personal data was purged
(`personal IS NULL`) match only by id.

A term is read as:
- a case id when it starts with `case-`;
- digits (spaces, dashes, dots, brackets and a leading `+` allowed): an account id, or a
  phone number when it has at least `MIN_PHONE_DIGITS` digits: the debtor's mobile, home
  or work phone when the digits of one end with the other's (so `138 0000 0000` finds
  `+86 13800000000`, and `+86 139...` finds `139...`);
- anything else of at least two characters: a part of the debtor's name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Literal

from arrears.store.db import Conn

MIN_PHONE_DIGITS: Final = 6
MIN_NAME_CHARS: Final = 2
LIMIT: Final = 50
_PHONE_CHARS = re.compile(r"^\+?[\d\s().-]+$")
_NON_DIGITS = re.compile(r"\D")

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


def phone_digits(value: str) -> str:
    return _NON_DIGITS.sub("", value)


_SELECT = (
    "SELECT r.case_id, r.account_id, {matched} AS matched, c.stage, c.bucket, c.balance,"
    " c.outcome FROM placement_records r LEFT JOIN cases c USING (case_id) WHERE {where}"
    " ORDER BY c.outcome IS NOT NULL, r.case_id LIMIT {limit}"
)


async def search(conn: Conn, term: str) -> list[Found]:
    """The cases the term finds (open cases first), at most LIMIT."""
    term = term.strip()
    if term.startswith("case-"):
        where, args, matched = "r.case_id = $1", [term], "'case'"
    elif _PHONE_CHARS.match(term):
        digits = phone_digits(term)
        if not digits:
            raise SearchTermError("a number needs digits")
        where = "r.account_id = $1"
        matched = "'account'"
        args = [digits]
        if len(digits) >= MIN_PHONE_DIGITS:
            # Digits of each of the debtor's phones, compared at their end: a country
            # code or trunk prefix on either side (+86, 0) does not matter.
            phones = (
                "EXISTS (SELECT FROM unnest(ARRAY[r.personal->>'mobile',"
                " r.personal->>'home_phone', r.personal->>'work_phone']) AS p(v),"
                " regexp_replace(p.v, '\\D', '', 'g') AS d(digits)"
                f" WHERE length(d.digits) >= {MIN_PHONE_DIGITS}"
                " AND (d.digits LIKE '%' || $1 OR $1 LIKE '%' || d.digits))"
            )
            where = f"r.account_id = $1 OR ({phones})"
            matched = "CASE WHEN r.account_id = $1 THEN 'account' ELSE 'phone' END"
    else:
        if len(term) < MIN_NAME_CHARS:
            raise SearchTermError(f"a name needs at least {MIN_NAME_CHARS} characters")
        where = "strpos(lower(r.personal->>'debtor_name'), lower($1)) > 0"
        args, matched = [term], "'name'"
    sql = _SELECT.format(matched=matched, where=where, limit=LIMIT)
    rows = await conn.fetch(sql, *args)
    return [Found(**r) for r in rows]
