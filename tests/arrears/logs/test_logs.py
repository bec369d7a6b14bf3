"""Behaviour of arrears.logs: one line format for everyone, Temporal context, and no
personal data (arrears.logs.redact).

Every test configures logging onto a StringIO and reads back what a log shipper would read.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from temporalio import activity, workflow
from temporalio.client import WorkflowHistory
from temporalio.testing import ActivityEnvironment
from temporalio.worker import Replayer

# LoggingWorkflow below is defined here, so the replay sandbox re-imports this module: pass
# third-party modules through (pytest draws random numbers at import) and, above all, our own
# logging module, so the replayed workflow logs through the configuration made by the tests.
with workflow.unsafe.imports_passed_through():
    import pytest
    import structlog

    from arrears.logs import configure_logging, get_logger
    from arrears.logs.redact import mask_personal_data
    from arrears.settings import Settings


class _Terminal(io.StringIO):
    """A stream that says it is a TTY, like stderr in an interactive shell."""

    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Undo configure_logging's global effects so tests do not leak into each other."""
    root = logging.getLogger()
    level = root.level
    wf_logger, act_logger = workflow.logger, activity.logger
    flags = (
        wf_logger.workflow_info_on_message,
        wf_logger.log_during_replay,
        act_logger.activity_info_on_message,
    )
    yield
    for handler in list(root.handlers):
        if isinstance(handler.formatter, structlog.stdlib.ProcessorFormatter):
            root.removeHandler(handler)
    root.setLevel(level)
    structlog.reset_defaults()
    (
        wf_logger.workflow_info_on_message,
        wf_logger.log_during_replay,
        act_logger.activity_info_on_message,
    ) = flags


def _configure(
    stream: io.StringIO | None = None,
    log_format: str = "auto",
    log_level: str = "INFO",
) -> io.StringIO:
    out = stream if stream is not None else io.StringIO()
    configure_logging(Settings(log_format=log_format, log_level=log_level), stream=out)
    return out


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def _only_line(stream: io.StringIO) -> dict[str, Any]:
    lines = _lines(stream)
    assert len(lines) == 1, lines
    return lines[0]


# --- format ------------------------------------------------------------------------------


def test_json_lines_when_not_a_terminal() -> None:
    out = _configure(log_format="auto")
    log = get_logger("arrears.test")

    log.info("case opened", dpd=31)
    log.warning("agency unreachable", agency="north")

    first, second = _lines(out)
    assert first["event"] == "case opened"
    assert first["level"] == "info"
    assert first["logger"] == "arrears.test"
    assert first["dpd"] == 31
    assert datetime.fromisoformat(first["timestamp"]).utcoffset() is not None
    assert second["level"] == "warning"
    assert second["agency"] == "north"


def test_console_format_on_a_terminal() -> None:
    out = _configure(_Terminal(), log_format="auto")

    get_logger("arrears.test").info("case opened", dpd=31)

    text = out.getvalue()
    assert "case opened" in text
    assert "dpd" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text.splitlines()[0])


def test_json_format_can_be_forced_on_a_terminal() -> None:
    out = _configure(_Terminal(), log_format="json")

    get_logger("arrears.test").info("case opened")

    assert _only_line(out)["event"] == "case opened"


def test_console_format_can_be_forced_off_a_terminal_and_still_masks() -> None:
    out = _configure(log_format="console")

    get_logger("arrears.test").info("call 13812345678", mobile="13912345678")

    text = out.getvalue()
    assert "***5678" in text
    assert "13812345678" not in text
    assert "13912345678" not in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text.splitlines()[0])


