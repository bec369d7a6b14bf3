"""The value rules of a placement row: one function per kind of column (CONTRACTS.md §1).

Each takes the raw value as a file gives it (CSV text, or a JSON Lines string, number or
`Decimal`) and returns the exact, normalised value, or raises `fail(code, reason)`. The
reason is a fixed sentence that never quotes the value: it may be personal data, and
`domain.placement.row_errors` passes it to the rejection report verbatim. The decisions
behind each rule are in `domain.placement`'s docstring.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic_core import PydanticCustomError

ERROR_PREFIX: Final = "placement_"
"""Every error type these rules raise starts so; `row_errors` passes their text through."""

_CENT: Final = Decimal("0.01")
# An explicit context: the thread's decimal context is global, mutable state.
_DECIMAL_CONTEXT: Final = Context(prec=34, rounding=ROUND_HALF_UP, traps=[InvalidOperation])
_MAX_AMOUNT_DIGITS: Final = 15
_MAX_RAW_NUMBER: Final = 40
_MAX_RAW_PHONE: Final = 40

_ACCOUNT_ID_CHARS: Final = re.compile(r"[A-Za-z0-9-]+")
_ID_CHARS: Final = re.compile(r"[A-Za-z0-9]+")
_CN_ID_BODY: Final = re.compile(r"[0-9]{17}")
_CN_ID_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CN_ID_CHECK: Final = "10X98765432"
_PHONE_SEPARATORS: Final = re.compile(r"[ \-()]")
_E164: Final = re.compile(r"\+[1-9][0-9]{7,14}")
_NATIONAL_PHONE: Final = re.compile(r"[0-9]{7,15}")
_DECIMAL_TEXT: Final = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_WHOLE_TEXT: Final = re.compile(r"-?[0-9]{1,9}")
_ISO_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TZ_CHARS: Final = re.compile(r"[A-Za-z0-9_+\-/]{1,64}")
_MULTILINE_OK: Final = frozenset("\t\n\r")

PHONE_REASON: Final = "not a phone number: expected E.164 (+8613812345678) or 7-15 digits"
NOT_TEXT_REASON: Final = "must be text (in JSON Lines: a quoted string)"


def fail(code: str, reason: str) -> PydanticCustomError:
    """An error `row_errors` passes through verbatim, so `reason` must hold no input."""
    return PydanticCustomError(ERROR_PREFIX + code, reason)


# --- text ------------------------------------------------------------------------------


def stripped(value: object) -> str:
    """The value as trimmed text; other JSON types are refused rather than guessed at."""
    if not isinstance(value, str):
        raise fail("not_text", NOT_TEXT_REASON)
    return value.strip()


def _has_control(text: str, allowed: frozenset[str] = frozenset()) -> bool:
    """True if `text` holds a control character: they break reports, letters and SMS."""
    return any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in text)


def _line(value: object, max_len: int, too_long: str) -> str:
    """One line of free text, 1..max_len characters after trimming."""
    text = stripped(value)
    if not text:
        raise fail("empty", "must not be empty")
    if len(text) > max_len:
        raise fail("too_long", too_long)
    if _has_control(text):
        raise fail("control_character", "must be one line without control characters")
    return text


def debtor_name(value: object) -> str:
    """The debtor's name as the bank has it; letters go out addressed to it."""
    return _line(value, 200, "must be at most 200 characters")


def contact_name(value: object) -> str:
    """A registered contact's name (申请表联系人)."""
    return _line(value, 200, "must be at most 200 characters")


def relation(value: object) -> str:
    """How a contact relates to the debtor (spouse, parent, colleague...); free text."""
    return _line(value, 50, "must be at most 50 characters")


def segment(value: object) -> str:
    """A free label the bank uses to pick a strategy; not personal data."""
    return _line(value, 100, "must be at most 100 characters")


def address(value: object) -> str:
    """A postal address; may span lines, since demand letters are printed from it."""
    text = stripped(value)
    if not text:
        raise fail("empty", "must not be empty")
    if len(text) > 500:
        raise fail("too_long", "must be at most 500 characters")
    if _has_control(text, _MULTILINE_OK):
        raise fail("control_character", "must not contain control characters")
    return text


# --- identifiers -------------------------------------------------------------------------


def account_id(value: object) -> str:
    """The bank's account number; the case id derives from it, so it is kept as given."""
    text = stripped(value)
    if not 6 <= len(text) <= 32:
        raise fail("account_id_length", "must be 6-32 characters long")
    if not _ACCOUNT_ID_CHARS.fullmatch(text):
        raise fail("account_id_chars", "may contain only letters A-Z, digits 0-9 and '-'")
    return text


