"""Auditing a case: replay its recorded histories against today's code, rebuild its
timeline from the histories alone, check each contact attempt's record against POLICY
§5, and reconcile that timeline with PostgreSQL.

Every problem is a sentence naming the case; an empty list means the case verifies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import asyncpg
from pydantic import TypeAdapter
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from activities.event_store import EventStore, payload_of
from domain.contact import record_gaps
from domain.events import ContactAttempted, Event
from domain.evolve import fold
from domain.policy import Policy
from domain.simulation import Timeline, timeline
from workflows.case import CaseWorkflow
from workflows.case_io import CaseInput

_append_events = TypeAdapter(dict[str, Any])


@dataclass
class CaseAudit:
    """One case: its runs, the events they decided, and what did not verify."""

    case_id: str
    runs: list[WorkflowHistory]
    events: list[Event] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    case_input: CaseInput | None = None

    def timeline(self) -> Timeline:
        # A run lost from Temporal and the archive leaves a gap in the events (a problem
        # already named): the timeline is rebuilt up to it.
        events = [e for n, e in enumerate(self.events, start=1) if e.seq == n]
        state = fold(events)
        account = state.account.account_id if state.account else self.case_id
        assert self.case_input is not None and state.as_of is not None
        return timeline(state, events, account, state.as_of, self.case_input.policy)


def _payload_json(payload: Any) -> Any:
    return json.loads(payload.data.decode("utf-8"))


def case_input_of(history: WorkflowHistory) -> CaseInput:
    first = history.events[0].workflow_execution_started_event_attributes
    return CaseInput.model_validate(_payload_json(first.input.payloads[0]))


def decided_events(runs: list[WorkflowHistory]) -> tuple[list[Event], list[str]]:
    """The decider's events, read from the inputs of the `append_events` activities the
    workflow scheduled: the history alone, no database. Problems if seqs jump."""
    from activities.event_store import AppendEvents

    events: list[Event] = []
    problems: list[str] = []
    for run in runs:
        for history_event in run.events:
            if history_event.event_type != EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                continue
            attributes = history_event.activity_task_scheduled_event_attributes
            if attributes.activity_type.name != "append_events":
                continue
            request = AppendEvents.model_validate(_payload_json(attributes.input.payloads[0]))
            for event in request.events:
                if events and event.seq <= events[-1].seq:
                    continue  # the same events appended again by a retried step
                if event.seq != len(events) + 1:
                    problems.append(f"history skips from event {len(events)} to {event.seq}")
                events.append(event)
    return events, problems


async def replay(runs: list[WorkflowHistory]) -> list[str]:
    """Replay every run against the current workflow code; name any divergence."""
    replayer = Replayer(workflows=[CaseWorkflow], data_converter=pydantic_data_converter)
    problems = []
    for number, run in enumerate(runs, start=1):
        result = await replayer.replay_workflow(run, raise_on_replay_failure=False)
        if result.replay_failure is not None:
            problems.append(
                f"run {number} does not replay on the current code: {result.replay_failure}"
            )
    return problems


async def reconcile(case_id: str, events: list[Event], pool: asyncpg.Pool) -> list[str]:
    """The history's events against the event store and its read models, both ways."""
    store = EventStore(pool)
    problems = [
        f"event store: event {p.seq} {p.problem}" for p in await store.verify_chain(case_id)
    ]
    stored = {e.seq: e for e in await store.events(case_id)}
    decided = {e.seq: e for e in events}
    for seq in sorted(decided.keys() - stored.keys()):
        problems.append(
            f"event {seq} ({decided[seq].type}) is in the history but not in the event store"
        )
    for seq in sorted(stored.keys() - decided.keys()):
        problems.append(
            f"event {seq} ({stored[seq].type}) is in the event store but not in the history"
        )
    for seq in sorted(decided.keys() & stored.keys()):
        if payload_of(decided[seq]) != payload_of(stored[seq]):
            problems.append(
                f"event {seq} ({decided[seq].type}) differs between the history and the event store"
            )
    problems += await _read_models(case_id, events, pool)
    return problems


async def _read_models(case_id: str, events: list[Event], pool: asyncpg.Pool) -> list[str]:
    problems: list[str] = []
    attempts = {
        r["seq"]
        for r in await pool.fetch("SELECT seq FROM contact_attempts WHERE case_id = $1", case_id)
    }
    expected = {e.seq for e in events if e.type == "contact_attempted"}
    for seq in sorted(expected - attempts):
        problems.append(f"contact attempt {seq} is missing from contact_attempts")
    for seq in sorted(attempts - expected):
        problems.append(f"contact_attempts row {seq} has no contact event in the history")
    for table, kind, field_name in (
        ("payments", "payment_received", "amount"),
        ("commissions", "commission_earned", "amount"),
    ):
        rows = {
            r["seq"]: Decimal(r[field_name])
            for r in await pool.fetch(
                f"SELECT seq, {field_name} FROM {table} WHERE case_id = $1", case_id
            )
        }
        wanted = {e.seq: getattr(e, field_name) for e in events if e.type == kind}
        for seq in sorted(wanted.keys() | rows.keys()):
            if wanted.get(seq) != rows.get(seq):
                problems.append(
                    f"{table} row {seq}: history says {wanted.get(seq)}, table says {rows.get(seq)}"
                )
    return problems


def record_problems(events: list[Event], policy: Policy) -> list[str]:
    """Contact attempts whose record lacks what POLICY §5 requires of it."""
    return [
        f"contact attempt {event.seq} is {gap} (POLICY §5)"
        for event in events
        if isinstance(event, ContactAttempted)
        for gap in record_gaps(event, policy.contact)
    ]


async def audit_case(
    case_id: str, runs: list[WorkflowHistory], pool: asyncpg.Pool | None
) -> CaseAudit:
    audit = CaseAudit(case_id=case_id, runs=runs)
    if not runs:
        audit.problems.append("no history found")
        return audit
    audit.case_input = case_input_of(runs[0])
    audit.problems += await replay(runs)
    audit.events, skipped = decided_events(runs)
    audit.problems += skipped
    audit.problems += record_problems(audit.events, audit.case_input.policy)
    if pool is not None:
        audit.problems += await reconcile(case_id, audit.events, pool)
    return audit
