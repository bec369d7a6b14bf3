"""What an audit found, as data, and how a difference between a case's histories and its
event store is classified.

A history can only be compared with the store up to what it shows *done*: the workflow
decides events, then schedules an `append_events` activity; only when the history records
that activity COMPLETED is the store known to hold them. Events of an append still
scheduled are *in flight* (not a problem), unless they have been so for longer than a
limit or their activity keeps failing (*stuck*). Events the history shows done but the
store lacks are *missing*; stored events no history places are *extra*; a stored event
unlike the decided one is *altered*.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory

from activities.event_store import AppendEvents
from arrears.store.events import payload_of
from domain.events import Event

Kind = Literal[
    "in_flight", "stuck", "missing", "extra", "altered",
    "replay", "chain", "read_model", "record", "history", "archive",
]  # fmt: skip
Verdict = Literal["verified", "in_flight", "problems"]

#: An append in flight for longer than this is stuck (`arrears audit --stuck-after`).
STUCK_AFTER = timedelta(minutes=15)
#: A pending append on this attempt or later, with a last failure, is failing: stuck.
STUCK_ATTEMPTS = 5

_CLOSED = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
}


class Finding(BaseModel, frozen=True):
    """One difference or failed check of a case: `in_flight` is the only kind that is
    not a problem. `age_seconds` is how long an in-flight or stuck append has waited."""

    kind: Kind
    detail: str
    seq: int | None = None
    age_seconds: float | None = None

    @property
    def problem(self) -> bool:
        return self.kind != "in_flight"


def verdict_of(findings: Sequence[Finding]) -> Verdict:
    if any(f.problem for f in findings):
        return "problems"
    return "in_flight" if findings else "verified"


@dataclass(frozen=True)
class Append:
    """One `append_events` activity a run scheduled, and how the history says it ended:
    `completed`, `open` (scheduled, no result yet) or `failed` (its final failure, or
    its run closed without it)."""

    activity_id: str
    scheduled_at: datetime
    events: list[Event]
    outcome: Literal["completed", "open", "failed"] = "open"
    failure: str | None = None


@dataclass(frozen=True)
class PendingAppend:
    """What the server says of an append still running (DescribeWorkflowExecution)."""

    attempt: int
    last_failure: str | None


def payload_json(payload: Any) -> Any:
    """A payload of a history event, as the JSON the pydantic converter wrote."""
    return json.loads(payload.data.decode("utf-8"))


def _closing(event: HistoryEvent) -> tuple[int, str | None] | None:
    """(scheduled event id, failure) when `event` ends an activity, else None."""
    if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
        return event.activity_task_completed_event_attributes.scheduled_event_id, None
    if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
        attrs = event.activity_task_failed_event_attributes
        return attrs.scheduled_event_id, attrs.failure.message or "failed"
    if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
        attrs_t = event.activity_task_timed_out_event_attributes
        return attrs_t.scheduled_event_id, attrs_t.failure.message or "timed out"
    if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED:
        return event.activity_task_canceled_event_attributes.scheduled_event_id, "canceled"
    return None


def appends_of(run: WorkflowHistory) -> list[Append]:
    """Every `append_events` a run scheduled, in order, with its outcome."""
    scheduled: dict[int, Append] = {}
    for event in run.events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attrs = event.activity_task_scheduled_event_attributes
            if attrs.activity_type.name == "append_events":
                request = AppendEvents.model_validate(payload_json(attrs.input.payloads[0]))
                scheduled[event.event_id] = Append(
                    attrs.activity_id, event.event_time.ToDatetime(tzinfo=UTC), request.events
                )
        elif (closing := _closing(event)) and closing[0] in scheduled:
            done = scheduled[closing[0]]
            outcome: Literal["completed", "failed"] = (
                "completed" if closing[1] is None else "failed"
            )
            scheduled[closing[0]] = _ended(done, outcome, closing[1])
    closed = bool(run.events) and run.events[-1].event_type in _CLOSED
    return [
        _ended(a, "failed", "its run ended before it completed")
        if closed and a.outcome == "open"
        else a
        for a in scheduled.values()
    ]


def _ended(append: Append, outcome: Literal["completed", "failed"], why: str | None) -> Append:
    return Append(append.activity_id, append.scheduled_at, append.events, outcome, why)


def decided(appends: Sequence[Append]) -> tuple[list[Event], list[Finding]]:
    """The decider's events, each once (a retried step appends the same events again),
    and a `history` finding where the seqs jump."""
    events: list[Event] = []
    findings: list[Finding] = []
    for append in appends:
        for event in append.events:
            if events and event.seq <= events[-1].seq:
                continue
            if event.seq != len(events) + 1:
                findings.append(
                    Finding(
                        kind="history",
                        detail=f"history skips from event {len(events)} to {event.seq}",
                        seq=event.seq,
                    )
                )
            events.append(event)
    return events, findings


@dataclass(frozen=True)
class Limits:
    """When in-flight work counts as stuck, and the moment the audit measures ages at."""

    now: datetime
    stuck_after: timedelta = STUCK_AFTER

    @classmethod
    def at_now(cls, stuck_after: timedelta = STUCK_AFTER) -> Limits:
        return cls(now=datetime.now(UTC), stuck_after=stuck_after)


def _status(appends: Sequence[Append]) -> dict[int, Append]:
    """Per seq, the append that decides its status: a completed one if any, else the
    latest still open, else the latest failed."""
    rank = {"completed": 2, "open": 1, "failed": 0}
    best: dict[int, Append] = {}
    for append in appends:
        for event in append.events:
            held = best.get(event.seq)
            if held is None or rank[append.outcome] >= rank[held.outcome]:
                best[event.seq] = append
    return best


def _unstored(
    event: Event, append: Append, pending: Mapping[str, PendingAppend], limits: Limits
) -> Finding:
    """The finding for a decided event the store does not hold."""
    what = f"event {event.seq} ({event.type})"
    if append.outcome == "completed":
        return Finding(
            kind="missing",
            seq=event.seq,
            detail=f"{what} is in the history but not in the event store",
        )
    age = (limits.now - append.scheduled_at).total_seconds()
    kind, why = _waiting(append, pending.get(append.activity_id), age, limits)
    return Finding(kind=kind, seq=event.seq, age_seconds=age, detail=f"{what} {why}")


def _waiting(
    append: Append, running: PendingAppend | None, age: float, limits: Limits
) -> tuple[Kind, str]:
    """Whether an append not completed is still in flight or stuck, and why."""
    if append.outcome == "failed":
        return "stuck", f"was never stored: its append failed ({append.failure})"
    if running and running.last_failure and running.attempt >= STUCK_ATTEMPTS:
        return "stuck", (
            f"is not stored: its append is failing (attempt {running.attempt}: "
            f"{running.last_failure})"
        )
    limit = limits.stuck_after.total_seconds()
    if age > limit:
        return "stuck", f"has been in flight for {age:.0f} s, over the {limit:.0f} s limit"
    return "in_flight", f"is being appended ({age:.0f} s)"


def classify(
    appends: Sequence[Append],
    stored: Mapping[int, Event | None],
    limits: Limits,
    pending: Mapping[str, PendingAppend] | None = None,
    placed_later: Mapping[int, Event] | None = None,
) -> list[Finding]:
    """Every difference between the events the history decided and the store's snapshot
    (`None`: a stored payload that is no longer an event). `placed_later`: events of a
    re-read history, for stored events the first read did not show yet."""
    status = _status(appends)
    events, _ = decided(appends)
    findings: list[Finding] = []
    for event in events:
        if event.seq not in stored:
            findings.append(_unstored(event, status[event.seq], pending or {}, limits))
        elif not _same(event, stored[event.seq]):
            findings.append(_altered(event))
    known = {e.seq for e in events}
    for seq in sorted(stored.keys() - known):
        later = (placed_later or {}).get(seq)
        if later is None:
            held = stored[seq]
            what = held.type if held is not None else "unreadable"
            findings.append(
                Finding(
                    kind="extra",
                    seq=seq,
                    detail=f"event {seq} ({what}) is in the event store but not in the history",
                )
            )
        elif not _same(later, stored[seq]):
            findings.append(_altered(later))
    return findings


def _same(decided_event: Event, stored: Event | None) -> bool:
    return stored is not None and payload_of(decided_event) == payload_of(stored)


def _altered(event: Event) -> Finding:
    return Finding(
        kind="altered",
        seq=event.seq,
        detail=f"event {event.seq} ({event.type}) differs between the history and the event store",
    )
