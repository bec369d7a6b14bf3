"""One row of a bank's placement file, validated (CONTRACTS.md §1).

A placement row is the only way a case enters the system, and it arrives from outside:
a CSV export or a JSON Lines file written by the bank's card system. So this module is
strict about what it accepts and careful about what it says when it refuses:

- Every value is parsed exactly. Amounts are `Decimal` to the cent, never `float`
  (POLICY §1); a JSON number that the caller let `json` turn into a float is refused,
  because the cents may already be wrong. Callers that read JSON Lines should use
  `json.loads(line, parse_float=Decimal)`: the exact `Decimal` is accepted.
- Both file forms are accepted: CSV gives every value as a string (`contacts` as
  `name:relation:phone;...`, `flags` as `a;b`), JSON Lines gives lists, objects and
  integers. An empty string (or JSON `null`) in a column means the column is absent.
  Unknown columns are ignored: banks add columns to their exports without telling us.
- A refusal is reported per column by `row_errors` as a fixed sentence that never
  contains the refused value, because the value may be personal data and the rejection
  report is read by people who must not see it (CONTRACTS.md §1: "it holds no personal
  data"). The `ValidationError` itself hides its input too (`hide_input_in_errors`), so
  logging it by mistake does not leak either.

Decisions not fixed by the contract (written down here so the docs can cite them):

- `national_id` accepts any 6-32 letters or digits (passports, Hong Kong and foreign
  ids), stored upper-case. A value of 18 characters whose first 17 are digits is taken to
  be a mainland China resident id (GB 11643-1999) and must carry a correct ISO 7064
  MOD 11-2 check digit (0-9 or X): that catches most mistyped ids, which would otherwise
  send letters and visits to the wrong person. Birth date and region code are not checked.
- Phones: E.164 (`+`, a country code not starting with 0, 8-15 digits in all) or a
  national number of 7-15 digits. Spaces, dashes and parentheses are dropped; the stored
  value is only `+` and digits. Phones must be strings: a JSON integer would have lost a
  leading 0 (trunk prefix) already.
- Amounts are stored with exactly two decimal places; "12.5" and "12.500" are 12.50,
  "12.345" is refused. At most 15 digits before the point.
- `flags` are matched case-insensitively and stored once each, in the order of `FLAGS`,
  so that two equal rows always serialise the same way (workflow inputs must replay).
- `contacts` and `flags` are tuples, not lists, so that a frozen row is really immutable.
  At most 20 contacts. Full-width `；` and `：` (common in Chinese exports) separate
  entries and parts like `;` and `:`.
- Names, relations and segments are one line: control characters are refused. Addresses
  may span lines (a quoted CSV field), so only tabs and line breaks are allowed there.
- `oldest_unpaid_due_date` is not compared with today: this module reads no clock. The
  importer may refuse due dates in the future if it wishes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import Annotated, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ModelWrapValidatorHandler,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

Flag = Literal["suspected_fraud", "cash_out", "deceased", "bankrupt"]

FLAGS: Final[tuple[Flag, ...]] = ("suspected_fraud", "cash_out", "deceased", "bankrupt")
"""Every flag, in the order a row stores them."""

personal_fields: Final[frozenset[str]] = frozenset(
    {
        "debtor_name",
        "national_id",
        "mobile",
        "home_phone",
        "work_phone",
        "home_address",
        "work_address",
        "contacts",
    }
)
"""Columns holding personal data: never in logs, search attributes or workflow ids."""

PHONE_COLUMNS: Final[tuple[str, ...]] = ("mobile", "home_phone", "work_phone")
"""The debtor's own numbers; a row needs at least one (CONTRACTS.md §1)."""

DEFAULT_TIMEZONE: Final = "Asia/Shanghai"
DEFAULT_GRACE_DAYS: Final = 20
MAX_CONTACTS: Final = 20

_ERROR_PREFIX: Final = "placement_"
_CENT: Final = Decimal("0.01")
# An explicit context: the thread's decimal context is global, mutable state.
_DECIMAL_CONTEXT: Final = Context(prec=34, rounding=ROUND_HALF_UP, traps=[InvalidOperation])
_MAX_AMOUNT_DIGITS: Final = 15
_MAX_RAW_NUMBER: Final = 40
_MAX_RAW_PHONE: Final = 40
_MAX_RAW_CONTACTS: Final = 20_000
_MAX_RAW_FLAGS: Final = 500

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
_LIST_SEPARATOR: Final = re.compile(r"[;；]")
_PART_SEPARATOR: Final = re.compile(r"[:：]")
_MULTILINE_OK: Final = frozenset("\t\n\r")

