"""A worker: the case workflows and their activities on one task queue, wired to their
dependencies (the client, the pool, the providers).

`arrears worker` (and `python worker.py`) runs `run_worker`; run more of them (on more
machines) to scale: Temporal spreads the work over every worker polling the task queue.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from contextlib import aclosing
from typing import Any

import asyncpg
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.worker import Worker

from activities.archive import ArchiveActivities
from activities.audit_book import AuditBookActivities
from activities.contact import ContactActivities, ContactProvider, DestinationLookup
from activities.event_store import EventStoreActivities
from activities.partners import LoggingPartnerGateway, PartnerActivities
from activities.providers.channels import providers_from
from activities.providers.destinations import PersonalDestinations
from activities.stack_check import StackCheckActivities
from arrears.crypto.existing import ready_vault
from arrears.logs import get_logger
from arrears.metrics import WorkerMetrics
from arrears.settings import Settings
from arrears.stack.temporal import connect
from arrears.store.archive_sweep import ensure_archive_schedule
from arrears.store.db import create_pool
from arrears.store.events import Appender, EventStore
from workflows.archive_sweep import ArchiveSweepWorkflow
from workflows.audit_book import AuditBookWorkflow
from workflows.case import CaseWorkflow
from workflows.stack_check import StackCheckWorkflow

WORKFLOWS: Sequence[type] = (
    CaseWorkflow,
    StackCheckWorkflow,
    ArchiveSweepWorkflow,
    AuditBookWorkflow,
)


def case_activities(
    store: Appender, provider: ContactProvider, destinations: DestinationLookup | None = None
) -> list[Any]:
    """The case workflow's activities, wired to an event store and a contact provider (and
    where the provider finds each attempt's phone or address: none in the simulations)."""
    events = EventStoreActivities(store)
    return [
        events.append_events,
        events.load_events,
        ContactActivities(provider, destinations).attempt_contact,
        PartnerActivities(LoggingPartnerGateway()).notify_partner,
    ]


def activities_for(
    client: Client,
    pool: asyncpg.Pool,
    contact: ContactProvider,
    destinations: DestinationLookup | None = None,
) -> list[Any]:
    """Every activity, wired to its dependencies (the client, pool, providers, settings;
    `destinations` where a real gateway finds each attempt's phone or address)."""
    audit = AuditBookActivities(client, pool)
    return [
        *case_activities(EventStore(pool), contact, destinations),
        StackCheckActivities(pool).record_stack_check,
        ArchiveActivities(client, pool).archive_closed_runs,
        audit.list_audit_cases,
        audit.audit_cases,
    ]


def build_worker(
    client: Client,
    pool: asyncpg.Pool,
    settings: Settings,
    contact: ContactProvider,
    destinations: DestinationLookup | None = None,
) -> Worker:
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=list(WORKFLOWS),
        activities=activities_for(client, pool, contact, destinations),
        max_concurrent_activities=settings.worker_concurrency,
        max_concurrent_workflow_tasks=settings.worker_concurrency,
    )


async def run_worker(settings: Settings, stop: asyncio.Event) -> None:
    """Poll until `stop` is set, then finish in-flight tasks and close the pool."""
    metrics = WorkerMetrics.start(settings)  # before connecting: the client reports through it
    log = get_logger("arrears.worker")
    client = await connect(settings)
    pool = await create_pool(settings.db_url, max_size=min(settings.worker_concurrency, 20))
    client = metrics.attach(client, pool)
    try:
        # Every worker makes sure the archive sweep is scheduled (idempotent), so a cluster
        # without `arrears up` still archives its closed runs.
        try:
            await ensure_archive_schedule(client, settings)
        except RPCError as err:  # e.g. an API key that may not manage schedules
            log.warning("archive sweep not scheduled", error=f"{err.status.name}: {err.message}")
        async with aclosing(providers_from(settings)) as contact:
            destinations = (
                await _destinations(pool, settings) if contact.needs_destinations else None
            )
            async with build_worker(client, pool, settings, contact, destinations):
                log.info("worker started", task_queue=settings.task_queue)
                await stop.wait()
                log.info("worker stopping")
    finally:
        await metrics.close()
        await pool.close()


async def _destinations(pool: asyncpg.Pool, settings: Settings) -> PersonalDestinations:
    """Each attempt's phone or address, decrypted for that one case by the personal data
    vault; a missing or wrong master key (or plaintext left to convert) stops the worker
    before it polls: one line, exit 3."""
    async with pool.acquire() as conn:
        vault = await ready_vault(conn, os.environ, settings.home)
    return PersonalDestinations(pool, vault)
