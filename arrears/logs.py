"""Logging for every Arrears process: one structlog pipeline, JSON lines off a terminal.

Why one pipeline
    Worker, starter and CLI all log through :func:`configure_logging`. structlog events *and*
    stdlib ``logging`` records (temporalio's own loggers, ``workflow.logger``,
    ``activity.logger``, asyncpg, ...) end in the same root handler and the same
    ``ProcessorFormatter``, so every line has the same shape whoever emitted it: one JSON
    object per line (``timestamp`` ISO-8601 UTC, ``level``, ``logger``, ``event``, plus
    bound keys) when the stream is not a terminal or ``log_format == "json"``, the
    human-friendly ``ConsoleRenderer`` on a terminal or with ``log_format == "console"``.
    Logs go to **stderr** by default: stdout is reserved for command results (JSON
    summaries) that scripts parse.

Temporal context
    Every line emitted while an activity runs carries ``workflow_id``, ``run_id``,
    ``workflow_type``, ``activity_type``, ``activity_id`` and ``attempt`` (read from
    ``activity.info()``), so one case's story can be grepped by ``workflow_id`` and retries
    told apart by ``attempt``. Records from ``workflow.logger`` / ``activity.logger`` arrive
    with the SDK's ``temporal_workflow`` / ``temporal_activity`` dict on the LogRecord; its
    fields are lifted to top-level keys (the SDK's ``workflow_run_id`` becomes ``run_id``,
    the same name the workflow side uses). Because the fields are structured keys,
    :func:`configure_logging` turns off the SDK's habit of *also* appending the same dict to
    the message text (``workflow_info_on_message`` / ``activity_info_on_message``).

Replay
    ``workflow.logger`` drops records while history is being replayed
    (``LoggerAdapter.isEnabledFor`` returns False unless ``log_during_replay`` is set), so a
    workflow's lines are not repeated each time a worker rebuilds its state. Nothing here
    touches ``log_during_replay`` or wraps that adapter, and the stdlib path never drops a
    record by itself, so an explicit ``log_during_replay = True`` is still honoured. Inside
    workflow code, log with ``workflow.logger``; should a structlog logger be used there
    anyway, :func:`drop_during_workflow_replay` gives it the same replay suppression.

Personal data (PII) masking
    :func:`mask_personal_data` is the last processor before the renderer, for both paths,
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

import logging
import re
import sys
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TextIO

import structlog
import temporalio.activity
import temporalio.workflow
from structlog.typing import EventDict, Processor, WrappedLogger

if TYPE_CHECKING:
    from arrears.settings import Settings

__all__ = [
    "ID_KEYS",
    "MASK",
    "PERSONAL_KEYS",
    "add_record_extras",
    "add_temporal_context",
    "configure_logging",
    "drop_during_workflow_replay",
    "get_logger",
    "lift_temporal_extra",
    "mask_personal_data",
    "mask_text",
]

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

#: Extras the SDK's logger adapters put on LogRecords (see temporalio/workflow/_sandbox.py and
#: temporalio/activity.py, ``LoggerAdapter.process``).
_TEMPORAL_EXTRA_KEYS: tuple[str, ...] = ("temporal_workflow", "temporal_activity")

#: SDK detail names renamed so workflow and activity lines use one vocabulary.
_TEMPORAL_RENAMES: Mapping[str, str] = {"workflow_run_id": "run_id"}

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


#: Attributes every LogRecord has; anything else on a record came from ``extra=``. ``message``
#: and ``asctime`` are added by *other* handlers' formatters (pytest's capture, a library's
#: basicConfig) when they run before ours, and would duplicate ``event``/``timestamp``.
_STANDARD_RECORD_ATTRS: frozenset[str] = frozenset(
    vars(logging.LogRecord("", logging.INFO, "", 0, "", (), None))
) | {"message", "asctime"}


def add_record_extras(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Copy a stdlib record's ``extra=`` fields into the event dict (caller keys win).

    Like ``structlog.stdlib.ExtraAdder`` but ignoring ``message``/``asctime``, which depend on
    which other handlers happened to format the same record first.
    """
    record = event_dict.get("_record")
    if isinstance(record, logging.LogRecord):
        for key, value in vars(record).items():
            if key not in _STANDARD_RECORD_ATTRS and not key.startswith("_"):
                if key == "temporal_log":
                    continue  # the SDK core's raw entry object: its text is the message
                event_dict.setdefault(key, value)
    return event_dict


