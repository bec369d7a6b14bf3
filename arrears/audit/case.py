"""Auditing a case: replay its recorded histories against today's code, rebuild its
timeline from the histories alone, check each contact attempt's record against POLICY
§5, and reconcile that timeline with a snapshot of PostgreSQL.

Everything found is a `Finding` (kind, seq, detail): in-flight appends are reported but
are not problems (`arrears.audit.findings` says how a difference is classified).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import asyncpg
from pydantic import BaseModel
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from arrears.audit.findings import (
    Append,
    Finding,
    Limits,
    PendingAppend,
    Verdict,
    appends_of,
    classify,
    decided,
    payload_json,
    verdict_of,
)
from arrears.audit.store import read_model_findings, read_snapshot
from domain.contact import record_gaps
from domain.events import ArmChanged, ContactAttempted, Event
from domain.evolve import fold
from domain.policy import Policy
from domain.simulation import Timeline, timeline
from workflows.case import CaseWorkflow
from workflows.case_io import CaseInput


class CaseSource(Protocol):
    """Where the audit (re-)reads a case's runs and asks about its running appends."""

    async def runs(self, case_id: str) -> list[WorkflowHistory]: ...

    async def pending(self, case_id: str) -> dict[str, PendingAppend]: ...


class CaseReport(BaseModel):
    """One case's audit as data: what `--format jsonl` prints, `--jobs` processes send
    back and `--on-workers` activities store."""

    case_id: str
    verdict: Verdict
    findings: list[Finding]
    timeline: dict[str, Any] | None = None

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.problem]

    @property
    def in_flight(self) -> list[Finding]:
        return [f for f in self.findings if not f.problem]


@dataclass
class CaseAudit:
    """One case: its runs, the events they decided, and what the audit found."""

    case_id: str
    runs: list[WorkflowHistory]
    events: list[Event] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    case_input: CaseInput | None = None

    @property
    def problems(self) -> list[str]:
        return [f.detail for f in self.findings if f.problem]

    def timeline(self) -> Timeline:
        # A run lost from Temporal and the archive leaves a gap in the events (a problem
        # already named): the timeline is rebuilt up to it.
        events = [e for n, e in enumerate(self.events, start=1) if e.seq == n]
        state = fold(events)
        account = state.account.account_id if state.account else self.case_id
        assert self.case_input is not None and state.as_of is not None
        profiles = profiles_in_force(self.case_input, events)
        policy = profiles[-1] if profiles else self.case_input.policy
        return timeline(state, events, account, state.as_of, policy)

    def report(self, with_timeline: bool) -> CaseReport:
        shown = None
        if with_timeline and self.events:
            shown = json.loads(self.timeline().model_dump_json())
        return CaseReport(
            case_id=self.case_id,
            verdict=verdict_of(self.findings),
            findings=self.findings,
            timeline=shown,
        )


def case_input_of(history: WorkflowHistory) -> CaseInput:
    first = history.events[0].workflow_execution_started_event_attributes
    return CaseInput.model_validate(payload_json(first.input.payloads[0]))


def appends_in(runs: list[WorkflowHistory]) -> list[Append]:
    return [append for run in runs for append in appends_of(run)]


def decided_events(runs: list[WorkflowHistory]) -> tuple[list[Event], list[str]]:
    """The decider's events, read from the inputs of the `append_events` activities the
    workflow scheduled: the history alone, no database. Problems if seqs jump."""
    events, skips = decided(appends_in(runs))
    return events, [f.detail for f in skips]


async def replay(runs: list[WorkflowHistory]) -> list[Finding]:
    """Replay every run against the current workflow code; name any divergence."""
    replayer = Replayer(workflows=[CaseWorkflow], data_converter=pydantic_data_converter)
    findings = []
    for number, run in enumerate(runs, start=1):
        result = await replayer.replay_workflow(run, raise_on_replay_failure=False)
        if result.replay_failure is not None:
            findings.append(Finding(kind="replay", detail=f"run {number} does not replay on "
                            f"the current code: {result.replay_failure}"))  # fmt: skip
    return findings


async def reconcile(
    case_id: str,
    appends: list[Append],
    pool: asyncpg.Pool,
    source: CaseSource | None = None,
    limits: Limits | None = None,
) -> list[Finding]:
    """The history's events against one snapshot of the event store and its read models.

    The snapshot is read after the history, so it holds at least every append the history
    shows completed; events stored beyond what the history showed are placed by reading
    the history once more (`source`), and only then called extra. The server is asked
    about running appends only when some are in flight."""
    limits = limits or Limits.at_now()
    snapshot = await read_snapshot(pool, case_id)
    events = {e.seq: e for e in decided(appends)[0]}
    placed: dict[int, Event] = {}
    if source is not None and any(seq > max(events, default=0) for seq in snapshot.events):
        again, _ = decided(appends_in(await source.runs(case_id)))
        placed = {e.seq: e for e in again if e.seq not in events}
    findings = classify(appends, snapshot.events, limits, placed_later=placed)
    if source is not None and any(not f.problem for f in findings):
        pending = await source.pending(case_id)
        findings = classify(appends, snapshot.events, limits, pending, placed)
    reference = {
        seq: known
        for seq, stored in snapshot.events.items()
        if (known := events.get(seq) or placed.get(seq) or stored) is not None
    }
    return snapshot.chain + findings + read_model_findings(reference, snapshot)


def profiles_in_force(case_input: CaseInput, events: Sequence[Event]) -> list[Policy]:
    """The profile each event was decided under, as the workflow follows it: the first
    run's, and after each `arm_changed` the other arm's (`CaseWorkflow._follow_other_arm`
    swaps the two, and continue-as-new carries the swap), the `arm_changed` itself
    included (the move is decided with the profile moved to). Judging a moved case by
    its first profile would hold its later attempts to rules it no longer followed."""
    current, other = case_input.policy, case_input.other_arm
    profiles = []
    for event in events:
        if isinstance(event, ArmChanged) and other is not None:
            current, other = other, current
        profiles.append(current)
    return profiles


def record_problems(events: list[Event], case_input: CaseInput) -> list[str]:
    """Contact attempts whose record lacks what POLICY §5 requires of it, under the
    profile in force when each was made."""
    return [
        f"contact attempt {event.seq} is {gap} (POLICY §5)"
        for event, policy in zip(events, profiles_in_force(case_input, events), strict=True)
        if isinstance(event, ContactAttempted)
        for gap in record_gaps(event, policy.contact)
    ]


async def audit_case(
    case_id: str,
    runs: list[WorkflowHistory],
    pool: asyncpg.Pool | None,
    source: CaseSource | None = None,
    limits: Limits | None = None,
) -> CaseAudit:
    """Replay, rebuild and (with a pool) reconcile one case whose runs were read just
    now; `source` re-reads them and describes the running workflow when needed."""
    audit = CaseAudit(case_id=case_id, runs=runs)
    if not runs:
        audit.findings.append(Finding(kind="history", detail="no history found"))
        return audit
    audit.case_input = case_input_of(runs[0])
    audit.findings += await replay(runs)
    appends = appends_in(runs)
    audit.events, skipped = decided(appends)
    audit.findings += skipped
    audit.findings += [
        Finding(kind="record", detail=problem)
        for problem in record_problems(audit.events, audit.case_input)
    ]
    if pool is not None:
        audit.findings += await reconcile(case_id, appends, pool, source, limits)
    return audit
