"""`arrears audit` on a live book: an append still running is in flight, not a loss; a
deleted or altered `case_events` row is a problem; every mode of a book audit (one
process, `--jobs 2`, `--on-workers`, `--format jsonl`) gives the same verdicts.

One stack (`arrears up` and one `arrears worker`) serves the module.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from temporalio.worker import Worker

from activities.contact import SimulatedProvider
from arrears.intake.csv_forms import placement_row
from arrears.intake.sample import sample_rows
from arrears.store.db import create_pool
from arrears.store.events import Appended, EventStore
from arrears.store.read_models import CaseSummary
from arrears.workers import case_activities
from domain.events import Event
from domain.intake import open_case
from domain.localtime import zone
from domain.placement import PlacementRow
from domain.policy import Policy
from tests.integration.conftest import Stack
from workflows.case import CaseWorkflow
from workflows.case_io import BusinessClock, CaseInput

pytestmark = pytest.mark.integration

ORIGIN = datetime(2026, 3, 2, 10, 0, tzinfo=zone("Asia/Shanghai"))
RUN = uuid.uuid4().hex[:6].upper()


def case_input(row: PlacementRow, day_seconds: float, days: int | None = None) -> CaseInput:
    return CaseInput(
        case_id=row.case_id,
        policy=Policy(),
        clock=BusinessClock(origin=ORIGIN, day_seconds=day_seconds),
        open=open_case(row),
        until=ORIGIN + timedelta(days=days) if days else None,
    )


def rows(count: int, prefix: str) -> list[PlacementRow]:
    made = sample_rows(count, seed=12, as_of=ORIGIN.date())
    return [placement_row(r | {"account_id": f"{prefix}{RUN}-{n}"}) for n, r in enumerate(made)]


def by_case(jsonl: str) -> dict[str, dict[str, Any]]:
    return {c["case_id"]: c for c in map(json.loads, jsonl.splitlines())}


# --- an append in flight while the worker is stopped --------------------------------------


class HeldStore:
    """The real event store, except that append number `hold` never finishes: it is still
    running when the worker stops, as it would be if the worker died or was shut down."""

    def __init__(self, store: EventStore, hold: int) -> None:
        self._store = store
        self._hold = hold
        self._calls = 0
        self.holding = asyncio.Event()

    async def append(
        self, case_id: str, events: list[Event], summary: CaseSummary | None = None
    ) -> Appended:
        self._calls += 1
        if self._calls == self._hold:
            self.holding.set()
            await asyncio.Event().wait()  # until the worker's shutdown cancels it
        return await self._store.append(case_id, events, summary)


async def test_an_append_running_when_the_worker_stopped_is_in_flight_and_the_audit_exits_0(
    stack: Stack,
) -> None:
    (row,) = rows(1, "FLY")
    queue = f"audit-flight-{uuid.uuid4().hex[:6]}"
    pool = await create_pool(stack.pg_url, max_size=2)
    try:
        store = HeldStore(EventStore(pool), hold=2)
        async with Worker(
            stack.client,
            task_queue=queue,
            workflows=[CaseWorkflow],
            activities=case_activities(store, SimulatedProvider()),
        ):
            await stack.client.start_workflow(
                CaseWorkflow.run, case_input(row, 3600.0), id=row.case_id, task_queue=queue
            )
            await asyncio.wait_for(store.holding.wait(), 60)
        stored = await pool.fetchval(
            "SELECT max(seq) FROM case_events WHERE case_id = $1", row.case_id
        )
    finally:
        await pool.close()

    code, out, err = await stack.arrears("audit", row.case_id, "--format", "json")

    assert code == 0, out + err
    (case,) = json.loads(out)
    assert case["verdict"] == "in_flight" and case["problems"] == []
    assert case["in_flight"] and case["in_flight"][0]["seq"] == stored + 1
    assert all(0 <= f["age_seconds"] < 120 for f in case["in_flight"])

    # The same append, once it has waited longer than the operator allows, is stuck.
    code, out, _ = await stack.arrears(
        "audit", row.case_id, "--format", "json", "--stuck-after", "0s"
    )
    assert code == 1
    assert {f["kind"] for f in json.loads(out)[0]["findings"]} == {"stuck"}


# --- a finished book with one event deleted and one altered --------------------------------


@dataclass(frozen=True)
class Book:
    ids: list[str]
    deleted: tuple[str, int]  # case, seq
    altered: tuple[str, int]


@pytest.fixture(scope="module")
async def book(stack: Stack) -> AsyncIterator[Book]:
    """Four cases run two months on a fast clock to their end; then a superuser deletes
    one stored event of the first and rewrites one of the second."""
    placed = rows(4, "BOOK")
    for row in placed:
        await stack.client.start_workflow(
            CaseWorkflow.run, case_input(row, 0.03, days=60), id=row.case_id,
            task_queue=stack.task_queue,
        )  # fmt: skip
    for row in placed:
        await asyncio.wait_for(stack.client.get_workflow_handle(row.case_id).result(), 120)
    ids = [row.case_id for row in placed]
    deleted, altered = (ids[0], 3), (ids[1], 2)
    conn = await asyncpg.connect(stack.pg_url)
    try:
        await conn.execute("ALTER TABLE case_events DISABLE TRIGGER USER")
        await conn.execute("DELETE FROM case_events WHERE case_id = $1 AND seq = $2", *deleted)
        await conn.execute(
            "UPDATE case_events SET payload = jsonb_set(payload, '{at}',"
            " '\"2020-01-01T00:00:00Z\"') WHERE case_id = $1 AND seq = $2",
            *altered,
        )
        await conn.execute("ALTER TABLE case_events ENABLE TRIGGER USER")
    finally:
        await conn.close()
    yield Book(ids, deleted, altered)


async def test_a_deleted_event_is_missing_an_altered_one_altered_and_the_audit_exits_1(
    stack: Stack, book: Book
) -> None:
    code, out, err = await stack.arrears("audit", *book.ids, "--format", "jsonl")

    assert code == 1, err
    cases = by_case(out)
    assert len(out.splitlines()) == len(book.ids) == len(cases)  # one line per case
    deleted_case, deleted_seq = book.deleted
    assert {"kind": "missing", "seq": deleted_seq} in [
        {"kind": f["kind"], "seq": f["seq"]} for f in cases[deleted_case]["findings"]
    ]
    altered_case, altered_seq = book.altered
    assert {"kind": "altered", "seq": altered_seq} in [
        {"kind": f["kind"], "seq": f["seq"]} for f in cases[altered_case]["findings"]
    ]
    untouched = set(book.ids) - {deleted_case, altered_case}
    assert {cases[c]["verdict"] for c in untouched} == {"verified"}
    assert {cases[c]["verdict"] for c in (deleted_case, altered_case)} == {"problems"}
    assert "timeline" not in cases[deleted_case]
    assert f"audited {len(book.ids)} cases: 2 verified, 0 in flight, 2 with problems" in err


async def test_a_book_audit_prints_a_summary_and_only_the_cases_with_problems(
    stack: Stack, book: Book
) -> None:
    code, out, _ = await stack.arrears("audit", *book.ids[:3], "--timeline", "--format", "json")
    assert code == 1
    assert all(case["timeline"]["events"] for case in json.loads(out))

    code, out, _ = await stack.arrears("audit", "--all")

    assert code == 1
    assert "with problems" in out.splitlines()[0]
    shown = {case_id for case_id in book.ids if case_id in out}
    assert shown == {book.deleted[0], book.altered[0]}
    assert "case_opened" not in out  # no timelines


def summary(stderr: str) -> str:
    """The summary line, without the age of the oldest in-flight event (it grows)."""
    (line,) = [line for line in stderr.splitlines() if line.startswith("arrears: audited")]
    return re.sub(r"oldest \d+ s", "oldest - s", line)


def verdicts(jsonl: str) -> list[tuple[str, str, list[tuple[str, int | None, str]]]]:
    """Each case's verdict and findings, without the ages (they grow between runs)."""
    return [
        (
            c["case_id"],
            c["verdict"],
            [(f["kind"], f.get("seq"), f["detail"]) for f in c["findings"]],
        )
        for c in map(json.loads, jsonl.splitlines())
    ]