PHONE_REASON: Final = "not a phone number: expected E.164 (+8613812345678) or 7-15 digits"
NOT_TEXT_REASON: Final = "must be text (in JSON Lines: a quoted string)"


def _fail(code: str, reason: str) -> PydanticCustomError:
    """An error `row_errors` passes through verbatim, so `reason` must hold no input."""
    return PydanticCustomError(_ERROR_PREFIX + code, reason)


# --- text ------------------------------------------------------------------------------


def _stripped(value: object) -> str:
    """The value as trimmed text; other JSON types are refused rather than guessed at."""
    if not isinstance(value, str):
        raise _fail("not_text", NOT_TEXT_REASON)
    return value.strip()


def _has_control(text: str, allowed: frozenset[str] = frozenset()) -> bool:
    """True if `text` holds a control character: they break reports, letters and SMS."""
    return any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in text)


def _line(value: object, max_len: int, too_long: str) -> str:
    """One line of free text, 1..max_len characters after trimming."""
    text = _stripped(value)
    if not text:
        raise _fail("empty", "must not be empty")
    if len(text) > max_len:
        raise _fail("too_long", too_long)
    if _has_control(text):
        raise _fail("control_character", "must be one line without control characters")
    return text


def _debtor_name(value: object) -> str:
    """The debtor's name as the bank has it; letters go out addressed to it."""
    return _line(value, 200, "must be at most 200 characters")


def _contact_name(value: object) -> str:
    """A registered contact's name (申请表联系人)."""
    return _line(value, 200, "must be at most 200 characters")


def _relation(value: object) -> str:
    """How a contact relates to the debtor (spouse, parent, colleague...); free text."""
    return _line(value, 50, "must be at most 50 characters")


def _segment(value: object) -> str:
    """A free label the bank uses to pick a strategy; not personal data."""
    return _line(value, 100, "must be at most 100 characters")


def _address(value: object) -> str:
    """A postal address; may span lines, since demand letters are printed from it."""
    text = _stripped(value)
    if not text:
        raise _fail("empty", "must not be empty")
    if len(text) > 500:
        raise _fail("too_long", "must be at most 500 characters")
    if _has_control(text, _MULTILINE_OK):
        raise _fail("control_character", "must not contain control characters")
    return text


# --- identifiers -------------------------------------------------------------------------


def _account_id(value: object) -> str:
    """The bank's account number; the case id derives from it, so it is kept as given."""
    text = _stripped(value)
    if not 6 <= len(text) <= 32:
        raise _fail("account_id_length", "must be 6-32 characters long")
    if not _ACCOUNT_ID_CHARS.fullmatch(text):
        raise _fail("account_id_chars", "may contain only letters A-Z, digits 0-9 and '-'")
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


def _national_id(value: object) -> str:
    """A national id, checked where its format allows (see the module docstring)."""
    text = _stripped(value).upper()
    if not 6 <= len(text) <= 32 or not _ID_CHARS.fullmatch(text):
        raise _fail("national_id_format", "must be 6-32 letters or digits")
    if _looks_like_cn_id(text) and text[17] != cn_id_check_digit(text[:17]):
        raise _fail(
            "national_id_check_digit",
            "looks like a mainland China resident id (18 characters) but its check digit is wrong",
        )
    return text


def _phone(value: object) -> str:
    """A phone number reduced to `+` and digits, the form dialers and SMS gateways take."""
    if not isinstance(value, str):
        raise _fail("phone_not_text", "must be text: write phone numbers in quotes")
    if len(value) > _MAX_RAW_PHONE:
        raise _fail("phone", PHONE_REASON)
    compact = _PHONE_SEPARATORS.sub("", value.strip())
    if _E164.fullmatch(compact) or _NATIONAL_PHONE.fullmatch(compact):
        return compact
    raise _fail("phone", PHONE_REASON)


def _timezone(value: object) -> str:
    """An IANA zone name that this machine's tz database knows (contact windows use it)."""
    text = _stripped(value)
    reason = "not an IANA time zone name such as Asia/Shanghai"
    if not _TZ_CHARS.fullmatch(text):
        raise _fail("timezone", reason)
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise _fail("timezone", reason) from None
    return text


# --- numbers and dates -------------------------------------------------------------------


