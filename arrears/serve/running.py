"""What `arrears up`, `arrears run` and `arrears worker` keep running until Ctrl-C: the
stack (`arrears.stack.up.Stack`), a worker, the stack check, and for `run` the demo (the
sample portfolio imported, a live summary and a stand-in payments feed)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from arrears.settings import Settings


def _say(line: str) -> None:
    print(line, flush=True)


async def until_signalled(work: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Run `work(stop)`; SIGINT/SIGTERM set `stop`, and also abort a start still in progress."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    task = asyncio.ensure_future(work(stop))
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if not task.done():
            # Give `work` the chance to shut down in order; if it is still starting
            # something up, cancelling it runs its cleanup (context managers) instead.
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout=60)
            except TimeoutError:
                task.cancel()
        await task
    finally:
        stopper.cancel()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


@dataclass(frozen=True)
class Demo:
    """What `arrears run` adds to the stack: a sample portfolio and a live summary."""

    sample: Path | None
    day_seconds: float


async def serve(
    settings: Settings, stop: asyncio.Event, *, with_worker: bool, demo: Demo | None = None
) -> None:
    from arrears.stack.up import Stack

    async with Stack(settings) as stack:
        starting = asyncio.ensure_future(stack.start())
        await asyncio.wait(
            {starting, asyncio.ensure_future(stop.wait())}, return_when=asyncio.FIRST_COMPLETED
        )
        if not starting.done():
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await starting
            return
        starting.result()
        _say(f"Temporal:   {stack.temporal_address} (namespace {settings.temporal_namespace})")
        if settings.ui_url:
            _say(f"Web UI:     {settings.ui_url}")
        _say(f"PostgreSQL: {stack.database_url}")
        if stack.created_key_file:
            _say(f"Master key: created {stack.created_key_file} (mode 0600; keep it safe)")
        if stack.applied_migrations:
            _say(f"Migrations applied: {', '.join(stack.applied_migrations)}")
        if stack.encrypted_records:
            _say(f"Personal data: sealed {stack.encrypted_records} placement records kept in"
                 " plaintext before migration 0014")  # fmt: skip
        if with_worker:
            await _serve_worker(settings, stop, demo)
        else:
            _say("Ready. Ctrl-C stops everything that was started.")
            await stop.wait()
        _say("Stopping...")


async def _serve_worker(settings: Settings, stop: asyncio.Event, demo: Demo | None) -> None:
    from arrears.workers import run_worker

    worker = asyncio.ensure_future(run_worker(settings, stop))
    result = await _stack_check(settings)
    _say(
        f"Stack check: workflow {result['workflow_id']} wrote row {result['check_id']} "
        "to PostgreSQL"
    )
    _say(f"Worker on task queue {settings.task_queue!r}.")
    if settings.metrics_port is not None:
        _say(f"Metrics:    http://{settings.metrics_host}:{settings.metrics_port}/metrics")
    if settings.ui_url:
        _say(f"Open the Web UI at {settings.ui_url}")
    extras: list[asyncio.Future[None]] = []
    if demo is not None and demo.sample is not None:
        extras = await _start_demo(settings, stop, demo)
    if demo is not None:
        extras.append(await _start_console(settings, stop))
    _say("Ready. Ctrl-C stops everything that was started.")
    await worker
    await asyncio.gather(*extras)


async def _start_demo(
    settings: Settings, stop: asyncio.Event, demo: Demo
) -> list[asyncio.Future[None]]:
    """Import the sample portfolio (a second run starts nothing new), then keep a live
    summary and a stand-in payments feed going until Ctrl-C."""
    from rich.console import Console

    from arrears.crypto.existing import ready_vault
    from arrears.intake.importer import Importer, open_placements
    from arrears.policies import load_arms
    from arrears.serve.dashboard import demo_payments, show
    from arrears.serve.demo_desk import demo_desk
    from arrears.stack.temporal import connect
    from arrears.store.db import create_pool

    assert demo.sample is not None
    records, digest = open_placements(demo.sample)
    client = await connect(settings)
    pool = await create_pool(settings.db_url, max_size=4)
    report = settings.home / "sample.rejected.csv"
    arms = load_arms(settings.policy)
    async with pool.acquire() as conn:
        vault = await ready_vault(conn, os.environ, settings.home)
    importer = Importer(client=client, pool=pool, policy=arms.champion, challenger=arms.challenger,
                        task_queue=settings.task_queue, vault=vault,
                        day_seconds=demo.day_seconds)  # fmt: skip
    summary = await importer.run(records, digest, report)
    _say(
        f"Sample portfolio {demo.sample}: {summary.started} cases started, "
        f"{summary.already_running} already running, {summary.rejected} rejected "
        f"(one business day = {demo.day_seconds:g} s)"
    )

    async def close_pool_when_done(*tasks: asyncio.Future[None]) -> None:
        await asyncio.gather(*tasks)
        await pool.close()

    dashboard = asyncio.ensure_future(show(pool, stop, Console()))
    payments = asyncio.ensure_future(demo_payments(client, pool, stop))
    desk = asyncio.ensure_future(demo_desk(client, pool, stop))
    return [asyncio.ensure_future(close_pool_when_done(dashboard, payments, desk))]


async def _start_console(settings: Settings, stop: asyncio.Event) -> asyncio.Future[None]:
    """The web console beside the worker, and one demo user per role the first time
    (their passwords are printed once: `arrears users set-password` sets new ones)."""
    from arrears.console.serving import console_url, serve_console
    from arrears.crypto.existing import ready_vault
    from arrears.people.demo import ensure_demo_users
    from arrears.store.db import create_pool

    pool = await create_pool(settings.db_url, max_size=1)
    try:
        async with pool.acquire() as conn:
            vault = await ready_vault(conn, os.environ, settings.home)  # before it listens
            created = await ensure_demo_users(conn, datetime.now(UTC))
    finally:
        await pool.close()
    url = console_url(settings.console_host, settings.console_port)
    _say(f"Console:    {url}   (Web UI: {settings.ui_url or 'not embedded'})")
    for user_id, role, password in created:
        if password is not None:
            _say(f"  sign in as {user_id} ({role}) with password {password}")
    if created and all(password is None for _, _, password in created):
        _say("  demo users exist already (passwords printed on the first run; reset them "
             "with `arrears users set-password ID --password-stdin`)")  # fmt: skip
    return asyncio.ensure_future(
        serve_console(settings, stop, settings.console_host, settings.console_port, vault)
    )


async def _stack_check(settings: Settings) -> dict[str, Any]:
    from activities.stack_check import StackCheck
    from arrears.stack.temporal import connect
    from workflows.stack_check import StackCheckWorkflow

    client = await connect(settings)
    check_id = f"stack-check-{uuid.uuid4()}"
    result = await client.execute_workflow(
        StackCheckWorkflow.run,
        StackCheck(check_id=check_id),
        id=check_id,
        task_queue=settings.task_queue,
    )
    return result.model_dump()
