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
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

import asyncpg
from temporalio.client import Client, WorkflowQueryFailedError, WorkflowQueryRejectedError
from temporalio.service import RPCError

from arrears.cases.override import send_override
from arrears.errors import ArrearsError
from arrears.people.demo import demo_id
from domain.commands import PromiseToPay
from domain.events import Actor
from workflows.case import CaseWorkflow

#: An open case whose debtor was reached, with nothing running a promise or plan could
#: clash with (a dispute or a cease-contact request stops collection talk).
_REACHED = """
SELECT w.case_id FROM case_worklist w JOIN cases c USING (case_id)
 WHERE c.outcome IS NULL AND w.last_rpc_at IS NOT NULL
   AND w.promise_amount IS NULL AND w.plan_installments IS NULL
   AND NOT w.dispute_open AND NOT w.cease_contact
 ORDER BY random() LIMIT $1
"""

_QUERY_ERRORS = (WorkflowQueryFailedError, WorkflowQueryRejectedError)

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
            # A case that is far behind, closed or changed a moment ago does not answer or
            # refuses: the desk moves on (a demo, not a collector's queue).
            with contextlib.suppress(ArrearsError, RPCError, TimeoutError, *_QUERY_ERRORS):
                await _take_promise(client, row["case_id"], rng)


async def _take_promise(client: Client, case_id: str, rng: random.Random) -> None:
    """Ask the case for its business day and balance (each demo case runs its own fast
    business clock, so the read model's times are behind it), then send the promise."""
    handle = client.get_workflow_handle_for(CaseWorkflow.run, case_id)
    view = await handle.query(CaseWorkflow.view, rpc_timeout=timedelta(seconds=5))
    promise = demo_promise(view.state.total, view.business_now.date(), rng)
    if promise is not None:
        await send_override(client, case_id, promise, timeout=10)
