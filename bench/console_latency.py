"""Console latency: p50/p95 of each read page (Book, Worklists, a worklist, Search) over N
requests through the real app, beside the bare query each page needs, in the same run.

    .venv/bin/python bench/console_latency.py [--cases 10000] [--requests 50]

The book: `--cases` open cases from the sample generator's rows (placement records with
their personal data, for Search), each with a story appended through the real
`EventStore` (so every read model is projected as in production): contact attempts, and
for some cases a promise (due today, or broken), a plan (running, or missed), a dispute or
cease-contact hold, a placement with an agency (its term ending soon or not), payments.
The app runs in process (FastAPI over httpx's ASGI transport, signed in through /login as
a manager, who may open every one of these pages); the bare figure is the store function
the page calls, on the same pool. Target (issue 14): every page within 300 ms at p95.
Everything runs on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import socket
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from arrears.console.app import create_app
from arrears.console.services import Services
from arrears.intake.sample import sample_rows
from arrears.people.users import add_user
from arrears.policies import load_policy
from arrears.settings import Settings
from arrears.stack.postgres import EmbeddedPostgres
from arrears.store.book import book
from arrears.store.db import Conn, create_pool, migrate
from arrears.store.events import EventStore
from arrears.store.read_models import CaseSummary
from arrears.store.search import search
from arrears.store.worklists import WORKLISTS, worklist, worklist_counts
from domain.events import (
    AccountFacts,
    CaseOpened,
    ContactAttempted,
    Event,
    HoldStarted,
    PaymentReceived,
    Placed,
    PlanAgreed,
    PlanBroken,
    PromiseBroken,
    PromiseMade,
)

NOW = datetime(2026, 6, 10, 4, 0, tzinfo=UTC)  # noon in Shanghai
TODAY = NOW.date()
DAY = timedelta(days=1)
POLICY = load_policy("cn-card")
LEGAL = {POLICY.name: POLICY.legal}
PASSWORD = "bench password, long enough"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
BUCKETS = ("M0", "M1", "M2", "M3", "M4+")
STAGE_OF = {"M0": "reminder", "M1": "phone", "M2": "phone", "M3": "letter", "M4+": "outsourcing"}


def story(n: int, row: dict[str, str], rng: random.Random) -> tuple[list[Event], CaseSummary]:
    """One case's events and its `cases` row: a few of every kind the worklists pick."""
    opened = NOW - rng.randint(5, 200) * DAY
    balance = Decimal(row["principal"]) + Decimal(row["interest"]) + Decimal(row["fees"])
    events: list[Event] = [
        CaseOpened(
            seq=1, at=opened, policy="cn-card", principal=Decimal(row["principal"]),
            interest=Decimal(row["interest"]), fees=Decimal(row["fees"]),
            account=AccountFacts(account_id=row["account_id"],
                                 credit_limit=Decimal(row["credit_limit"]), statement_day=5,
                                 grace_days=20),
            oldest_unpaid_due_date=opened.date() - 30 * DAY, unpaid_minimum=Decimal("100.00"),
            last_statement_date=opened.date() - 10 * DAY, accrual_from=opened.date() - 10 * DAY,
        )
    ]  # fmt: skip

    def add(event_type: type[Any], at: datetime, **fields: Any) -> None:
        events.append(event_type(seq=len(events) + 1, at=at, **fields))

    for _ in range(rng.randint(2, 8)):
        at = NOW - rng.randint(0, 40) * DAY
        channel = rng.choice(["sms", "call", "call"])
        outcome = rng.choice(
            ["delivered"]
            if channel == "sms"
            else ["no_answer", "busy", "right_party_contact", "promise", "refusal"]
        )
        add(
            ContactAttempted,
            at,
            channel=channel,
            target="debtor",
            outcome=outcome,
            planned_at=at,
            line="mobile",
            recording_ref="rec" if channel == "call" else None,
        )
    roll = rng.random()
    if roll < 0.10:
        add(
            PromiseMade,
            NOW - 3 * DAY,
            amount=Decimal("300.00"),
            due=TODAY + rng.choice([0, 1, 5]) * DAY,
            pause_until=NOW + 5 * DAY,
        )
    elif roll < 0.18:
        add(
            PromiseMade,
            NOW - 9 * DAY,
            amount=Decimal("300.00"),
            due=TODAY - 4 * DAY,
            pause_until=NOW - 2 * DAY,
        )
        add(
            PromiseBroken,
            NOW - rng.randint(0, 2) * DAY,
            amount=Decimal("300.00"),
            paid=Decimal("0.00"),
        )
    elif roll < 0.24:
        add(
            PlanAgreed,
            NOW - 60 * DAY,
            installments=6,
            installment_amount=Decimal("200.00"),
            first_due=TODAY - 45 * DAY,
        )
        if rng.random() < 0.5:
            add(PlanBroken, NOW - 15 * DAY, number=1, paid=Decimal("0"), due=Decimal("200"))
    elif roll < 0.28:
        add(HoldStarted, NOW - 5 * DAY, kind=rng.choice(["dispute", "cease_contact"]))
    bucket = rng.choice(BUCKETS)
    agency = None
    if bucket == "M4+":
        agency = rng.choice(POLICY.outsourcing.agencies)
        add(
            Placed,
            NOW - 80 * DAY,
            agency=agency,
            hand="first",
            commission_rate=Decimal("0.20"),
            term_ends=NOW + rng.randint(1, 60) * DAY,
        )
    if rng.random() < 0.3:
        at = NOW - rng.randint(0, 29) * DAY
        add(PaymentReceived, at, reference=f"P{n}", amount=Decimal("150.00"),
            to_fees=Decimal("0"), to_interest=Decimal("0"), to_principal=Decimal("150.00"),
            unapplied=Decimal("0"), paid_on=at.date())  # fmt: skip
    summary = CaseSummary(
        account_id=row["account_id"], policy="cn-card", stage=STAGE_OF[bucket], bucket=bucket,
        dpd=rng.randint(1, 400), principal=Decimal(row["principal"]),
        interest=Decimal(row["interest"]), fees=Decimal(row["fees"]), agency=agency,
        hand="first" if agency else None, holds=[], charged_off=False, outcome=None,
        opened_at=opened, as_of=events[-1].at,
    )  # fmt: skip
    assert summary.principal + summary.interest + summary.fees == balance
    return events, summary


