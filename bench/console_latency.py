"""Console latency: p50/p95 of every page over N requests through the real app, beside the
bare work each page needs (its queries, and for the Case page its Temporal calls), measured
in the same run.

    .venv/bin/python bench/console_latency.py [--cases 10000] [--live 30] [--views 5000]
        [--requests 50]

The book (`console_book.py`): `--cases` open cases with their stories and overrides, and
`--views` lines of the personal-data access log, in an embedded PostgreSQL. The Case page
is measured on real workflows: the Temporal dev server as `arrears up` runs it, one
`arrears worker` process, and `--live` cases imported with the importer into the same
database (on a business clock of a day a year, as the browser tests freeze theirs, so they
stand still while measured). The app runs in process (FastAPI over httpx's ASGI transport,
signed in through /login): the Book, Worklists and Search as a manager, the Case page as a
supervisor (contact data shown, a line of the access log written per view, as in real use),
the Audit page and its exports as an auditor. Target (issue 14): every page within 300 ms
at p95. Everything runs on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import re
import signal
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
from console_book import (
    NOW,
    PASSWORD,
    POLICY,
    TODAY,
    add_staff,
    load_book,
    record_views,
)
from temporalio.client import Client

from arrears.cases.status import read_case
from arrears.console.app import create_app
from arrears.console.case_view import CasePage, _read_history
from arrears.console.pages.audit import Filters, read_filters
from arrears.console.services import Services
from arrears.crypto.keyring import Keyring, new_key
from arrears.crypto.vault import PersonalVault
from arrears.intake.importer import Importer, open_placements
from arrears.intake.sample import sample_rows, write_sample
from arrears.people.access_log import MAX_LIMIT, count_views, list_views, record_view
from arrears.people.users import User
from arrears.settings import Settings
from arrears.stack.postgres import EmbeddedPostgres
from arrears.stack.temporal import DevServer, connect, install_runtime
from arrears.store.book import book
from arrears.store.db import Conn, create_pool, migrate
from arrears.store.override_log import OverrideFilter, override_log, override_rows
from arrears.store.search import search
from arrears.store.worklists import WORKLISTS, worklist, worklist_counts
from domain.placement import case_id_for
from workflows.case_io import CaseView

#: Personal data sealed under a throwaway master key, as the console reads it.
VAULT = PersonalVault(Keyring((new_key(),)))

LEGAL = {POLICY.name: POLICY.legal}
REPOSITORY = Path(__file__).resolve().parent.parent
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
#: A business day a year: the imported cases stand still while they are measured.
FROZEN_DAY_SECONDS = 86400.0 * 365
#: The Audit page's filters in the filtered run (a giver, a kind, three weeks).
AUDIT_FILTER = {"actor": "bench-collector-1", "kind": "promise_to_pay",
                "since": "2026-05-20", "until": "2026-06-10"}  # fmt: skip
#: The Case page's queries one by one (`arrears.console.case_view.gather`), for the parts
#: of its bare figure; the access-log line is written by `record_view` itself.
CASE_QUERIES = {
    "case row": "SELECT stage, bucket, dpd, principal, interest, fees, holds, outcome, agency,"
    " hand FROM cases WHERE case_id = $1",
    "placement record": "SELECT personal, facts->>'timezone' AS zone FROM placement_records"
    " WHERE case_id = $1",
    "timeline count": "SELECT count(*) FROM case_events WHERE case_id = $1",
    "timeline page": "SELECT seq, type, at, payload FROM case_events WHERE case_id = $1"
    " ORDER BY seq DESC LIMIT 20",
    "contact attempts": "SELECT seq, attempted_at, channel, target, line, outcome,"
    " recording_ref FROM contact_attempts WHERE case_id = $1 ORDER BY seq DESC LIMIT 50",
}

Timing = tuple[float, float]
Row = tuple[str, Timing | None, Timing]  # label, the page's p50/p95 (or none), the bare's
Call = Callable[[], Awaitable[object]]


def free_ports(count: int) -> list[int]:
    """Ports free together (bound at once, so no two are the same)."""
    with contextlib.ExitStack() as stack:
        probes = [stack.enter_context(socket.socket()) for _ in range(count)]
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in probes]


async def timed(call: Call, n: int) -> Timing:
    """p50 and p95 in milliseconds of `n` calls, after two warm-up calls."""
    for _ in range(2):
        await call()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        await call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), statistics.quantiles(times, n=20)[18]


# --- the live cases: dev server, worker, import ---------------------------------------


async def _view(client: Client, case_id: str) -> CaseView:
    found: CaseView = await client.get_workflow_handle(case_id).query(
        "state", result_type=CaseView, rpc_timeout=timedelta(seconds=5)
    )
    return found


async def _settle(client: Client, pool: asyncpg.Pool, case_ids: list[str]) -> None:
    """Until every case has opened and the event store has caught up with it."""
    deadline = time.monotonic() + 180
    waiting = set(case_ids)
    while waiting:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(waiting)} imported cases did not settle in 180 s")
        for case_id in sorted(waiting):
            with contextlib.suppress(Exception):  # no worker yet, not started yet
                view = await _view(client, case_id)
                stored = await pool.fetchval(
                    "SELECT last_seq FROM cases WHERE case_id = $1", case_id
                )
                if view.state.opened and stored == view.state.seq:
                    waiting.discard(case_id)
        await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def live_cases(
    home: Path, pool: asyncpg.Pool, db_url: str, count: int
) -> AsyncIterator[tuple[Client, list[str]]]:
    """The dev server and one `arrears worker` on the book's database, and `count` cases
    imported through the importer, opened and settled: the client and their case ids."""
    temporal_port, ui_port = free_ports(2)
    settings = Settings(home=home, temporal_port=temporal_port, ui_port=ui_port)
    server = DevServer(settings, home)
    await server.start()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ARREARS_", "TEMPORAL_")) and k != "DATABASE_URL"}  # fmt: skip
    env.update(
        ARREARS_HOME=str(home), ARREARS_TEMPORAL_PORT=str(temporal_port),
        ARREARS_DATABASE_URL=db_url, ARREARS_LOG_FORMAT="json", ARREARS_LOG_LEVEL="WARNING",
        PYTHONPATH=str(REPOSITORY),  # this tree's code, not the installed one
    )  # fmt: skip
    worker: asyncio.subprocess.Process | None = None
    try:
        with (home / "worker.log").open("wb") as log:
            worker = await asyncio.create_subprocess_exec(
                str(Path(sys.executable).parent / "arrears"), "worker", env=env,
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
            )  # fmt: skip
        client = await connect(settings)
        today = datetime.now(UTC).date()
        sample = write_sample(home / "placement.csv", count, seed=15, as_of=today)
        case_ids = [case_id_for(r["account_id"]) for r in sample_rows(count, seed=15, as_of=today)]
        records, digest = open_placements(sample)
        importer = Importer(
            client=client, pool=pool, policy=POLICY, task_queue=settings.task_queue,
            vault=VAULT, day_seconds=FROZEN_DAY_SECONDS,
        )  # fmt: skip
        summary = await importer.run(records, digest, home / "rejected.csv")
        assert summary.started == count, summary
        await _settle(client, pool, case_ids)
        yield client, case_ids
    finally:
        if worker is not None and worker.returncode is None:
            worker.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(worker.wait(), 30)
            except TimeoutError:
                worker.kill()
                await worker.wait()
        await server.stop()


# --- the pages -------------------------------------------------------------------------


class Console:
    """The app in process, and a client per signed-in person."""

    def __init__(self, services: Services) -> None:
        self.app = create_app(services.settings, services=services)
        self.clients: list[httpx.AsyncClient] = []

    async def signed_in(self, user_id: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app, client=("127.0.0.1", 50000))
        web = httpx.AsyncClient(transport=transport, base_url="http://console.bench")
        self.clients.append(web)
        login = await web.get("/login")
        token = _CSRF.search(login.text).group(1)  # type: ignore[union-attr]
        signed = await web.post(
            "/login", data={"username": user_id, "password": PASSWORD, "csrf_token": token}
        )
        assert signed.status_code == 303, signed.text
        return web

    async def close(self) -> None:
        for web in self.clients:
            await web.aclose()


def getter(web: httpx.AsyncClient, path: str | Callable[[], str]) -> Call:
    async def get() -> None:
        where = path if isinstance(path, str) else path()
        response = await web.get(where)
        assert response.status_code == 200, (where, response.status_code)

    return get


def on_conn(pool: asyncpg.Pool, *queries: Callable[[Conn], Awaitable[object]]) -> Call:
    """The queries one after another on one pooled connection, as a page runs them."""

    async def run() -> None:
        async with pool.acquire() as conn:
            for query in queries:
                await query(conn)

    return run


async def read_pages(console: Console, pool: asyncpg.Pool, phone: str, n: int) -> list[Row]:
    """The Book, the Worklists and Search, as a manager."""
    web = await console.signed_in("bench-manager")
    form = await web.get("/search")
    csrf = _CSRF.search(form.text).group(1)  # type: ignore[union-attr]

    async def post_search() -> None:
        response = await web.post("/search", data={"term": phone, "csrf_token": csrf})
        assert response.status_code == 200 and "/cases/" in response.text

    pages: list[tuple[str, Call, Call]] = [
        ("/book", getter(web, "/book"),
         on_conn(pool, lambda c: book(c, today=TODAY, timezone="Asia/Shanghai"))),
        ("/worklists", getter(web, "/worklists"),
         on_conn(pool, lambda c: worklist_counts(c, today=TODAY, now=NOW, legal=LEGAL))),
    ]  # fmt: skip
    for name, spec in WORKLISTS.items():
        sort, desc = spec.default_sort
        pages.append((
            f"/worklists/{name}", getter(web, f"/worklists/{name}"),
            on_conn(pool, lambda c, name=name, sort=sort, desc=desc: worklist(  # type: ignore[misc]
                c, name, today=TODAY, now=NOW, legal=LEGAL, sort=sort, descending=desc,
                limit=50)),
        ))  # fmt: skip
    bare_search = on_conn(pool, lambda c: search(c, phone, VAULT))
    pages.append(("POST /search (phone)", post_search, bare_search))
    return [(label, await timed(page, n), await timed(bare, n)) for label, page, bare in pages]


async def case_page(
    console: Console, pool: asyncpg.Pool, client: Client, supervisor: User,
    case_ids: list[str], n: int,
) -> list[Row]:  # fmt: skip
    """/cases/{id} over the live cases in turn, as a supervisor; beside it each query, the
    whole of its SQL on one connection, and the Temporal calls."""
    web = await console.signed_in(supervisor.id)
    turn = itertools.cycle(case_ids)
    current = case_ids[0]

    def next_case() -> str:
        nonlocal current
        current = next(turn)
        return current

    def query(sql: str) -> Callable[[Conn], Awaitable[object]]:
        return lambda c: c.fetch(sql, next_case())

    async def history(conn: Conn) -> None:  # timeline page, contacts, overrides
        await _read_history(conn, CasePage(case_id=current, standing=None), 1)

    async def access_line(conn: Conn) -> None:
        await record_view(conn, supervisor, current, "contact", NOW)

    async def everything() -> None:  # what `gather` reads, one case after another
        case_id = next_case()
        await read_case(client, case_id, POLICY)
        async with pool.acquire() as conn:
            for sql in (CASE_QUERIES["case row"], CASE_QUERIES["placement record"]):
                await conn.fetch(sql, case_id)
            await history(conn)
            await access_line(conn)

    # What is measured is the real page: the workflow answered (no note of a fallback),
    # the contact data is shown, and the view is in the access log.
    logged = await count_views(pool, actor=supervisor.id)
    first = await web.get(f"/cases/{current}")
    assert first.status_code == 200 and 'data-testid="case-note"' not in first.text, first.text
    assert 'data-testid="personal"' in first.text and 'data-testid="next-action"' in first.text
    assert await count_views(pool, actor=supervisor.id) == logged + 1
    page = getter(web, lambda: f"/cases/{next_case()}")
    rows: list[Row] = [
        ("/cases/{id} (live workflow; bare: all below)", await timed(page, n),
         await timed(everything, n)),
    ]  # fmt: skip
    for label, sql in CASE_QUERIES.items():
        rows.append((f"  SQL {label}", None, await timed(on_conn(pool, query(sql)), n)))
    rows.append(("  SQL overrides of the case", None, await timed(on_conn(pool, lambda c: (
        override_rows(c, OverrideFilter(case_id=next_case())))), n)))  # fmt: skip
    rows.append(("  SQL access-log line", None, await timed(on_conn(pool, access_line), n)))
    rows.append(("  Temporal state query", None,
                 await timed(lambda: _view(client, next_case()), n)))  # fmt: skip
    rows.append(("  Temporal describe+poller+query", None,
                 await timed(lambda: read_case(client, next_case(), POLICY), n)))  # fmt: skip
    return rows


async def audit_pages(console: Console, pool: asyncpg.Pool, n: int) -> list[Row]:
    """/audit without and with filters, and both exports, as an auditor."""
    web = await console.signed_in("bench-auditor")
    everything = Filters(None, None, None, None)
    given = read_filters(**AUDIT_FILTER)

    def page_queries(f: Filters) -> Call:
        start, end = f.window(POLICY.cycle.bank_timezone)
        chosen = OverrideFilter(actor=f.actor, kind=f.kind, since=start, until=end)
        return on_conn(
            pool,
            lambda c: override_log(c, chosen, limit=50),
            lambda c: list_views(c, actor=f.actor, since=start, until=end, limit=50),
            lambda c: count_views(c, actor=f.actor, since=start, until=end),
        )

    async def every_view(conn: Conn) -> None:
        offset = 0
        while len(await list_views(conn, limit=MAX_LIMIT, offset=offset)) == MAX_LIMIT:
            offset += MAX_LIMIT

    start, end = given.window(POLICY.cycle.bank_timezone)
    matched = await override_log(pool, OverrideFilter(given.actor, given.kind, start, end))
    seen = await count_views(pool, actor=given.actor, since=start, until=end)
    print(f"audit filter {AUDIT_FILTER}: {matched.total} overrides, {seen} access-log lines")
    query = "&".join(f"{k}={v}" for k, v in AUDIT_FILTER.items())
    pages: list[tuple[str, Call, Call]] = [
        ("/audit", getter(web, "/audit"), page_queries(everything)),
        ("/audit?actor&kind&since&until", getter(web, f"/audit?{query}"), page_queries(given)),
        ("/audit/overrides.csv", getter(web, "/audit/overrides.csv"),
         on_conn(pool, lambda c: override_rows(c, OverrideFilter()))),
        ("/audit/views.csv", getter(web, "/audit/views.csv"), on_conn(pool, every_view)),
    ]  # fmt: skip
    return [(label, await timed(page, n), await timed(bare, n)) for label, page, bare in pages]


async def main(args: argparse.Namespace) -> None:
    install_runtime()
    with tempfile.TemporaryDirectory(prefix="console-bench-") as tmp:
        (port,) = free_ports(1)
        server = EmbeddedPostgres(Path(tmp) / "pg", port)
        (Path(tmp) / "pg").mkdir()
        await server.start()
        try:
            pool = await create_pool(server.url, max_size=10)
            try:
                await migrate(pool)
                start = time.perf_counter()
                staff = await add_staff(pool)
                phone = await load_book(pool, args.cases, VAULT)
                await record_views(pool, staff, args.views)
                counts = await pool.fetchrow(
                    "SELECT (SELECT count(*) FROM case_events) AS events,"
                    " (SELECT count(*) FROM overrides) AS overrides,"
                    " (SELECT count(*) FROM personal_data_views) AS views"
                )
                print(f"book: {args.cases} open cases, {counts['events']} events,"
                      f" {counts['overrides']} overrides, {counts['views']} access-log lines,"
                      f" loaded in {time.perf_counter() - start:.0f} s")  # fmt: skip
                home = Path(tmp) / "stack"
                home.mkdir()
                async with live_cases(home, pool, server.url, args.live) as (client, case_ids):
                    print(f"live: {len(case_ids)} cases imported and settled, one worker")
                    await pool.execute("ANALYZE")
                    services = Services(
                        settings=Settings(), policy=POLICY, pool=pool, vault=VAULT,
                        now=lambda: NOW, client=client,
                    )  # fmt: skip
                    console = Console(services)
                    try:
                        n = args.requests
                        rows = await read_pages(console, pool, phone, n)
                        rows += await case_page(
                            console, pool, client, staff["bench-supervisor"], case_ids, n
                        )
                        rows += await audit_pages(console, pool, n)
                    finally:
                        await console.close()
                load = os.getloadavg()[0]
            finally:
                await pool.close()
        finally:
            await server.stop()
    print(f"{args.requests} requests per page, milliseconds (target: page p95 <= 300);"
          f" load average {load:.1f}, {os.cpu_count()} cores")  # fmt: skip
    print(f"{'page':<44} {'page p50':>9} {'page p95':>9} {'bare p50':>9} {'bare p95':>9}")
    for label, page, (q50, q95) in rows:
        shown = f"{page[0]:9.1f} {page[1]:9.1f}" if page else f"{'':>9} {'':>9}"
        print(f"{label:<44} {shown} {q50:9.1f} {q95:9.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--live", type=int, default=30, help="imported cases with a workflow")
    parser.add_argument("--views", type=int, default=5_000, help="access-log lines")
    parser.add_argument("--requests", type=int, default=50)
    asyncio.run(main(parser.parse_args()))