def _amount(value: object) -> Decimal:
    """An amount exact to the cent, >= 0, stored with two decimal places (POLICY §1)."""
    number = _exact_decimal(value)
    if number < 0:
        raise _fail("amount_negative", "must not be negative")
    if number != 0 and number.adjusted() >= _MAX_AMOUNT_DIGITS:
        raise _fail("amount_too_large", "is too large: at most 15 digits before the point")
    cents = number.quantize(_CENT, context=_DECIMAL_CONTEXT)
    if cents != number:
        raise _fail("amount_precision", "must have at most 2 decimal places")
    return cents.copy_abs()  # no "-0.00"


def _positive_amount(value: object) -> Decimal:
    """An amount that must be owed at all: a case exists because a minimum went unpaid."""
    amount = _amount(value)
    if amount == 0:
        raise _fail("amount_zero", "must be greater than zero")
    return amount


def _exact_decimal(value: object) -> Decimal:
    """Read a number without ever passing through binary floating point."""
    if isinstance(value, float):
        raise _fail(
            "amount_float",
            "is a floating-point number, which cannot hold cents exactly: "
            'write the amount as a quoted decimal, e.g. "1234.50"',
        )
    not_a_number = "not a decimal amount: expected digits with an optional point, e.g. 1234.50"
    if isinstance(value, bool):
        raise _fail("amount_not_number", not_a_number)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise _fail("amount_not_number", not_a_number)
        return value
    if isinstance(value, str):
        text = value.strip()
        if len(text) <= _MAX_RAW_NUMBER and _DECIMAL_TEXT.fullmatch(text):
            return Decimal(text)
    raise _fail("amount_not_number", not_a_number)


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


def _statement_day(value: object) -> int:
    """Day of the month statements are cut; 1-28 so that every month has it (POLICY §2)."""
    day = _whole_number(value)
    if day is None or not 1 <= day <= 28:
        raise _fail("statement_day", "must be a whole number from 1 to 28")
    return day


def _grace_days(value: object) -> int:
    """Days from statement to due date (POLICY §2, default 20)."""
    days = _whole_number(value)
    if days is None or not 0 <= days <= 60:
        raise _fail("grace_days", "must be a whole number of days from 0 to 60")
    return days


