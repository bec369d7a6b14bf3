"""One row of a bank's placement file, validated (CONTRACTS.md §1): the placement model.

A placement row is the only way a case enters the system, and it arrives from outside:
a CSV export or a JSON Lines file written by the bank's card system. So the model is
strict about what it accepts and careful about what it says when it refuses:

- Every value is parsed exactly (`domain.placement_values`, one rule per kind of
  column). Amounts are `Decimal` to the cent, never `float` (POLICY §1); a JSON number
  that the caller let `json` turn into a float is refused, because the cents may already
  be wrong. Callers that read JSON Lines should use `json.loads(line, parse_float=Decimal)`:
  the exact `Decimal` is accepted.
- The model takes the structured form, as JSON Lines gives it: `contacts` a list of
  objects with name, relation and phone, `flags` a list of names, other values as
  strings, integers or decimals. The text forms of a CSV export (`name:relation:phone;...`,
  `a;b`) are a file format: `arrears.intake.csv_forms` takes them apart first. An empty
  string (or JSON `null`) in a column means the column is absent. Unknown columns are
  ignored: banks add columns to their exports without telling us.
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
  At most 20 contacts.
- Names, relations and segments are one line: control characters are refused. Addresses
  may span lines (a quoted CSV field), so only tabs and line breaks are allowed there.
- `oldest_unpaid_due_date` is not compared with today: this module reads no clock. The
  importer may refuse due dates in the future if it wishes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Final, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ModelWrapValidatorHandler,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from domain import placement_values as values
from domain.placement_values import ERROR_PREFIX, fail, stripped
from domain.placement_values import cn_id_check_digit as cn_id_check_digit  # re-exported

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


@dataclass(frozen=True, slots=True)
class Refused:
    """What a file adapter hands over in place of a value whose text form it could not
    take apart (a `contacts` column too long to split, an entry that is not
    name:relation:phone). The row reports it for its column like any other problem, in
    column order with the rest, so moving the text forms out of the model changes no
    report. `reason` must be a fixed sentence: it reaches the rejection report as is."""

    code: str
    reason: str


# --- lists ---------------------------------------------------------------------------------


def _contacts(value: object) -> tuple[Contact, ...]:
    """Registered contacts, from a list of objects (`Contact`s as they are, too)."""
    if isinstance(value, Refused):
        raise fail(value.code, value.reason)
    if not isinstance(value, list | tuple):
        raise fail(
            "contacts_type",
            "must be name:relation:phone entries separated by ';' "
            "or a list of objects with name, relation and phone",
        )
    if len(value) > MAX_CONTACTS:
        raise fail("contacts_too_many", "must list at most 20 contacts")
    return tuple(_contact(n, entry) for n, entry in enumerate(value, start=1))


_CONTACT_PARTS: Final = (
    ("name", values.contact_name),
    ("relation", values.relation),
    ("phone", values.phone),
)


def _contact(n: int, entry: object) -> Contact:
    """Entry `n` (1-based, as the operator counts) of the contacts column."""
    if isinstance(entry, Contact):
        return entry
    if isinstance(entry, Refused):
        raise fail(entry.code, entry.reason)
    if not isinstance(entry, Mapping):
        raise fail(
            "contact_entry",
            f"entry {n}: expected name:relation:phone or an object with name, relation and phone",
        )
    clean: dict[str, str] = {}
    for part, check in _CONTACT_PARTS:
        raw = entry.get(part)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            raise fail("contact_entry", f"entry {n}: {part} is required")
        try:
            clean[part] = check(raw)
        except PydanticCustomError as err:
            raise fail("contact_entry", f"entry {n} ({part}): {err.message()}") from None
    return Contact(**clean)


def _flags(value: object) -> tuple[Flag, ...]:
    """Flags as a set in canonical order; an unknown flag is refused, not dropped."""
    if isinstance(value, Refused):
        raise fail(value.code, value.reason)
    if not isinstance(value, list | tuple):
        raise fail("flags_type", "must be flags separated by ';' or a list of flags")
    seen: set[str] = set()
    for item in value:
        name = stripped(item).lower()
        if not name:
            continue
        if name not in FLAGS:
            raise fail(
                "flag_unknown",
                "unknown flag: expected suspected_fraud, cash_out, deceased or bankrupt",
            )
        seen.add(name)
    return tuple(flag for flag in FLAGS if flag in seen)


# --- models --------------------------------------------------------------------------------

AccountId = Annotated[str, BeforeValidator(values.account_id)]
Phone = Annotated[str, BeforeValidator(values.phone)]
OptionalPhone = Annotated[str | None, BeforeValidator(values.phone)]
Amount = Annotated[Decimal, BeforeValidator(values.amount)]


class Contact(BaseModel):
    """A registered contact (申请表联系人): called only to locate the debtor (POLICY §5)."""

    model_config = ConfigDict(frozen=True, extra="ignore", hide_input_in_errors=True)

    name: Annotated[str, BeforeValidator(values.contact_name)]
    relation: Annotated[str, BeforeValidator(values.relation)]
    phone: Phone


class PlacementRow(BaseModel):
    """One case as the bank places it; see the module docstring for every parsing rule."""

    model_config = ConfigDict(frozen=True, extra="ignore", hide_input_in_errors=True)

    account_id: AccountId
    debtor_name: Annotated[str, BeforeValidator(values.debtor_name)]
    national_id: Annotated[str | None, BeforeValidator(values.national_id)] = None
    mobile: OptionalPhone = None
    home_phone: OptionalPhone = None
    work_phone: OptionalPhone = None
    home_address: Annotated[str | None, BeforeValidator(values.address)] = None
    work_address: Annotated[str | None, BeforeValidator(values.address)] = None
    contacts: Annotated[tuple[Contact, ...], BeforeValidator(_contacts)] = ()
    timezone: Annotated[str, BeforeValidator(values.timezone)] = DEFAULT_TIMEZONE
    credit_limit: Amount
    principal: Amount
    interest: Amount
    fees: Amount
    statement_day: Annotated[int, BeforeValidator(values.statement_day)]
    grace_days: Annotated[int, BeforeValidator(values.grace_days)] = DEFAULT_GRACE_DAYS
    oldest_unpaid_due_date: Annotated[date, BeforeValidator(values.iso_date)]
    unpaid_minimum: Annotated[Decimal, BeforeValidator(values.positive_amount)]
    segment: Annotated[str | None, BeforeValidator(values.segment)] = None
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
            raise fail("not_a_record", "a row must be a set of named columns")
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
    return {"type": fail(code, reason), "loc": (column,), "input": None}


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
        if kind.startswith(ERROR_PREFIX):
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
        base = "case-" + values.account_id(account_id)
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
