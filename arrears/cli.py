"""The `arrears` command: one entry point, one subcommand per job.

Every failure the user can cause or meet ends with one line on stderr and the exit code
of CONTRACTS.md section 3 (see `arrears.errors`); results go to stdout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from arrears.archive_cmd import archive_command
from arrears.audit_cli import audit
from arrears.errors import ArrearsError, NotYetAvailable, UsageError
from arrears.logs import configure_logging
from arrears.overrides_cmd import override_command, retry_append_command
from arrears.payments_cmd import payments_command
from arrears.settings import Settings, load_settings
from arrears.stack.temporal import install_runtime

app = typer.Typer(
    name="arrears",
    help="Arrears: collections cases as Temporal workflows.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",  # docstring paragraphs are joined, not cut at each line
)


def _say(line: str) -> None:
    print(line, flush=True)


async def _until_signalled(work: Callable[[asyncio.Event], Awaitable[None]]) -> None:
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


async def _serve(
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
        if stack.applied_migrations:
            _say(f"Migrations applied: {', '.join(stack.applied_migrations)}")
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
    if settings.ui_url:
        _say(f"Open the Web UI at {settings.ui_url}")
    extras: list[asyncio.Future[None]] = []
    if demo is not None and demo.sample is not None:
        extras = await _start_demo(settings, stop, demo)
    _say("Ready. Ctrl-C stops everything that was started.")
    await worker
    await asyncio.gather(*extras)


async def _start_demo(
    settings: Settings, stop: asyncio.Event, demo: Demo
) -> list[asyncio.Future[None]]:
    """Import the sample portfolio (a second run starts nothing new), then keep a live
    summary and a stand-in payments feed going until Ctrl-C."""
    from rich.console import Console

    from arrears.dashboard import demo_payments, show
    from arrears.intake.importer import Importer, open_placements
    from arrears.policies import load_policy
    from arrears.stack.temporal import connect
    from arrears.store.db import create_pool

    assert demo.sample is not None
    records, digest = open_placements(demo.sample)
    client = await connect(settings)
    pool = await create_pool(settings.db_url, max_size=4)
    report = settings.home / "sample.rejected.csv"
    importer = Importer(client=client, pool=pool, policy=load_policy(settings.policy),
                        task_queue=settings.task_queue, day_seconds=demo.day_seconds)  # fmt: skip
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
    return [asyncio.ensure_future(close_pool_when_done(dashboard, payments))]


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


@app.command()
def up() -> None:
    """Start the embedded stack (Temporal dev server + Web UI, PostgreSQL) until Ctrl-C.

    Uses TEMPORAL_ADDRESS / DATABASE_URL instead of starting its own where they are set.
    Applies database migrations and registers the search attributes.
    """
    settings = Settings()
    asyncio.run(_until_signalled(lambda stop: _serve(settings, stop, with_worker=False)))


@app.command()
def run(
    sample: Annotated[Path, typer.Option(help="Placement file imported at start.")] = Path(
        "examples/placement.csv"
    ),
    day_seconds: Annotated[
        float, typer.Option(help="Seconds per business day of the sample.")
    ] = 2.0,
    no_sample: Annotated[bool, typer.Option("--no-sample", help="Start no sample cases.")] = False,
) -> None:
    """The newcomer's `make run`: the stack, one worker, the sample portfolio imported on a
    fast business clock, and a live summary until Ctrl-C. A second run continues with the
    same data and starts no duplicates."""
    settings = Settings()
    if day_seconds <= 0:
        raise UsageError("--day-seconds must be positive")
    use = None if no_sample or not sample.exists() else sample
    demo = Demo(sample=use, day_seconds=day_seconds)
    asyncio.run(_until_signalled(lambda stop: _serve(settings, stop, with_worker=True, demo=demo)))


@app.command()
def worker() -> None:
    """Run a worker (workflows and activities) against the configured Temporal and PostgreSQL."""
    from arrears.workers import run_worker

    settings = Settings()
    asyncio.run(_until_signalled(lambda stop: run_worker(settings, stop)))


@app.command()
def migrate() -> None:
    """Apply the database migrations that are missing (idempotent)."""
    from arrears.store.db import create_pool
    from arrears.store.db import migrate as apply

    settings = Settings()

    async def _migrate() -> list[str]:
        pool = await create_pool(settings.db_url, max_size=1)
        try:
            return await apply(pool)
        finally:
            await pool.close()

    applied = asyncio.run(_migrate())
    _say(f"Applied: {', '.join(applied)}" if applied else "Database is up to date.")


@app.command()
def simulate(
    scenario: Annotated[
        Path | None, typer.Argument(help="Scenario JSON (CONTRACTS.md §2).")
    ] = None,
    engine: Annotated[str, typer.Option(help="domain (no server) or temporal.")] = "domain",
    portfolio: Annotated[
        Path | None, typer.Option(help="Placement file: simulate every case.")
    ] = None,
    months: Annotated[int, typer.Option(help="Months to simulate a portfolio for.")] = 12,
    seed: Annotated[int, typer.Option(help="Seed of the simulated debtor behaviour.")] = 1,
    start: Annotated[
        str | None, typer.Option(help="Portfolio start date (ISO); default: today.")
    ] = None,
    jobs: Annotated[
        int,
        typer.Option(
            help="Processes a portfolio is simulated in (0: one per core); "
            "the report is the same for any number."
        ),
    ] = 1,
) -> None:
    """Run one scenario through the policy and print its timeline JSON (times in the
    bank's zone), or with --portfolio run every case of a placement file and print a
    portfolio report."""
    from arrears.simulate_cmd import run_portfolio, run_scenario

    if (scenario is None) == (portfolio is None):
        raise UsageError("give either a SCENARIO file or --portfolio FILE")
    if scenario is not None:
        _say(run_scenario(scenario, engine).model_dump_json(indent=2))
        return
    assert portfolio is not None
    try:
        first_day = date.fromisoformat(start) if start else datetime.now(UTC).date()
    except ValueError:
        raise UsageError(f"--start {start!r} is not an ISO date (YYYY-MM-DD)") from None
    report, refusals = run_portfolio(portfolio, months, seed, first_day, Settings().policy, jobs)
    _say(report.model_dump_json(indent=2))
    for line in refusals.lines(portfolio):
        print(f"arrears: {line}", file=sys.stderr)


app.command(context_settings={"allow_interspersed_args": True})(audit)


@app.command(name="import")
def import_(
    file: Annotated[
        Path, typer.Argument(help="Placement file: CSV or JSON Lines (CONTRACTS.md §1).")
    ],
    day_seconds: Annotated[
        float, typer.Option(help="Seconds per business day of the started cases.")
    ] = 86400.0,
    report: Annotated[
        Path | None, typer.Option(help="Rejections CSV (default: FILE.rejected.csv).")
    ] = None,
    concurrency: Annotated[int, typer.Option(help="Workflow starts in flight at once.")] = 64,
) -> None:
    """Start one case workflow per good row; already running cases are not started again.

    A row placing an account whose case has ended starts a new episode, a new case
    `case-<account_id>.<n>` (a closed case is never reopened). The last line of stdout is
    the JSON summary; exit code 1 if any row was rejected.
    """
    from arrears.import_cmd import run_import

    if concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    code = asyncio.run(run_import(file, report, day_seconds, concurrency))
    raise typer.Exit(code)


app.command(name="override")(override_command)
app.command(name="retry-append")(retry_append_command)


app.command(name="payments")(payments_command)


@app.command(name="status")
def status_command(
    case: Annotated[
        str | None, typer.Argument(help="Account id or case id; none: counts of the book.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """One case (stage, balance, placement, holds, next action, last contacts), or open
    cases by stage and bucket from Temporal and from PostgreSQL, side by side."""
    from arrears.status_cmd import run_status

    run_status(case, as_json)


@app.command(name="purge")
def purge_command(
    before: Annotated[str, typer.Option(help="YYYY-MM-DD: purge cases closed long before it.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would go.")] = False,
    apply: Annotated[bool, typer.Option("--apply", help="Purge, and record it.")] = False,
    actor: Annotated[str | None, typer.Option(help="Id of who runs it (never a name).")] = None,
) -> None:
    """Remove the personal data of cases closed longer ago than the policy's retention
    (events, read models and money stay). The last line of stdout is the JSON summary."""
    from arrears.store.purge import run_purge

    for line in run_purge(before, dry_run, apply, actor):
        _say(line)


app.command(name="archive")(archive_command)


_LATER = {
    "report": "Portfolio reports on the live book (meanwhile: `arrears simulate --portfolio`).",
}


def _later(name: str, summary: str) -> None:
    def command(
        args: Annotated[list[str] | None, typer.Argument(hidden=True)] = None,
    ) -> None:
        raise NotYetAvailable(f"`arrears {name}` is not yet available")

    command.__doc__ = f"{summary} (not yet available)"
    app.command(
        name=name,
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )(command)


for _name, _summary in _LATER.items():
    _later(_name, _summary)


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point: configure logging, run the command, map errors to exit codes.

    It ends the process with `os._exit` after flushing: the Temporal SDK's native threads
    can outlive the event loop and abort the interpreter's shutdown ("PyGILState_Release",
    temporalio/sdk-python#300), which would turn a successful command into exit code 134.
    """
    code: int = 0
    try:
        configure_logging(load_settings())
        install_runtime()
        app(args=list(argv) if argv is not None else None, prog_name="arrears")
    except ArrearsError as err:
        print(f"arrears: {err}", file=sys.stderr, flush=True)
        code = err.exit_code
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        logging.shutdown()
    os._exit(code)


if __name__ == "__main__":
    main()
