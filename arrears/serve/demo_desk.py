"""The demo's stand-in collection desk: `make run` has no people working the book, so
without this the promises and overrides reports, the "promises due" worklists and the
promise lines of the Book would stay empty on the sample book. Now and then the demo
collector takes a promise to pay from a debtor reached on the phone, through the same
override path as the console and `arrears override` (the case workflow checks it
against POLICY §6 and records it with the actor), and the payments feed keeps some of
the promises. Nothing here runs outside `arrears run`'s demo.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal

import asyncpg
from temporalio.client import Client

from arrears.cases.override import send_override
from arrears.errors import ArrearsError
from arrears.people.demo import demo_id
from domain.commands import PromiseToPay
from domain.events import Actor

#: An open case whose debtor was reached, with nothing running a promise or plan could
#: clash with (a dispute or a cease-contact request stops collection talk), and the
#: business time of its latest event: the desk's "today" for that case (each demo case
#: runs its own fast business clock).
_REACHED = """
SELECT w.case_id, c.balance,
       (SELECT max(e.at) FROM case_events e WHERE e.case_id = w.case_id) AS at
  FROM case_worklist w JOIN cases c USING (case_id)
 WHERE c.outcome IS NULL AND w.last_rpc_at IS NOT NULL
   AND w.promise_amount IS NULL AND w.plan_installments IS NULL
   AND NOT w.dispute_open AND NOT w.cease_contact
 ORDER BY random() LIMIT $1
"""

#: Cases with a promise running: the payments feed pays some of them in full.
PROMISED = """
SELECT case_id, promise_amount FROM case_worklist
 WHERE promise_amount IS NOT NULL AND outcome IS NULL
 ORDER BY random() LIMIT $1
"""


def demo_promise(balance: Decimal, today: date, rng: random.Random) -> PromiseToPay | None:
    """A promise a reached debtor might make: part or all of the balance, within one to
    two weeks (inside POLICY §6's 30 days ahead, and after today even if the case's
    business day has moved on by the time the override arrives). None for a case with
    nothing left to promise."""
    share = Decimal(rng.choice((30, 50, 100))) / 100
    amount = (balance * share).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    if amount <= 0:
        return None
    return PromiseToPay(
        actor=Actor(id=demo_id("collector"), role="collector"),
        reason="demo desk: promised on a call",
        amount=amount,
        date=today + timedelta(days=rng.randint(7, 14)),
    )


async def demo_desk(
    client: Client, pool: asyncpg.Pool, stop: asyncio.Event, seed: int = 11, every: float = 6.0
) -> None:
    """Until `stop`: every `every` seconds, maybe take one promise on a reached case."""
    rng = random.Random(seed)
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
        if stop.is_set() or rng.random() < 0.3:
            continue
        for row in await pool.fetch(_REACHED, 1):
            at: datetime | None = row["at"]
            promise = at and demo_promise(Decimal(row["balance"]), at.date(), rng)
            if not promise:
                continue
            # A case that closed or changed a moment ago refuses it: the desk moves on.
            with contextlib.suppress(ArrearsError):
                await send_override(client, row["case_id"], promise)
