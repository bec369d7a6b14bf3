"""A real worker process (`arrears worker`, with ARREARS_METRICS_PORT) against a real
Temporal dev server and PostgreSQL: its /metrics, scraped over HTTP, shows the SDK's own
metrics and every business metric moving, each agreeing with what PostgreSQL recorded."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx
import pytest
from temporalio.client import Client, WorkflowUpdateFailedError

from arrears.intake.csv_forms import placement_row
from arrears.intake.sample import sample_rows
from arrears.settings import Settings
from arrears.stack.temporal import connect
from arrears.store.read_models import CaseSummary, project_case
from domain.commands import CeaseContact
from domain.events import Actor
from domain.intake import open_case
from domain.policy import Policy
from tests.support import bare_env, dashboard_metrics, free_port, wait_until
from workflows.case import CaseWorkflow
from workflows.case_io import (
    BusinessClock,
    CaseInput,
    OverrideRequest,
    OverrideResult,
    PaymentSignal,
)

pytestmark = pytest.mark.integration

ARREARS = str(Path(sys.executable).parent / "arrears")
DASHBOARD = Path(__file__).resolve().parents[3] / "deploy" / "grafana" / "arrears.json"
DAY_SECONDS = 0.3
HORIZON_DAYS = 40
AT = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
STAGES = ("reminder", "phone", "letter", "visit", "outsourcing", "legal")

Sample = dict[tuple[tuple[str, str], ...], float]


def parse_metrics(text: str) -> dict[str, Sample]:
    """Prometheus text format: metric name -> {sorted (label, value) pairs: value}."""
    metrics: dict[str, Sample] = {}
    line_form = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
    label_form = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        found = line_form.match(line)
        assert found, f"not a Prometheus sample line: {line!r}"
        name, labels, value = found.groups()
        key = tuple(sorted(label_form.findall(labels or "")))
        metrics.setdefault(name, {})[key] = float(value)
    return metrics


def series(metrics: dict[str, Sample], name: str, *keys: str) -> dict[tuple[str, ...], float]:
    """One metric's values by the labels `keys` (the runtime's own labels dropped)."""
    return {
        tuple(dict(labels)[k] for k in keys): value
        for labels, value in metrics.get(name, {}).items()
    }


@dataclass
class Worker:
    url: str
    client: Client
    pool: asyncpg.Pool
    queue: str

    async def scrape(self) -> dict[str, Sample]:
        async with httpx.AsyncClient() as http:
            answer = await http.get(self.url, timeout=5)
        assert answer.status_code == 200
        return parse_metrics(answer.text)


async def _serving(url: str) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        async with httpx.AsyncClient() as http:
            return (await http.get(url, timeout=2)).status_code == 200
    return False


@pytest.fixture
async def worker(
    temporal: Client, pool: asyncpg.Pool, fresh_database_url: str, tmp_path: Path
) -> AsyncIterator[Worker]:
    """`arrears worker` serving metrics on a free port, its gauges refreshed twice a second."""
    port = free_port()
    queue = f"metrics-{uuid.uuid4().hex[:8]}"
    address = temporal.service_client.config.target_host
    # The worker and this test's client talk as `arrears` does: a client from `connect`,
    # and the session's payload keys, if any, handed to the worker.
    keys = {k: v for k, v in os.environ.items() if k == "ARREARS_PAYLOAD_KEYS"}
    env = bare_env(
        TEMPORAL_ADDRESS=address,
        DATABASE_URL=fresh_database_url,
        ARREARS_TASK_QUEUE=queue,
        ARREARS_METRICS_PORT=str(port),
        ARREARS_METRICS_INTERVAL_SECONDS="0.5",
        **keys,
    )
    client = await connect(Settings(temporal_address=address))
    with (tmp_path / "worker.log").open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            ARREARS, "worker", env=env, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log
        )
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        await wait_until(lambda: _serving(url), "the worker's /metrics", timeout=60)
        yield Worker(url=url, client=client, pool=pool, queue=queue)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 60)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _start_case(worker: Worker, row: dict[str, str], origin: datetime) -> str:
    placement = placement_row(row)
    await worker.client.start_workflow(
        CaseWorkflow.run,
        CaseInput(
            case_id=placement.case_id,
            policy=Policy(),
            open=open_case(placement),
            clock=BusinessClock(origin=origin, day_seconds=DAY_SECONDS),
            until=origin + timedelta(days=HORIZON_DAYS),
        ),
        id=placement.case_id,
        task_queue=worker.queue,
    )
    return placement.case_id


async def _raw_event(
    pool: asyncpg.Pool, case_id: str, seq: int, type_: str, **payload: str
) -> None:
    """A row written straight into the store, bypassing the worker (no valid chain)."""
    await pool.execute(
        "INSERT INTO case_events (case_id, seq, type, at, payload, prev_hash, hash)"
        " VALUES ($1, $2, $3, now(), $4, $5, $6)",
        case_id, seq, type_, {"seq": seq, "type": type_, **payload}, "0" * 64, "f" * 64,
    )  # fmt: skip


def _override(kind_actor: Actor) -> OverrideRequest:
    return OverrideRequest(override=CeaseContact(actor=kind_actor, reason="written request"))


async def test_a_worker_serves_sdk_and_business_metrics_that_agree_with_the_store(
    worker: Worker,
) -> None:
    before = await worker.scrape()
    origin = datetime.now(UTC)
    rows = list(sample_rows(4, seed=16, as_of=origin.date()))
    # The fourth case meets a row already stored under its first seq: its first append
    # fails with a conflict (an activity failure) and the case waits for a supervisor.
    stuck_id = placement_row(rows[3]).case_id
    await _raw_event(worker.pool, stuck_id, 1, "case_opened")
    case_ids = [await _start_case(worker, row, origin) for row in rows]

    paying, ceasing, refused = (worker.client.get_workflow_handle(c) for c in case_ids[:3])
    payment = PaymentSignal(reference="P-metrics-1", amount=Decimal("123.45"))
    answers: list[object] = await asyncio.gather(
        paying.signal("payment", payment),
        ceasing.execute_update(
            "override", _override(Actor(id="c-7", role="collector")), result_type=OverrideResult
        ),
        refused.execute_update(  # an auditor gives no overrides
            "override", _override(Actor(id="a-1", role="auditor")), result_type=OverrideResult
        ),
        return_exceptions=True,
    )
    assert isinstance(answers[2], WorkflowUpdateFailedError), answers
    for handle in (paying, ceasing, refused):
        await handle.result()

    after = await worker.scrape()
    attempts = {
        (r["channel"], r["outcome"]): float(r["n"])
        for r in await worker.pool.fetch(
            "SELECT channel, outcome, count(*) AS n FROM contact_attempts GROUP BY 1, 2"
        )
    }
    assert attempts, "the cases made no contact attempt"
    assert series(after, "arrears_contact_attempts", "channel", "outcome") == attempts
    counters = ("arrears_contact_attempts", "arrears_payments", "arrears_payment_amount_cents")
    for name in (*counters, "arrears_overrides", "arrears_activity_failures"):
        assert not any(series(before, name).values()), f"{name} moved before any case ran"
    assert series(before, "arrears_payments") == {(): 0.0}, "not served from the start"

    paid = await worker.pool.fetchrow("SELECT count(*) AS n, sum(amount) AS total FROM payments")
    assert paid is not None
    assert (paid["n"], paid["total"]) == (1, Decimal("123.45"))
    assert series(after, "arrears_payments") == {(): 1.0}
    assert series(after, "arrears_payment_amount_cents") == {(): 12345.0}

    assert series(after, "arrears_overrides", "kind", "result") == {
        ("cease_contact", "applied"): 1.0,
        ("cease_contact", "rejected"): 1.0,
    }
    failures = series(after, "arrears_activity_failures", "activity_type", "failure")
    assert failures.get(("append_events", "EventConflict")) == 1.0

    # The SDK's own metrics are served beside ours, and the dashboard reads only metrics
    # that a worker serves.
    assert {"temporal_workflow_completed", "temporal_activity_execution_latency_count"} <= set(
        after
    )
    assert dashboard_metrics(DASHBOARD) - set(after) == set()

    async def stages_match() -> bool:
        rows = await worker.pool.fetch("SELECT stage FROM cases WHERE outcome IS NULL")
        expected = {(stage,): float(sum(r["stage"] == stage for r in rows)) for stage in STAGES}
        return series(await worker.scrape(), "arrears_cases", "stage") == expected

    await wait_until(stages_match, "open cases by stage as in the cases table", timeout=30)


def _summary(outcome: str | None) -> CaseSummary:
    return CaseSummary(
        account_id="6225070000099", policy="cn-card", stage="phone", bucket="M2", dpd=45,
        principal=Decimal("5000"), interest=Decimal("0"), fees=Decimal("0"), agency=None,
        hand=None, holds=[], charged_off=False, outcome=outcome, opened_at=AT, as_of=AT,
    )  # fmt: skip


async def test_the_pending_approvals_gauge_counts_the_open_cases_requests_not_yet_decided(
    worker: Worker,
) -> None:
    async def pending_is(count: float) -> bool:
        return series(await worker.scrape(), "arrears_approvals_pending") == {(): count}

    case_id = "case-6225070000099"
    async with worker.pool.acquire() as conn:
        await project_case(conn, case_id, _summary(None), 3)
    await wait_until(lambda: pending_is(0.0), "no pending approval", timeout=30)
    for seq, request in ((1, "r1"), (2, "r2")):
        await _raw_event(worker.pool, case_id, seq, "approval_requested", request_id=request)
    await wait_until(lambda: pending_is(2.0), "two pending approvals", timeout=30)
    await _raw_event(worker.pool, case_id, 3, "approval_granted", request_id="r1")
    await wait_until(lambda: pending_is(1.0), "one approval left pending", timeout=30)
    async with worker.pool.acquire() as conn:  # the case ends: its request is withdrawn
        await project_case(conn, case_id, _summary("closed"), 4)
    await wait_until(lambda: pending_is(0.0), "the ended case's request withdrawn", timeout=30)