def _iso_date(value: object) -> date:
    """A calendar date written YYYY-MM-DD; other ISO forms are refused as likely mistakes."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    written = "must be a date written YYYY-MM-DD"
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value.strip()):
        raise _fail("date_format", written)
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise _fail("date_invalid", "is not a real calendar date (YYYY-MM-DD)") from None


# --- lists ---------------------------------------------------------------------------------


def _contacts(value: object) -> tuple[Contact, ...]:
    """Registered contacts, from `name:relation:phone;...` or a list (JSON Lines)."""
    entries: Sequence[object]
    if isinstance(value, str):
        if len(value) > _MAX_RAW_CONTACTS:
            raise _fail("contacts_too_long", "is too long")
        entries = _LIST_SEPARATOR.split(value)
    elif isinstance(value, list | tuple):
        entries = value
    else:
        raise _fail(
            "contacts_type",
            "must be name:relation:phone entries separated by ';' "
            "or a list of objects with name, relation and phone",
        )
    present = [e for e in entries if not (isinstance(e, str) and not e.strip())]
    if len(present) > MAX_CONTACTS:
        raise _fail("contacts_too_many", "must list at most 20 contacts")
    return tuple(_contact(n, entry) for n, entry in enumerate(present, start=1))


def _contact(n: int, entry: object) -> Contact:
    """Entry `n` (1-based, as the operator counts) of the contacts column."""
    if isinstance(entry, Contact):
        return entry
    parts: dict[str, object]
    if isinstance(entry, str):
        pieces = _PART_SEPARATOR.split(entry.strip())
        if len(pieces) != 3:
            raise _fail("contact_entry", f"entry {n}: expected name:relation:phone")
        parts = dict(zip(("name", "relation", "phone"), pieces, strict=True))
    elif isinstance(entry, Mapping):
        parts = {k: entry.get(k) for k in ("name", "relation", "phone")}
    else:
        raise _fail(
            "contact_entry",
            f"entry {n}: expected name:relation:phone or an object with name, relation and phone",
        )
    checks = (("name", _contact_name), ("relation", _relation), ("phone", _phone))
    clean: dict[str, str] = {}
    for part, check in checks:
        raw = parts[part]
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            raise _fail("contact_entry", f"entry {n}: {part} is required")
        try:
            clean[part] = check(raw)
        except PydanticCustomError as err:
            raise _fail("contact_entry", f"entry {n} ({part}): {err.message()}") from None
    return Contact(**clean)


def _flags(value: object) -> tuple[Flag, ...]:
    """Flags as a set in canonical order; an unknown flag is refused, not dropped."""
    items: Sequence[object]
    if isinstance(value, str):
        if len(value) > _MAX_RAW_FLAGS:
            raise _fail("flags_too_long", "is too long")
        items = _LIST_SEPARATOR.split(value)
    elif isinstance(value, list | tuple):
        items = value
    else:
        raise _fail("flags_type", "must be flags separated by ';' or a list of flags")
    seen: set[str] = set()
    for item in items:
        name = _stripped(item).lower()
        if not name:
            continue
        if name not in FLAGS:
            raise _fail(
                "flag_unknown",
                "unknown flag: expected suspected_fraud, cash_out, deceased or bankrupt",
            )
        seen.add(name)
    return tuple(flag for flag in FLAGS if flag in seen)


# --- models --------------------------------------------------------------------------------

AccountId = Annotated[str, BeforeValidator(_account_id)]
Phone = Annotated[str, BeforeValidator(_phone)]
OptionalPhone = Annotated[str | None, BeforeValidator(_phone)]
Amount = Annotated[Decimal, BeforeValidator(_amount)]


class Contact(BaseModel):
    """A registered contact (申请表联系人): called only to locate the debtor (POLICY §5)."""

    model_config = ConfigDict(frozen=True, extra="ignore", hide_input_in_errors=True)

    name: Annotated[str, BeforeValidator(_contact_name)]
    relation: Annotated[str, BeforeValidator(_relation)]
    phone: Phone


class PlacementRow(BaseModel):
    """One case as the bank places it; see the module docstring for every parsing rule."""

    model_config = ConfigDict(frozen=True, extra="ignore", hide_input_in_errors=True)

    account_id: AccountId
    debtor_name: Annotated[str, BeforeValidator(_debtor_name)]
    national_id: Annotated[str | None, BeforeValidator(_national_id)] = None
    mobile: OptionalPhone = None
    home_phone: OptionalPhone = None
    work_phone: OptionalPhone = None
    home_address: Annotated[str | None, BeforeValidator(_address)] = None
    work_address: Annotated[str | None, BeforeValidator(_address)] = None
    contacts: Annotated[tuple[Contact, ...], BeforeValidator(_contacts)] = ()
    timezone: Annotated[str, BeforeValidator(_timezone)] = DEFAULT_TIMEZONE
    credit_limit: Amount
    principal: Amount
    interest: Amount
    fees: Amount
    statement_day: Annotated[int, BeforeValidator(_statement_day)]
    grace_days: Annotated[int, BeforeValidator(_grace_days)] = DEFAULT_GRACE_DAYS
    oldest_unpaid_due_date: Annotated[date, BeforeValidator(_iso_date)]
    unpaid_minimum: Annotated[Decimal, BeforeValidator(_positive_amount)]
    segment: Annotated[str | None, BeforeValidator(_segment)] = None
    flags: Annotated[tuple[Flag, ...], BeforeValidator(_flags)] = ()

    @property
    def balance(self) -> Decimal:
        """What the debtor owes on the day the case opens (POLICY §1)."""
        return self.principal + self.interest + self.fees

    @property
    def case_id(self) -> str:
        """The case's workflow id; see `case_id_for`."""
        return case_id_for(self.account_id)

    @model_validator(mode="wrap")
    @classmethod
    def _whole_row(
        cls, data: object, handler: ModelWrapValidatorHandler[PlacementRow]
    ) -> PlacementRow:
        """Drop absent columns, then report every problem of the row at once.

        Cross-field rules are checked here rather than in an "after" validator so that a
        row with no phone at all is told so even when another column is also wrong: an
        operator fixing a file wants the whole list in one pass.
        """
        if isinstance(data, PlacementRow):
            return handler(data)
        if not isinstance(data, Mapping):
            raise _fail("not_a_record", "a row must be a set of named columns")
        present = _present_columns(data)
        problems: list[InitErrorDetails] = []
        if not any(column in present for column in PHONE_COLUMNS):
            problems.append(
                _problem(
                    "mobile",
                    "no_phone",
                    "at least one of mobile, home_phone, work_phone is required",
                )
            )
        try:
            row = handler(present)
        except ValidationError as exc:
            if not problems:
                raise
            raise _combined(cls, [*_as_init_errors(exc), *problems]) from None
        if row.unpaid_minimum > row.balance:
            problems.append(
                _problem(
                    "unpaid_minimum",
                    "minimum_above_balance",
                    "must not exceed the balance (principal + interest + fees)",
                )
            )
        if problems:
            raise _combined(cls, problems)
        return row


