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
    :func:`mask_personal_data` is the last processor before the renderer, for both paths;
    what it masks and what it leaves, and why, is in :mod:`arrears.logs.redact`.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TextIO

import structlog
import temporalio.activity
import temporalio.workflow
from structlog.typing import EventDict, Processor, WrappedLogger

from arrears.logs.redact import (
    ID_KEYS,
    MASK,
    PERSONAL_KEYS,
    mask_personal_data,
    mask_text,
)

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

#: Extras the SDK's logger adapters put on LogRecords (see temporalio/workflow/_sandbox.py and
#: temporalio/activity.py, ``LoggerAdapter.process``).
_TEMPORAL_EXTRA_KEYS: tuple[str, ...] = ("temporal_workflow", "temporal_activity")

#: SDK detail names renamed so workflow and activity lines use one vocabulary.
_TEMPORAL_RENAMES: Mapping[str, str] = {"workflow_run_id": "run_id"}

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
    shared = _shared_processors()
    _install_handler(out, _formatter(shared, console, terminal), settings.log_level)
    _configure_structlog(shared)
    # The Temporal details are structured keys now; the SDK's copy in the message text would
    # only repeat them (and put ids through the free-text masking).
    temporalio.workflow.logger.workflow_info_on_message = False
    temporalio.activity.logger.activity_info_on_message = False


def _shared_processors() -> list[Processor]:
    """What every line gets, from structlog or from stdlib alike."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_temporal_context,
        lift_temporal_extra,
    ]


def _formatter(
    shared: list[Processor], console: bool, terminal: bool
) -> structlog.stdlib.ProcessorFormatter:
    renderer: Processor = (
        structlog.dev.ConsoleRenderer(colors=terminal)
        if console
        # ensure_ascii (the default) keeps lines writable to any stderr encoding.
        else structlog.processors.JSONRenderer()
    )
    return structlog.stdlib.ProcessorFormatter(
        # stdlib records (temporalio, workflow.logger, activity.logger, asyncpg, ...)
        foreign_pre_chain=[add_record_extras, *shared],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,  # text traceback, so it is masked too
            mask_personal_data,  # last before rendering
            renderer,
        ],
    )


def _install_handler(out: TextIO, formatter: logging.Formatter, level: str | int) -> None:
    handler = _ArrearsHandler(out)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _ArrearsHandler)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level)


def _configure_structlog(shared: list[Processor]) -> None:
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


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    """Return a structlog logger named ``name`` (default: the caller's module).

    The name becomes the ``logger`` key and the stdlib logger it writes through, so levels
    can be tuned per module with plain ``logging.getLogger(name).setLevel(...)``.
    """
    if name is None:
        name = sys._getframe(1).f_globals.get("__name__", "arrears")
    return structlog.stdlib.get_logger(name)