async def test_jobs_2_gives_the_same_verdicts_in_the_same_order_as_one_process(
    stack: Stack, book: Book
) -> None:
    one = await stack.arrears("audit", *book.ids, "--format", "jsonl", "--jobs", "1")
    two = await stack.arrears("audit", *book.ids, "--format", "jsonl", "--jobs", "2")

    assert one[0] == two[0] == 1
    assert verdicts(one[1]) == verdicts(two[1])
    assert [case_id for case_id, _, _ in verdicts(two[1])] == book.ids


async def test_on_workers_gives_the_same_summary_and_problems_as_one_process(
    stack: Stack, book: Book
) -> None:
    here = await stack.arrears("audit", "--all", "--format", "jsonl")
    there = await stack.arrears("audit", "--all", "--format", "jsonl", "--on-workers")

    assert here[0] == there[0] == 1, there[2]
    assert summary(here[2]) == summary(there[2])
    assert "2 with problems" in summary(here[2])
    problems = [v for v in verdicts(here[1]) if v[1] == "problems"]
    assert problems == [v for v in verdicts(there[1]) if v[1] == "problems"]


async def test_an_exported_case_audits_the_same_from_its_files_with_the_database(
    stack: Stack, book: Book, tmp_path: Path
) -> None:
    untouched = book.ids[-1]
    code, out, err = await stack.arrears("audit", "export", untouched, "--out", str(tmp_path))
    assert code == 0, err
    runs = json.loads(out.splitlines()[-1])["runs"]
    assert len(runs) >= 2  # the case continued as new at least once

    code, out, err = await stack.arrears(
        "audit", "--history", *runs, "--reconcile", "--format", "jsonl"
    )

    assert code == 0, out + err
    assert by_case(out)[untouched]["verdict"] == "verified"