def _present_columns(data: Mapping[object, object]) -> dict[str, object]:
    """The columns that carry a value: empty strings and nulls mean "absent".

    Keys that are not strings (csv.DictReader files surplus cells under `None`) are
    dropped here; reporting ragged lines is the reader's job.
    """
    return {
        key: value
        for key, value in data.items()
        if isinstance(key, str)
        and value is not None
        and not (isinstance(value, str) and not value.strip())
    }


def _problem(column: str, code: str, reason: str) -> InitErrorDetails:
    """A row-level error attached to the column the operator should look at."""
    return {"type": _fail(code, reason), "loc": (column,), "input": None}


def _as_init_errors(exc: ValidationError) -> list[InitErrorDetails]:
    """Re-express pydantic's errors so they can be merged with row-level ones."""
    return [
        {
            "type": PydanticCustomError(error["type"], error["msg"]),
            "loc": error["loc"],
            "input": error["input"],
        }
        for error in exc.errors(include_url=False)
    ]


def _combined(model: type[BaseModel], errors: list[InitErrorDetails]) -> ValidationError:
    """One ValidationError holding `errors` in column order, its input hidden as everywhere."""
    order = {name: position for position, name in enumerate(model.model_fields)}

    def position(error: InitErrorDetails) -> int:
        loc = error.get("loc", ())
        return order.get(str(loc[0]), -1) if loc else -1

    ordered = sorted(errors, key=position)
    return ValidationError.from_exception_data(model.__name__, ordered, hide_input=True)


# --- public helpers ----------------------------------------------------------------------

_BUILTIN_REASONS: Final[Mapping[str, str]] = {
    "missing": "is required but missing or empty",
}
_FALLBACK_REASON: Final = "is not valid"


def row_errors(exc: ValidationError) -> list[tuple[str, str]]:
    """(column, reason) pairs for the rejection report, in column order.

    The reason is one of this module's fixed sentences: pydantic's own messages are
    replaced, since they are not written for operators and some kinds may quote the
    input. The column is "" when the problem is the row as a whole.
    """
    pairs: list[tuple[str, str]] = []
    for error in exc.errors(include_url=False, include_input=False):
        loc = error["loc"]
        column = loc[0] if loc and isinstance(loc[0], str) else ""
        kind = error["type"]
        if kind.startswith(_ERROR_PREFIX):
            reason = error["msg"]
        else:
            reason = _BUILTIN_REASONS.get(kind, _FALLBACK_REASON)
        pairs.append((column, reason))
    return pairs


def case_id_for(account_id: str, episode: int = 1) -> str:
    """The case's workflow id: `case-<account_id>` for the account's first delinquency
    episode, `case-<account_id>.<n>` for the n-th (a cured account that defaults again).

    Derived from the account id alone, never from personal data (workflow ids are shown
    in the Temporal UI and logs), and deterministic, so importing the same file twice
    finds the running workflow instead of starting another (CONTRACTS.md §1). Account
    ids are case-sensitive, as the bank issues them; they never contain '.', so an
    episode's id cannot be another account's.
    """
    if episode < 1:
        raise ValueError("an episode is numbered from 1")
    try:
        base = "case-" + _account_id(account_id)
    except PydanticCustomError:
        raise ValueError("an account id is 6-32 characters of A-Z, a-z, 0-9 and '-'") from None
    return base if episode == 1 else f"{base}.{episode}"


def parse_case_id(case_id: str) -> tuple[str, int]:
    """`(account_id, episode)` of a case id made by `case_id_for`; ValueError if it is not
    one."""
    rest = case_id.removeprefix("case-")
    account_id, dot, number = rest.partition(".")
    episode = int(number) if dot and number.isdigit() and not number.startswith("0") else 1
    if (dot and episode < 2) or case_id_for(account_id, episode) != case_id:
        raise ValueError(f"not a case id: {case_id!r}")
    return account_id, episode
