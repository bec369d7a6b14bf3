"""The real case workflow on the time-skipping Temporal server, its contact attempts sent
to a stand-in gateway over HTTP with the phone number or address read from PostgreSQL:
Temporal retries what the gateway could not answer (and the gateway sees the same key and
body again), gives up at once on what it refused, and the workflow's history never holds
the destination."""

from __future__ import annotations

import uuid
from contextlib import aclosing
from datetime import date, timedelta
from typing import Any

import asyncpg
import pytest
from pydantic import SecretStr
from structlog.testing import capture_logs
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.providers.channels import ByChannel
from activities.providers.destinations import PersonalDestinations
from activities.providers.http import HttpProvider
from arrears.settings import CONTACT_CHANNELS
from arrears.store.events import InMemoryEventStore, event_from_payload
from arrears.workers import case_activities
from domain.events import ContactAttempted
from domain.intake import open_case
from domain.localtime import start_of_day
from domain.placement import personal_fields
from tests.activities.providers.conftest import ADDRESS, NAME, PHONE, SECRET, keep_personal
from tests.gateway import Gateway
from tests.stored_cases import fresh_vault
from tests.workflows.conftest import POLICY, row
from workflows.case import CaseWorkflow
from workflows.case_io import BusinessClock, CaseInput


async def run_case(
    env: WorkflowEnvironment, db: asyncpg.Pool, gateway: Gateway, timeout: float = 5
) -> tuple[str, list[ContactAttempted], str]:
    """A case run for 12 business days against `gateway`: its id, its recorded attempts
    and its history as JSON."""
    placement = row(debtor_name=NAME, mobile=PHONE, home_address=ADDRESS)
    personal = {k: v for k, v in placement.model_dump(mode="json").items() if k in personal_fields}
    await keep_personal(db, placement.case_id, personal)
    http = {c: HttpProvider(c, gateway.url, SecretStr(SECRET), timeout) for c in CONTACT_CHANNELS}
    store = InMemoryEventStore()
    origin = start_of_day(date(2026, 3, 2), POLICY.cycle.bank_timezone)
    case_input = CaseInput(
        case_id=placement.case_id, policy=POLICY, clock=BusinessClock(origin=origin),
        open=open_case(placement), until=origin + timedelta(days=12), search_attributes=False,
    )  # fmt: skip
    queue = f"gateway-{uuid.uuid4().hex[:6]}"
    destinations = PersonalDestinations(db, fresh_vault())
    async with aclosing(ByChannel(http)) as contact, Worker(
        env.client, task_queue=queue, workflows=[CaseWorkflow],
        activities=case_activities(store, contact, destinations),
    ):  # fmt: skip
        handle = await env.client.start_workflow(
            CaseWorkflow.run, case_input, id=placement.case_id, task_queue=queue
        )
        try:
            await handle.result()
        finally:
            history = (await handle.fetch_history()).to_json()
    events = [event_from_payload(p) for p, _ in store.rows.get(placement.case_id, [])]
    return placement.case_id, [e for e in events if isinstance(e, ContactAttempted)], history


def attempt_keys(case_id: str, attempts: list[ContactAttempted]) -> list[str]:
    return [f"{case_id}/{a.seq}" for a in attempts]


async def test_a_gateway_down_once_is_retried_and_the_attempt_recorded_once_with_its_answer(
    env: WorkflowEnvironment, pool: asyncpg.Pool, gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    gateway.first = [503]
    with capture_logs() as logged:
        case_id, attempts, history = await run_case(env, pool, gateway)
    first = gateway.received[0]
    assert [r["key"] for r in gateway.received] == [first["key"], *attempt_keys(case_id, attempts)]
    # Every attempt the case recorded is one the gateway made, with the gateway's answer.
    assert sorted(gateway.made) == sorted(attempt_keys(case_id, attempts))
    for attempt in attempts:
        answer = gateway.made[f"{case_id}/{attempt.seq}"]
        assert (attempt.outcome, attempt.provider_ref) == (
            answer["outcome"],
            answer["provider_ref"],
        )
    assert {a.channel for a in attempts} >= {"sms", "call"}
    assert {r["body"]["to"]["phone"] for r in gateway.received} == {PHONE}
    logs = repr(logged) + "\n".join(r.getMessage() + repr(r.__dict__) for r in caplog.records)
    assert "503" in logs  # the outage was logged...
    for personal in (PHONE, PHONE[-8:], NAME, ADDRESS, SECRET):  # ...and nothing personal
        assert personal not in logs and personal not in history


async def test_an_answer_that_came_too_late_is_asked_again_with_the_same_key_and_body(
    env: WorkflowEnvironment, pool: asyncpg.Pool, gateway: Gateway
) -> None:
    gateway.first = ["slow"]  # the gateway makes the attempt; the answer misses the timeout
    case_id, attempts, _ = await run_case(env, pool, gateway, timeout=0.5)
    first, retry = gateway.requests_for(gateway.received[0]["key"])
    assert retry["body"] == first["body"]
    assert retry["headers"]["idempotency-key"] == first["headers"]["idempotency-key"]
    recorded = [a for a in attempts if f"{case_id}/{a.seq}" == first["key"]]
    assert [a.provider_ref for a in recorded] == ["gw-1"]  # the one attempt the gateway made


async def test_an_attempt_the_gateway_refuses_is_not_retried(
    env: WorkflowEnvironment, pool: asyncpg.Pool, gateway: Gateway
) -> None:
    gateway.first = [400, 400]
    with pytest.raises(WorkflowFailureError) as failed:
        await run_case(env, pool, gateway)
    assert len(gateway.received) == 1
    activity_error = failed.value.cause
    assert isinstance(activity_error, ActivityError)
    cause: Any = activity_error.cause
    assert isinstance(cause, ApplicationError) and cause.type == "ContactRefused"
    assert PHONE not in str(cause)
