"""How the audit classifies a difference between a history and the event store, on the
golden histories cut or edited by hand: in flight, stuck, missing, extra, altered."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory

from arrears.audit.findings import (
    Append,
    Limits,
    PendingAppend,
    appends_of,
    classify,
    decided,
    verdict_of,
)
from arrears.audit.histories import read_history
from domain.events import Event

HISTORY = sorted((Path(__file__).parents[2] / "histories").glob("golden-live.run-*.json"))[0]
SCHEDULED = EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED


def run() -> WorkflowHistory:
    return read_history(HISTORY)


def cut_after_last_append(history: WorkflowHistory) -> WorkflowHistory:
    """The run as a reader sees it while its last `append_events` is still running."""
    last = max(
        i
        for i, e in enumerate(history.events)
        if e.event_type == SCHEDULED
        and e.activity_task_scheduled_event_attributes.activity_type.name == "append_events"
    )
    return WorkflowHistory(history.workflow_id, list(history.events[: last + 1]))


def stored(events: list[Event]) -> dict[int, Event | None]:
    return {e.seq: e for e in events}


def split(history: WorkflowHistory) -> tuple[list[Append], list[Event], list[Event]]:
    """Appends, events of completed appends, events of the open one."""
    appends = appends_of(history)
    done = decided([a for a in appends if a.outcome == "completed"])[0]
    running = [e for a in appends if a.outcome == "open" for e in a.events]
    return appends, done, running


def test_a_whole_run_verifies_against_a_store_holding_every_event() -> None:
    appends = appends_of(run())
    events, skips = decided(appends)
    assert skips == [] and len(events) > 10
    assert {a.outcome for a in appends} == {"completed"}
    limits = Limits(now=appends[-1].scheduled_at)
    assert classify(appends, stored(events), limits) == []


def test_events_of_an_append_still_running_are_in_flight_aged_from_its_scheduling() -> None:
    appends, done, running = split(cut_after_last_append(run()))
    assert running
    scheduled_at = appends[-1].scheduled_at

    findings = classify(appends, stored(done), Limits(now=scheduled_at + timedelta(seconds=42)))

    assert [(f.kind, f.seq, f.age_seconds) for f in findings] == [
        ("in_flight", e.seq, 42.0) for e in running
    ]
    assert verdict_of(findings) == "in_flight"


def test_an_append_in_flight_that_has_landed_in_the_store_is_no_difference() -> None:
    appends, done, running = split(cut_after_last_append(run()))
    limits = Limits(now=appends[-1].scheduled_at)
    assert classify(appends, stored(done + running), limits) == []


def test_an_append_in_flight_past_the_limit_or_failing_again_and_again_is_stuck() -> None:
    appends, done, _ = split(cut_after_last_append(run()))
    late = Limits(now=appends[-1].scheduled_at + timedelta(minutes=16))
    assert {f.kind for f in classify(appends, stored(done), late)} == {"stuck"}

    soon = Limits(now=appends[-1].scheduled_at + timedelta(seconds=5))
    failing = {appends[-1].activity_id: PendingAppend(attempt=7, last_failure="db down")}
    findings = classify(appends, stored(done), soon, failing)
    assert {f.kind for f in findings} == {"stuck"}
    assert "attempt 7: db down" in findings[0].detail
    retried_once = {appends[-1].activity_id: PendingAppend(attempt=2, last_failure="timeout")}
    assert {f.kind for f in classify(appends, stored(done), soon, retried_once)} == {"in_flight"}


def test_an_append_that_failed_for_good_or_whose_run_closed_without_it_is_stuck() -> None:
    cut = cut_after_last_append(run())
    failed = HistoryEvent(
        event_id=cut.events[-1].event_id + 1, event_type=EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED
    )
    failed.activity_task_failed_event_attributes.scheduled_event_id = cut.events[-1].event_id
    failed.activity_task_failed_event_attributes.failure.message = "event 9 differs"
    appends, done, _ = split(WorkflowHistory(cut.workflow_id, [*cut.events, failed]))
    findings = classify(appends, stored(done), Limits(now=appends[-1].scheduled_at))
    assert {f.kind for f in findings} == {"stuck"}
    assert "its append failed (event 9 differs)" in findings[0].detail

    ended = HistoryEvent(
        event_id=failed.event_id,
        event_type=EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
    )
    appends, done, _ = split(WorkflowHistory(cut.workflow_id, [*cut.events, ended]))
    findings = classify(appends, stored(done), Limits(now=appends[-1].scheduled_at))
    assert {f.kind for f in findings} == {"stuck"}
    assert "its run ended before it completed" in findings[0].detail


def test_an_event_the_history_shows_stored_but_the_store_lacks_is_missing() -> None:
    appends = appends_of(run())
    events, _ = decided(appends)
    store = stored(events)
    del store[5]
    findings = classify(appends, store, Limits(now=appends[-1].scheduled_at))
    assert [(f.kind, f.seq) for f in findings] == [("missing", 5)]
    assert verdict_of(findings) == "problems"


def test_stored_events_beyond_the_history_are_extra_unless_a_second_reading_places_them() -> None:
    whole = appends_of(run())
    events, _ = decided(whole)
    appends, done, _ = split(cut_after_last_append(run()))
    earlier = [a for a in appends if a.outcome == "completed"]
    limits = Limits(now=whole[-1].scheduled_at)
    # The store moved on after the history was read: the first reading shows less.
    findings = classify(earlier, stored(events), limits)
    assert {f.kind for f in findings} == {"extra"}
    assert [f.seq for f in findings] == [e.seq for e in events if e.seq > done[-1].seq]

    placed = {e.seq: e for e in events if e.seq > done[-1].seq}
    assert classify(earlier, stored(events), limits, placed_later=placed) == []


def test_a_stored_event_unlike_the_one_the_history_decided_is_altered() -> None:
    appends = appends_of(run())
    events, _ = decided(appends)
    store = stored(events)
    store[4] = events[3].model_copy(update={"at": events[3].at - timedelta(days=1)})
    store[6] = None  # a payload that is no longer an event
    findings = classify(appends, store, Limits(now=appends[-1].scheduled_at))
    assert [(f.kind, f.seq) for f in findings] == [("altered", 4), ("altered", 6)]
