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


#: A phone's digits reversed, as migration 0010 indexes them (':' sorts right after '9').
_REVERSED = "(reverse(regexp_replace(r.personal->>'{line}', '\\D', '', 'g')) COLLATE \"C\")"

_SELECT = (
    "SELECT r.case_id, r.account_id, {matched} AS matched, c.stage, c.bucket, c.balance,"
    " c.outcome FROM placement_records r LEFT JOIN cases c USING (case_id) WHERE {where}"
    " ORDER BY c.outcome IS NOT NULL, r.case_id LIMIT {limit}"
)


async def search(conn: Conn, term: str) -> list[Found]:
    """The cases the term finds (open cases first), at most LIMIT."""
    term = term.strip()
    args: list[object]
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
            # Each phone's digits reversed (indexed, migration 0010): a number ending
            # with the term's digits is a prefix range from $2; a number the term ends
            # with (the term carries a +86 or trunk prefix) is one of the term's own
            # reversed prefixes, $3. So a country code on either side does not matter.
            reversed_digits = digits[::-1]
            args += [reversed_digits, [reversed_digits[:k] for k in
                                       range(MIN_PHONE_DIGITS, len(digits) + 1)]]  # fmt: skip
            phones = " OR ".join(
                "({d} >= $2::text AND {d} < $2::text || ':' OR {d} = ANY($3::text[]))".format(
                    d=_REVERSED.format(line=line)
                )
                for line in ("mobile", "home_phone", "work_phone")
            )
            where = f"r.account_id = $1 OR (r.personal IS NOT NULL AND ({phones}))"
            matched = "CASE WHEN r.account_id = $1 THEN 'account' ELSE 'phone' END"
    else:
        if len(term) < MIN_NAME_CHARS:
            raise SearchTermError(f"a name needs at least {MIN_NAME_CHARS} characters")
        where = "strpos(lower(r.personal->>'debtor_name'), lower($1)) > 0"
        args, matched = [term], "'name'"
    sql = _SELECT.format(matched=matched, where=where, limit=LIMIT)
    rows = await conn.fetch(sql, *args)
    return [Found(**r) for r in rows]