def test_logs_go_to_stderr_by_default_so_stdout_stays_for_results(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(Settings(log_format="json", log_level="INFO"))

    get_logger("arrears.test").info("to stderr")
    logging.getLogger("temporalio.worker").info("also to stderr")

    captured = capsys.readouterr()
    assert captured.out == ""
    assert [json.loads(line)["event"] for line in captured.err.splitlines()] == [
        "to stderr",
        "also to stderr",
    ]


def test_stdlib_records_get_the_same_format() -> None:
    out = _configure()

    get_logger("arrears.test").info("from structlog", account_id="A1")
    logging.getLogger("temporalio.worker").warning("from %s", "stdlib", extra={"account_id": "A1"})

    from_structlog, from_stdlib = _lines(out)
    assert set(from_structlog) == set(from_stdlib)
    assert from_stdlib["event"] == "from stdlib"
    assert from_stdlib["level"] == "warning"
    assert from_stdlib["logger"] == "temporalio.worker"
    assert from_stdlib["account_id"] == "A1"
    datetime.fromisoformat(from_stdlib["timestamp"])


def test_stdlib_records_are_masked_too() -> None:
    out = _configure()

    logging.getLogger("asyncpg").info(
        "retrying for %s", "13812345678", extra={"home_address": "1 Long Rd"}
    )

    line = _only_line(out)
    assert line["event"] == "retrying for ***5678"
    assert line["home_address"] == "***"


def test_configuring_twice_does_not_duplicate_lines() -> None:
    out = _configure()
    _configure(out)

    get_logger("arrears.test").info("once")
    logging.getLogger("temporalio").info("once too")

    assert [line["event"] for line in _lines(out)] == ["once", "once too"]


def test_reconfiguring_moves_lines_to_the_new_stream() -> None:
    old = _configure()
    new = _configure()

    get_logger("arrears.test").info("where am I")

    assert old.getvalue() == ""
    assert _only_line(new)["event"] == "where am I"


def test_the_log_level_setting_filters_both_paths() -> None:
    out = _configure(log_level="WARNING")

    get_logger("arrears.test").info("quiet")
    logging.getLogger("temporalio").info("quiet too")
    get_logger("arrears.test").warning("loud")

    assert [line["event"] for line in _lines(out)] == ["loud"]


def test_a_logger_without_a_name_is_named_after_the_calling_module() -> None:
    out = _configure()

    get_logger().info("who am I")

    assert _only_line(out)["logger"] == __name__


# --- personal data -----------------------------------------------------------------------


def test_a_national_id_in_free_text_is_masked() -> None:
    out = _configure()

    get_logger("arrears.test").info("debtor 11010119900307123X disputes, alt 110101199003071234")

    line = _only_line(out)
    assert line["event"] == "debtor ***123X disputes, alt ***1234"
    assert "1101011990" not in out.getvalue()


@pytest.mark.parametrize(
    "phone",
    [
        "+8613812345678",
        "13812345678",
        "+86 138 1234 5678",
        "138-1234-5678",
        "010-8765-5678",
        "(010) 8765 5678",
        "4000 1234 1234 5678",  # a card number is caught by the same rule
    ],
)
def test_a_phone_number_in_free_text_keeps_only_its_last_four_digits(phone: str) -> None:
    out = _configure()

    get_logger("arrears.test").info(f"call back on {phone} today")

    assert _only_line(out)["event"] == "call back on ***5678 today"


def test_phone_numbers_in_a_comma_separated_list_are_all_masked() -> None:
    out = _configure()

    get_logger("arrears.test").info("tried 13812345678,13912341234")

    assert _only_line(out)["event"] == "tried ***5678,***1234"


@pytest.mark.parametrize(
    "key",
    [
        "debtor_name",
        "name",
        "national_id",
        "id_number",
        "mobile",
        "phone",
        "home_phone",
        "work_phone",
        "address",
        "home_address",
        "work_address",
        "contacts",
        "email",
        "guarantor_mobile",
        "Home-Phone",
    ],
)
@pytest.mark.parametrize(
    "value",
    ["138 1234 5678", 13812345678, "Zhang San", {"city": "Shanghai"}, ["a", "b"]],
)
def test_phone_under_a_personal_key_is_masked_whatever_its_format(key: str, value: object) -> None:
    out = _configure()

    get_logger("arrears.test").info("contact updated", **{key: value})

    assert _only_line(out)[key] == "***"


def test_personal_keys_are_masked_inside_nested_structures() -> None:
    out = _configure()

    get_logger("arrears.test").info(
        "case loaded",
        debtor={"debtor_name": "张三", "dpd": 45, "profile": {"work_phone": "021 5555 0000"}},
        history=[{"email": "zs@example.com", "outcome": "ptp"}],
    )

    line = _only_line(out)
    assert line["debtor"] == {"debtor_name": "***", "dpd": 45, "profile": {"work_phone": "***"}}
    assert line["history"] == [{"email": "***", "outcome": "ptp"}]


def test_an_email_in_free_text_keeps_only_its_domain() -> None:
    out = _configure()

    get_logger("arrears.test").info("bounced: zhang.san@example.com")

    assert _only_line(out)["event"] == "bounced: ***@example.com"


def test_amounts_dates_and_account_ids_are_not_masked() -> None:
    out = _configure()
    text = (
        "paid 1234567.89 (1,234,567.89) at rate 0.12345678 "
        "on 2024-03-01 at 2024-03-01T10:20:30.123+08:00 "
        "for account 6222020200112233445, run 0193a4f2-7c1e-7d3b-9c2a-123456789012"
    )

    get_logger("arrears.test").info(
        text,
        account_id="6222020200112233445",
        case_id="4000123412341234",
        workflow_id="case-4000123412341234",
        amount="1234567.89",
        due="2024-03-01",
        balance_cents=123456789,
    )

    line = _only_line(out)
    assert line["event"] == text
    assert line["account_id"] == "6222020200112233445"
    assert line["case_id"] == "4000123412341234"
    assert line["workflow_id"] == "case-4000123412341234"
    assert line["amount"] == "1234567.89"
    assert line["due"] == "2024-03-01"
    assert line["balance_cents"] == 123456789


def test_an_account_id_does_not_shield_a_phone_number_it_merely_overlaps() -> None:
    out = _configure()

    get_logger("arrears.test").info("call 13812345678", workflow_id="1", account_id="138")

    assert _only_line(out)["event"] == "call ***5678"


def test_the_same_digits_outside_an_id_key_are_masked() -> None:
    out = _configure()

    get_logger("arrears.test").info("x", reference="6222020200112233445")

    assert _only_line(out)["reference"] == "***3445"


def test_exception_messages_are_masked_too() -> None:
    out = _configure()
    log = get_logger("arrears.test")

    try:
        raise ValueError("no answer on 13812345678")
    except ValueError:
        log.exception("reminder failed")
        logging.getLogger("temporalio.activity").exception("activity failed")

    for line in _lines(out):
        assert "ValueError: no answer on ***5678" in line["exception"]
    assert "13812345678" not in out.getvalue()


def test_objects_are_scanned_as_the_text_they_render_as() -> None:
    @dataclasses.dataclass
    class Contact:
        phone: str

    out = _configure()

    get_logger("arrears.test").info("x", contact=Contact("13812345678"))

    assert _only_line(out)["contact"].endswith("Contact(phone='***5678')")


def test_masking_can_be_used_as_a_plain_processor() -> None:
    masked = mask_personal_data(
        None, "info", {"event": "sms 13812345678", "mobile": "x", "case_id": "4000123412341234"}
    )

    assert masked == {"event": "sms ***5678", "mobile": "***", "case_id": "4000123412341234"}


# --- Temporal context --------------------------------------------------------------------


async def test_an_activity_line_carries_its_temporal_context() -> None:
    out = _configure()
    env = ActivityEnvironment()
    env.info = dataclasses.replace(
        ActivityEnvironment.default_info(),
        activity_type="send_reminder",
        activity_id="7",
        attempt=3,
        workflow_id="case-42",
        workflow_run_id="run-1",
        workflow_type="CaseWorkflow",
    )

    @activity.defn(name="send_reminder")
    async def send_reminder(channel: str) -> None:
        get_logger("activities.reminders").info("reminder sent", channel=channel)
        activity.logger.info("via the sdk logger")

    await env.run(send_reminder, "sms")
    get_logger("arrears.test").info("outside the activity")

    ours, sdk, outside = _lines(out)
    expected = {
        "activity_type": "send_reminder",
        "activity_id": "7",
        "attempt": 3,
        "workflow_id": "case-42",
        "run_id": "run-1",
        "workflow_type": "CaseWorkflow",
    }
    assert expected.items() <= ours.items()
    assert expected.items() <= sdk.items()
    assert sdk["event"] == "via the sdk logger"  # the SDK's "({...})" suffix is gone
    assert "temporal_activity" not in sdk
    assert "activity_type" not in outside


@workflow.defn(name="LoggingWorkflow")
class LoggingWorkflow:
    @workflow.run
    async def run(self) -> None:
        workflow.logger.info("from workflow.logger")
        get_logger("workflows.test").info("from structlog")


_RUN_ID = "0193a4f2-7c1e-7d3b-9c2a-123456789012"
_HISTORY: dict[str, Any] = {
    "events": [
        {
            "eventId": "1",
            "eventTime": "2024-01-01T00:00:00Z",
            "eventType": "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED",
            "workflowExecutionStartedEventAttributes": {
                "workflowType": {"name": "LoggingWorkflow"},
                "taskQueue": {"name": "arrears"},
                "workflowTaskTimeout": "10s",
                "originalExecutionRunId": _RUN_ID,
                "firstExecutionRunId": _RUN_ID,
                "attempt": 1,
            },
        },
        {
            "eventId": "2",
            "eventTime": "2024-01-01T00:00:00Z",
            "eventType": "EVENT_TYPE_WORKFLOW_TASK_SCHEDULED",
            "workflowTaskScheduledEventAttributes": {
                "taskQueue": {"name": "arrears"},
                "startToCloseTimeout": "10s",
                "attempt": 1,
            },
        },
        {
            "eventId": "3",
            "eventTime": "2024-01-01T00:00:00Z",
            "eventType": "EVENT_TYPE_WORKFLOW_TASK_STARTED",
            "workflowTaskStartedEventAttributes": {"scheduledEventId": "2"},
        },
        {
            "eventId": "4",
            "eventTime": "2024-01-01T00:00:00Z",
            "eventType": "EVENT_TYPE_WORKFLOW_TASK_COMPLETED",
            "workflowTaskCompletedEventAttributes": {
                "scheduledEventId": "2",
                "startedEventId": "3",
            },
        },
        {
            "eventId": "5",
            "eventTime": "2024-01-01T00:00:00Z",
            "eventType": "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED",
            "workflowExecutionCompletedEventAttributes": {"workflowTaskCompletedEventId": "4"},
        },
    ]
}


async def _replay() -> None:
    result = await Replayer(workflows=[LoggingWorkflow]).replay_workflow(
        WorkflowHistory.from_json("case-13812345678", _HISTORY)
    )
    assert result.replay_failure is None


async def test_nothing_is_logged_while_a_workflow_is_replayed() -> None:
    out = _configure(log_level="DEBUG")

    await _replay()

    events = [line["event"] for line in _lines(out)]
    assert "from workflow.logger" not in events
    assert "from structlog" not in events


async def test_workflow_logger_lines_carry_the_workflow_identity_as_keys() -> None:
    out = _configure()
    workflow.logger.log_during_replay = True  # the only way to get a line out of a replay

    await _replay()

    line = next(x for x in _lines(out) if x["event"] == "from workflow.logger")
    assert line["workflow_id"] == "case-13812345678"  # an id key: not masked
    assert line["run_id"] == _RUN_ID
    assert line["workflow_type"] == "LoggingWorkflow"
    assert line["attempt"] == 1
    assert line["logger"] == "temporalio.workflow"
    assert "temporal_workflow" not in line
