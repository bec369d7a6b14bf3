"""Personal data (PII) masking, so that no log line holds a phone, an id or an e-mail.

:func:`mask_personal_data` is the last processor before the renderer, for structlog's
and stdlib's paths alike (:mod:`arrears.logs`),
and sees every key and every string value (recursively through dicts, lists and tuples;
other objects are turned into ``str`` first so nothing reaches the renderer unscanned).
Tracebacks are formatted to plain text *before* it (``format_exc_info``), so exception
messages are masked too and rich tracebacks never dump local variables.

* By key: a value under a personal key (see :data:`PERSONAL_KEYS`, plus any key ending in
  ``_phone``, ``_mobile``, ``_email``, ``_national_id`` or ``_id_number``) is replaced by
  ``"***"`` whatever its type or format (a dict of contacts, an int phone, ...).
* In free text: mainland-China national ids (17 digits + digit/X), phone numbers
  (E.164 ``+8613812345678``, CN mobiles ``1[3-9]`` + 9 digits, and any run of 7 or more
  digits, optionally split by spaces, hyphens or parentheses) and e-mail addresses are
  masked. Digits keep their last four (``"***5678"``), e-mails their domain
  (``"***@example.com"``), so support can still correlate a line with a case without the
  log holding the number. The digit rule also catches card numbers (PAN), which is what
  we want on a credit-card platform.
* Deliberately *not* masked: ISO dates/times (``2024-03-01``, ``2024-03-01T10:20:30Z``),
  UUIDs (run ids), amounts with a decimal part (``1234567.89``, ``1,234,567.89``),
  numbers (only strings are scanned: log amounts and counts as numeric values), and
  values under the id keys in :data:`ID_KEYS` (``account_id``, ``case_id``,
  ``workflow_id``, ...). The value of an id key is also left alone where it appears
  inside the line's free text, so ``"opened case 4000123412341234"`` logged with
  ``case_id="4000123412341234"`` stays readable.
* Known over-masking: compact dates (``20240301``), epoch timestamps and integer amounts
  written *inside strings* look like phone numbers and are masked. Pass them as separate
  keyed values instead.

Names and addresses cannot be recognised reliably in free text. The rule is therefore:
**code must pass personal data only under the personal keys** (``debtor_name=...``,
``home_address=...``, ``contacts=...``), never interpolated into the event text. The
regexes are a safety net, not a licence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from structlog.typing import EventDict, WrappedLogger

#: What replaces a personal value (or the hidden part of a number).
MASK = "***"

#: Keys whose values are personal data and are always replaced by :data:`MASK`.
#: Matched case-insensitively, ``-`` read as ``_``.
PERSONAL_KEYS: frozenset[str] = frozenset(
    {
        "debtor_name",
        "name",
        "full_name",
        "national_id",
        "id_number",
        "mobile",
        "mobile_number",
        "phone",
        "phone_number",
        "home_phone",
        "work_phone",
        "address",
        "home_address",
        "work_address",
        "contacts",
        "email",
    }
)

#: Suffixes that are unambiguous enough to mark a key as personal (``guarantor_mobile``).
#: ``_name`` and ``_address`` are *not* here: ``workflow_name``/``update_name`` or
#: ``temporal_address`` are not personal, so names and addresses must use the exact keys.
_PERSONAL_SUFFIXES: tuple[str, ...] = ("_phone", "_mobile", "_email", "_national_id", "_id_number")

#: Keys whose values are identifiers or log metadata, never scanned for phone-like digits
#: (an account id is a long digit run by design). Their values are also protected where they
#: occur in the same line's free text.
ID_KEYS: frozenset[str] = frozenset(
    {
        "account_id",
        "case_id",
        "workflow_id",
        "run_id",
        "activity_id",
        "update_id",
        "timestamp",
        "level",
        "logger",
    }
)

_NOT_ALNUM_BEFORE = r"(?<![0-9A-Za-z_])"
_NOT_ALNUM_AFTER = r"(?![0-9A-Za-z_])"

# One scanner, alternatives tried in order at each position: the "keep" shapes (things that
# merely look numeric) are consumed unchanged before the phone rule can bite into them.
# Amounts with decimals need no "keep" shape: the phone rule refuses a digit run that is the
# integer part (followed by ".<digit>") or the fraction (preceded by "<digit>.") of a number.
_SCANNER = re.compile(
    r"""
    (?P<keep>
        [0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}  # UUID
      | \d{4}-\d{2}-\d{2}                                         # ISO date ...
        (?:[T\ ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?  # ... and time
    )
  | (?P<email>
        [A-Za-z0-9._%+-]+@(?P<domain>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})
    )
  | (?P<national_id>
        """
    + _NOT_ALNUM_BEFORE
    + r"""\d{17}[\dXx]"""
    + _NOT_ALNUM_AFTER
    + r"""
    )
  | (?P<phone>
        """
    + _NOT_ALNUM_BEFORE
    + r"""(?<!\d\.)        # not the fraction of a number
        (?:\+|\(\+?)?\d      # E.164 '+', or an opening '(' of an area code
        (?:[\ \-]?\)?[\ \-]?\(?\d){6,}   # 6+ more digits, single separators between
        """
    + _NOT_ALNUM_AFTER
    + r"""(?!\.\d)          # not the integer part of a decimal amount
    )
    """,
    re.VERBOSE,
)


def _keep_last_four(matched: str) -> str:
    """``"+86 138-1234-5678"`` -> ``"***5678"``: enough to correlate, not enough to dial."""
    tail = re.sub(r"[^0-9Xx]", "", matched)[-4:]
    return MASK + tail


def _protected_spans(text: str, protected: Iterable[str]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for value in protected:
        start = text.find(value)
        while start != -1:
            spans.append((start, start + len(value)))
            start = text.find(value, start + 1)
    return spans


def mask_text(text: str, protected: Iterable[str] = ()) -> str:
    """Mask national ids, phone numbers and e-mails in free text.

    ``protected`` are literal values (ids the caller passed under :data:`ID_KEYS`) that may
    appear in the text and must stay readable; a match is kept only if it lies entirely
    inside one of their occurrences, so a short id such as ``"1"`` cannot shield a phone.
    """
    if not any(c.isdigit() or c == "@" for c in text):
        return text  # fast path: the common event text has nothing to mask
    spans = _protected_spans(text, [p for p in protected if p])

    def replace(match: re.Match[str]) -> str:
        matched = match.group(0)
        if match.lastgroup == "keep":
            return matched
        start, end = match.span()
        if any(s <= start and end <= e for s, e in spans):
            return matched
        if match.lastgroup == "email":
            return f"{MASK}@{match.group('domain')}"
        return _keep_last_four(matched)

    return _SCANNER.sub(replace, text)


def _normalise_key(key: object) -> str:
    return str(key).lower().replace("-", "_")


def _is_personal_key(key: object) -> bool:
    normalised = _normalise_key(key)
    return normalised in PERSONAL_KEYS or normalised.endswith(_PERSONAL_SUFFIXES)


def _mask_value(value: Any, protected: tuple[str, ...]) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value  # numbers are amounts, counts, attempts: never personal by themselves
    if isinstance(value, str):
        return mask_text(value, protected)
    if isinstance(value, Mapping):
        return {
            (mask_text(k, protected) if isinstance(k, str) else k): (
                MASK
                if _is_personal_key(k)
                else v
                if _normalise_key(k) in ID_KEYS
                else _mask_value(v, protected)
            )
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [_mask_value(v, protected) for v in value]
    # Anything else would reach the renderer through repr()/str() unscanned: scan that text.
    return mask_text(str(value), protected)


def mask_personal_data(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Replace personal data by ``***`` (by key) or a masked form (in free text).

    Runs last before rendering so that nothing added by an earlier processor (lifted Temporal
    extras, formatted tracebacks, stdlib extras) escapes it. Top-level keys are the
    caller's keyword names, so only their values are rewritten; see the module docstring for
    what is and is not masked and why.
    """
    protected = tuple(
        v for k, v in event_dict.items() if _normalise_key(k) in ID_KEYS and isinstance(v, str)
    )
    for key, value in list(event_dict.items()):
        normalised = _normalise_key(key)
        if _is_personal_key(key):
            event_dict[key] = MASK
        elif normalised not in ID_KEYS:
            event_dict[key] = _mask_value(value, protected)
    return event_dict