def cn_id_check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of a mainland resident id (GB 11643-1999).

    Weights are 2^(17-i) mod 11; the check character maps sum mod 11 through
    "10X98765432". Exposed so that tests and fixtures can build valid ids.
    """
    if not _CN_ID_BODY.fullmatch(first17):
        raise ValueError("a resident id body is exactly 17 digits")
    total = sum(int(d) * w for d, w in zip(first17, _CN_ID_WEIGHTS, strict=True))
    return _CN_ID_CHECK[total % 11]


def _looks_like_cn_id(text: str) -> bool:
    """18 characters starting with 17 digits: a resident id, whatever its last character."""
    return len(text) == 18 and _CN_ID_BODY.fullmatch(text[:17]) is not None


def national_id(value: object) -> str:
    """A national id, checked where its format allows (see the module docstring)."""
    text = stripped(value).upper()
    if not 6 <= len(text) <= 32 or not _ID_CHARS.fullmatch(text):
        raise fail("national_id_format", "must be 6-32 letters or digits")
    if _looks_like_cn_id(text) and text[17] != cn_id_check_digit(text[:17]):
        raise fail(
            "national_id_check_digit",
            "looks like a mainland China resident id (18 characters) but its check digit is wrong",
        )
    return text


def phone(value: object) -> str:
    """A phone number reduced to `+` and digits, the form dialers and SMS gateways take."""
    if not isinstance(value, str):
        raise fail("phone_not_text", "must be text: write phone numbers in quotes")
    if len(value) > _MAX_RAW_PHONE:
        raise fail("phone", PHONE_REASON)
    compact = _PHONE_SEPARATORS.sub("", value.strip())
    if _E164.fullmatch(compact) or _NATIONAL_PHONE.fullmatch(compact):
        return compact
    raise fail("phone", PHONE_REASON)


def timezone(value: object) -> str:
    """An IANA zone name that this machine's tz database knows (contact windows use it)."""
    text = stripped(value)
    reason = "not an IANA time zone name such as Asia/Shanghai"
    if not _TZ_CHARS.fullmatch(text):
        raise fail("timezone", reason)
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise fail("timezone", reason) from None
    return text


# --- numbers and dates -------------------------------------------------------------------


def amount(value: object) -> Decimal:
    """An amount exact to the cent, >= 0, stored with two decimal places (POLICY §1)."""
    number = _exact_decimal(value)
    if number < 0:
        raise fail("amount_negative", "must not be negative")
    if number != 0 and number.adjusted() >= _MAX_AMOUNT_DIGITS:
        raise fail("amount_too_large", "is too large: at most 15 digits before the point")
    cents = number.quantize(_CENT, context=_DECIMAL_CONTEXT)
    if cents != number:
        raise fail("amount_precision", "must have at most 2 decimal places")
    return cents.copy_abs()  # no "-0.00"


def positive_amount(value: object) -> Decimal:
    """An amount that must be owed at all: a case exists because a minimum went unpaid."""
    owed = amount(value)
    if owed == 0:
        raise fail("amount_zero", "must be greater than zero")
    return owed


def _exact_decimal(value: object) -> Decimal:
    """Read a number without ever passing through binary floating point."""
    if isinstance(value, float):
        raise fail(
            "amount_float",
            "is a floating-point number, which cannot hold cents exactly: "
            'write the amount as a quoted decimal, e.g. "1234.50"',
        )
    not_a_number = "not a decimal amount: expected digits with an optional point, e.g. 1234.50"
    if isinstance(value, bool):
        raise fail("amount_not_number", not_a_number)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise fail("amount_not_number", not_a_number)
        return value
    if isinstance(value, str):
        text = value.strip()
        if len(text) <= _MAX_RAW_NUMBER and _DECIMAL_TEXT.fullmatch(text):
            return Decimal(text)
    raise fail("amount_not_number", not_a_number)


def _whole_number(value: object) -> int | None:
    """An integer from a JSON integer, an integral Decimal or digit text; else None."""
    if isinstance(value, bool | float):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        if value.is_finite() and value == value.to_integral_value(context=_DECIMAL_CONTEXT):
            return int(value)
        return None
    if isinstance(value, str) and _WHOLE_TEXT.fullmatch(value.strip()):
        return int(value.strip())
    return None


def statement_day(value: object) -> int:
    """Day of the month statements are cut; 1-28 so that every month has it (POLICY §2)."""
    day = _whole_number(value)
    if day is None or not 1 <= day <= 28:
        raise fail("statement_day", "must be a whole number from 1 to 28")
    return day


def grace_days(value: object) -> int:
    """Days from statement to due date (POLICY §2, default 20)."""
    days = _whole_number(value)
    if days is None or not 0 <= days <= 60:
        raise fail("grace_days", "must be a whole number of days from 0 to 60")
    return days


def iso_date(value: object) -> date:
    """A calendar date written YYYY-MM-DD; other ISO forms are refused as likely mistakes."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    written = "must be a date written YYYY-MM-DD"
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value.strip()):
        raise fail("date_format", written)
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise fail("date_invalid", "is not a real calendar date (YYYY-MM-DD)") from None
