"""The console bench's book: `cases` open cases with their stories, projected as in
production, and a personal-data access log, for `console_latency.py`.

Each case is a sample-generator row (its placement record with personal data, for Search
and the case page) and a story appended through the real `EventStore` (so every read
model is projected as in production): contact attempts, and for some cases a promise (due
today, or broken), a plan (running, or missed), a dispute or cease-contact hold, a
placement with an agency (its term ending soon or not), payments, and overrides given by
a handful of staff (applied, and some refused), for the Audit page. The access log gets a
row per view of a case's contact data by those staff over the last month.
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg

from arrears.crypto.vault import PersonalVault
from arrears.intake.sample import sample_rows
from arrears.people.access_log import record_view
from arrears.people.users import User, add_user
from arrears.policies import load_policy
from arrears.store.events import EventStore
from arrears.store.read_models import CaseSummary
from domain.events import (
    AccountFacts,
    Actor,
    CaseOpened,
    ContactAttempted,
    Event,
    HoldStarted,
    OverrideApplied,
    OverrideRejected,
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
PASSWORD = "bench password, long enough"
#: The bench's people: who signs in to the pages, and who gave the book's overrides and
#: looked at its contact data (ids, as overrides and the access log record them).
STAFF = {
    "bench-manager": "manager", "bench-supervisor": "supervisor", "bench-auditor": "auditor",
    **{f"bench-collector-{n}": "collector" for n in range(1, 6)},
}  # fmt: skip
GIVERS = [user for user, role in STAFF.items() if role in ("collector", "supervisor")]
#: Override kinds with the arguments their events carry (the CLI's option names).
OVERRIDES = {
    "promise_to_pay": {"amount": "300.00", "date": "2026-06-20"},
    "pause": {"until": "2026-06-15"},
    "waiver": {"amount": "50.00"},
    "dispute_open": {},
    "settlement": {"amount": "4000.00"},
}
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
    for _ in range(rng.choice([0, 0, 0, 1, 1, 2])):
        kind = rng.choice(list(OVERRIDES))
        actor = rng.choice(GIVERS)
        fields = {"override": kind, "actor": Actor(id=actor, role=STAFF[actor]), "reason": "bench"}
        if kind == "settlement" and STAFF[actor] == "collector":
            add(OverrideRejected, NOW - rng.randint(0, 40) * DAY, **fields, rule="authority",
                message="a settlement needs a supervisor")  # fmt: skip
        else:
            add(OverrideApplied, NOW - rng.randint(0, 40) * DAY, **fields, args=OVERRIDES[kind])
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


async def add_staff(pool: asyncpg.Pool) -> dict[str, User]:
    async with pool.acquire() as conn:
        return {u: await add_user(conn, u, role, None, PASSWORD, NOW) for u, role in STAFF.items()}


async def record_views(pool: asyncpg.Pool, staff: dict[str, User], views: int) -> None:
    """`views` lines of the access log: the givers looking at cases over the last 30 days."""
    rng = random.Random(15)
    case_ids = [r["case_id"] for r in await pool.fetch("SELECT case_id FROM cases")]
    gate = asyncio.Semaphore(8)

    async def one() -> None:
        viewer = staff[rng.choice(GIVERS)]
        at = NOW - timedelta(minutes=rng.randint(0, 30 * 24 * 60))
        async with gate, pool.acquire() as conn:
            await record_view(conn, viewer, rng.choice(case_ids), "contact", at)

    await asyncio.gather(*(one() for _ in range(views)))


async def load_book(pool: asyncpg.Pool, cases: int, vault: PersonalVault) -> str:
    """The book (the staff must exist: the access log names them), personal data sealed
    as the importer seals it; returns a debtor's mobile number to search for."""
    rng = random.Random(14)
    rows = list(sample_rows(cases, seed=14, as_of=TODAY))
    personal = ("debtor_name", "mobile", "home_phone", "work_phone", "national_id")
    async with pool.acquire() as conn:
        await vault.lookup_key(conn)
        for start in range(0, len(rows), 1000):
            batch = list(enumerate(rows))[start : start + 1000]
            async with conn.transaction():
                sealed = [
                    await vault.seal_new(conn, f"case-{r['account_id']}",
                                         {k: r[k] for k in personal if r.get(k)})
                    for _, r in batch
                ]  # fmt: skip
                await conn.executemany(
                    "INSERT INTO placement_records (case_id, account_id, personal_sealed,"
                    " name_hash, facts, source_file, source_line)"
                    " VALUES ($1, $2, $3, $4, '{}', 'bench', $5)",
                    [(s.case_id, r["account_id"], s.personal_sealed, s.name_hash, i + 2)
                     for s, (i, r) in zip(sealed, batch, strict=True)],
                )  # fmt: skip
                await vault.keep(conn, sealed)
    store = EventStore(pool)
    gate = asyncio.Semaphore(8)

    async def one(n: int, row: dict[str, str]) -> None:
        events, summary = story(n, row, rng)
        async with gate:
            await store.append(f"case-{row['account_id']}", events, summary)

    await asyncio.gather(*(one(n, row) for n, row in enumerate(rows)))
    return rows[len(rows) // 2]["mobile"]