def add_temporal_context(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Bind the running activity's identity to every line logged while it runs.

    Uses the SDK's context variable (``activity.in_activity()``), so it works for structlog
    loggers, plain stdlib loggers and library code alike, without anyone binding by hand.
    Caller-supplied keys win (``setdefault``).
    """
    if not temporalio.activity.in_activity():
        return event_dict
    info = temporalio.activity.info()
    fields: dict[str, Any] = {
        "workflow_id": info.workflow_id,
        "run_id": info.workflow_run_id,
        "workflow_type": info.workflow_type,
        "activity_type": info.activity_type,
        "activity_id": info.activity_id,
        "attempt": info.attempt,
    }
    for key, value in fields.items():
        if value is not None:
            event_dict.setdefault(key, value)
    return event_dict


def lift_temporal_extra(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Turn the SDK's ``temporal_workflow`` / ``temporal_activity`` extra into top-level keys.

    ``workflow.logger`` and ``activity.logger`` attach a dict of details to the LogRecord;
    nested, it would be awkward to query (``workflow_id`` vs ``temporal_workflow.workflow_id``)
    and would differ from structlog lines. Caller-supplied keys win.
    """
    for extra_key in _TEMPORAL_EXTRA_KEYS:
        details = event_dict.pop(extra_key, None)
        if isinstance(details, Mapping):
            for key, value in details.items():
                event_dict.setdefault(_TEMPORAL_RENAMES.get(key, key), value)
    return event_dict


def drop_during_workflow_replay(
    _logger: WrappedLogger, _method: str, event_dict: EventDict
) -> EventDict:
    """Give structlog events inside workflow code the suppression ``workflow.logger`` has.

    Applied to structlog events only: stdlib records from ``workflow.logger`` are already
    filtered by the SDK, and dropping them here would override an explicit
    ``log_during_replay = True``.
    """
    if temporalio.workflow.in_workflow() and (
        temporalio.workflow.unsafe.is_replaying_history_events()
    ):
        raise structlog.DropEvent
    return event_dict


class _ArrearsHandler(logging.StreamHandler[TextIO]):
    """The root handler we own; its class is how reconfiguration finds and replaces it."""


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or odd stream: not a terminal
        return False


def configure_logging(settings: Settings, stream: TextIO | None = None) -> None:
    """Route structlog and stdlib logging through one pipeline writing to ``stream``.

    ``stream`` defaults to ``sys.stderr`` as it is *now* (so pytest's capture works). Safe to
    call again: the previous Arrears handler is replaced, never duplicated, and handlers
    installed by others (pytest's ``caplog``) are left in place.
    """
    out: TextIO = stream if stream is not None else sys.stderr
    terminal = _is_terminal(out)
    console = settings.log_format == "console" or (settings.log_format == "auto" and terminal)

    timestamper = structlog.processors.TimeStamper(fmt="iso", utc=True)
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        timestamper,
        add_temporal_context,
        lift_temporal_extra,
    ]

    renderer: Processor = (
        structlog.dev.ConsoleRenderer(colors=terminal)
        if console
        # ensure_ascii (the default) keeps lines writable to any stderr encoding.
        else structlog.processors.JSONRenderer()
    )

    formatter = structlog.stdlib.ProcessorFormatter(
        # stdlib records (temporalio, workflow.logger, activity.logger, asyncpg, ...)
        foreign_pre_chain=[add_record_extras, *shared],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,  # text traceback, so it is masked too
            mask_personal_data,  # last before rendering
            renderer,
        ],
    )

    handler = _ArrearsHandler(out)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _ArrearsHandler)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(settings.log_level)

    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            drop_during_workflow_replay,
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # No caching: module-level loggers created before configure_logging() (at import
        # time) must still pick up this configuration on their first call.
        cache_logger_on_first_use=False,
    )

    # The Temporal details are structured keys now; the SDK's copy in the message text would
    # only repeat them (and put ids through the free-text masking).
    temporalio.workflow.logger.workflow_info_on_message = False
    temporalio.activity.logger.activity_info_on_message = False


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    """Return a structlog logger named ``name`` (default: the caller's module).

    The name becomes the ``logger`` key and the stdlib logger it writes through, so levels
    can be tuned per module with plain ``logging.getLogger(name).setLevel(...)``.
    """
    if name is None:
        name = sys._getframe(1).f_globals.get("__name__", "arrears")
    return structlog.stdlib.get_logger(name)