async def load_book(pool: asyncpg.Pool, cases: int) -> str:
    """The book; returns a debtor's mobile number to search for."""
    rng = random.Random(14)
    rows = list(sample_rows(cases, seed=14, as_of=TODAY))
    personal = ("debtor_name", "mobile", "home_phone", "work_phone", "national_id")
    await pool.executemany(
        "INSERT INTO placement_records (case_id, account_id, personal, facts, source_file,"
        " source_line) VALUES ($1, $2, $3, '{}', 'bench', $4)",
        [
            (f"case-{r['account_id']}", r["account_id"], {k: r[k] for k in personal if r.get(k)},
             i + 2)
            for i, r in enumerate(rows)
        ],
    )  # fmt: skip
    store = EventStore(pool)
    gate = asyncio.Semaphore(8)

    async def one(n: int, row: dict[str, str]) -> None:
        events, summary = story(n, row, rng)
        async with gate:
            await store.append(f"case-{row['account_id']}", events, summary)

    await asyncio.gather(*(one(n, row) for n, row in enumerate(rows)))
    return rows[len(rows) // 2]["mobile"]


async def timed(call: Callable[[], Awaitable[object]], n: int) -> tuple[float, float]:
    """p50 and p95 in milliseconds of `n` calls, after two warm-up calls."""
    for _ in range(2):
        await call()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        await call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), statistics.quantiles(times, n=20)[18]


async def measure(
    pool: asyncpg.Pool, phone: str, n: int
) -> list[tuple[str, tuple[float, float], tuple[float, float]]]:
    async with pool.acquire() as conn:
        await add_user(conn, "bench-manager", "manager", None, PASSWORD, NOW)
    services = Services(settings=Settings(), policy=POLICY, pool=pool, now=lambda: NOW)
    app = create_app(services.settings, services=services)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://console.bench") as web:
        login = await web.get("/login")
        token = _CSRF.search(login.text).group(1)  # type: ignore[union-attr]
        signed = await web.post(
            "/login", data={"username": "bench-manager", "password": PASSWORD, "csrf_token": token}
        )
        assert signed.status_code == 303, signed.text
        form = await web.get("/search")
        csrf = _CSRF.search(form.text).group(1)  # type: ignore[union-attr]

        async def get(path: str) -> None:
            response = await web.get(path)
            assert response.status_code == 200, (path, response.status_code)

        async def post_search() -> None:
            response = await web.post("/search", data={"term": phone, "csrf_token": csrf})
            assert response.status_code == 200 and "/cases/" in response.text

        async def bare(query: Callable[[Conn], Awaitable[object]]) -> None:
            async with pool.acquire() as conn:
                await query(conn)

        pages: list[tuple[str, Callable[[], Awaitable[None]], Callable[[], Awaitable[None]]]] = [
            ("/book", lambda: get("/book"),
             lambda: bare(lambda c: book(c, today=TODAY, timezone="Asia/Shanghai"))),
            ("/worklists", lambda: get("/worklists"),
             lambda: bare(lambda c: worklist_counts(c, today=TODAY, now=NOW, legal=LEGAL))),
        ]  # fmt: skip
        for name in WORKLISTS:
            sort, desc = WORKLISTS[name].default_sort
            pages.append((
                f"/worklists/{name}", lambda name=name: get(f"/worklists/{name}"),  # type: ignore[misc]
                lambda name=name, sort=sort, desc=desc: bare(  # type: ignore[misc]
                    lambda c: worklist(c, name, today=TODAY, now=NOW, legal=LEGAL, sort=sort,
                                       descending=desc, limit=50)),
            ))  # fmt: skip
        pages.append(
            ("POST /search (phone)", post_search, lambda: bare(lambda c: search(c, phone)))
        )
        return [
            (label, await timed(page, n), await timed(query, n)) for label, page, query in pages
        ]


async def main(cases: int, requests: int) -> None:
    with tempfile.TemporaryDirectory(prefix="console-bench-") as tmp:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        server = EmbeddedPostgres(Path(tmp) / "pg", port)
        (Path(tmp) / "pg").mkdir()
        await server.start()
        try:
            pool = await create_pool(server.url, max_size=10)
            try:
                await migrate(pool)
                start = time.perf_counter()
                phone = await load_book(pool, cases)
                events = await pool.fetchval("SELECT count(*) FROM case_events")
                print(f"book: {cases} open cases, {events} events, loaded in "
                      f"{time.perf_counter() - start:.0f} s through the EventStore")  # fmt: skip
                await pool.execute("ANALYZE")
                rows = await measure(pool, phone, requests)
            finally:
                await pool.close()
        finally:
            await server.stop()
    print(f"{requests} requests per page, milliseconds (target: page p95 <= 300)")
    print(f"{'page':<44} {'page p50':>9} {'page p95':>9} {'SQL p50':>9} {'SQL p95':>9}")
    for label, (p50, p95), (q50, q95) in rows:
        print(f"{label:<44} {p50:9.1f} {p95:9.1f} {q50:9.1f} {q95:9.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(main(args.cases, args.requests))
