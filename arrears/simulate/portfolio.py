"""`arrears simulate --portfolio FILE`: every case of a placement file simulated for some
months, in one process or several, and the portfolio report (CONTRACTS.md §2)."""

from __future__ import annotations

import contextlib
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from itertools import islice
from pathlib import Path
from typing import TypeVar

from arrears.errors import ArrearsError, UsageError
from arrears.intake.placement_file import read_placements
from arrears.policies import load_policy
from arrears.spawned import cores, process_pool
from domain.errors import DomainError
from domain.placement import PlacementRow
from domain.policy import Policy
from domain.portfolio import PortfolioReport, Tally, portfolio_report, simulate_accounts

#: Accounts per task of a `--jobs` run: big enough that sending the rows and the tally
#: back costs little beside simulating them, small enough to keep every process busy
#: to the end and the rows in flight few.
CHUNK = 50

T = TypeVar("T")


#: Refused rows named on stderr by line and reason; beyond these only the count.
NAMED_REFUSALS = 10


@dataclass
class Refusals:
    """What a portfolio run left out: rows the reader refused (counted, the first few
    named by line and reason, never by value), and placements the policy refused to open
    (counted by rule and reason)."""

    rows: int = 0
    named: list[str] = field(default_factory=list)
    not_opened: Counter[str] = field(default_factory=Counter)

    def lines(self, path: Path) -> list[str]:
        """One stderr line per kind of refusal."""
        said = []
        if self.rows:
            more = f"; {self.rows - len(self.named)} more" if self.rows > len(self.named) else ""
            said.append(
                f"{self.rows} rows of {path} were refused and left out: "
                + "; ".join(self.named)
                + more
            )
        if self.not_opened:
            reasons = "; ".join(f"{why} ({n})" for why, n in sorted(self.not_opened.items()))
            said.append(
                f"{sum(self.not_opened.values())} placements of {path} were refused by the "
                f"policy and left out: {reasons}"
            )
        return said


def placement_rows(path: Path, refusals: Refusals) -> Iterator[PlacementRow]:
    """The rows of a placement file the reader accepts, as it reads them; the others
    counted in `refusals` (the first few named by line and reason)."""
    for record in read_placements(path):
        if record.row is None:
            refusals.rows += 1
            if len(refusals.named) < NAMED_REFUSALS:
                why = ", ".join(f"{column}: {reason}" if column else reason
                                for column, reason in record.errors)  # fmt: skip
                refusals.named.append(f"line {record.line} ({why})")
            continue
        yield record.row


def run_portfolio(
    path: Path,
    months: int,
    seed: int,
    start: date,
    policy_name: str,
    jobs: int = 1,
    keep: Callable[[PlacementRow], bool] | None = None,
) -> tuple[PortfolioReport, Refusals]:
    """The report, and what was left out of it (`Refusals`); of the accounts `keep`
    accepts when it is given (one arm of a champion / challenger run).

    With `jobs` above 1 the accounts are simulated in that many processes, a chunk at a
    time, and their tallies merged: the report is the very one a single process gives
    (`domain.portfolio.Tally`). 0 means one process per core."""
    if months < 1:
        raise UsageError("--months must be at least 1")
    processes = processes_for(jobs)
    policy = load_policy(policy_name)
    refusals = Refusals()
    rows = placement_rows(path, refusals)
    if keep is not None:
        rows = (row for row in rows if keep(row))

    try:
        if processes == 1:
            tally = simulate_accounts(rows, start, months, seed, policy)
        else:
            tally = simulate_in_processes(rows, processes, start, months, seed, policy)
    except DomainError as err:
        raise ArrearsError(f"portfolio {path}: {err}") from None
    refusals.not_opened = tally.refused
    return portfolio_report(tally, policy), refusals


def processes_for(jobs: int) -> int:
    """The processes `--jobs` asks for: 0 is one per core."""
    if jobs < 0:
        raise UsageError("--jobs must be 0 (one per core) or more")
    return jobs or cores()


def simulate_in_processes(
    rows: Iterator[PlacementRow],
    processes: int,
    start: date,
    months: int,
    seed: int,
    policy: Policy,
) -> Tally:
    """`simulate_accounts` over chunks of `rows` in `processes` processes, the tallies
    merged in file order (any order gives the same report)."""
    total = Tally(start, months)
    work = partial(simulate_accounts, start=start, months=months, seed=seed, policy=policy)
    with chunk_pool(processes) as pool:
        for tally in in_chunks(pool, work, rows, processes):
            total.merge(tally)
    return total


@contextlib.contextmanager
def chunk_pool(processes: int) -> Iterator[ProcessPoolExecutor]:
    """A pool of `processes` spawned processes for `in_chunks`. On a refusal, Ctrl-C or
    SIGTERM the chunks not started yet are dropped, not simulated: leaving waits only
    for the chunks running (a fraction of a second each)."""
    with process_pool(processes) as pool:
        try:
            yield pool
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise


def in_chunks(
    pool: ProcessPoolExecutor,
    work: Callable[[list[PlacementRow]], T],
    rows: Iterator[PlacementRow],
    processes: int,
) -> Iterator[T]:
    """`work` of each chunk of `CHUNK` rows in the pool, the results in file order.

    At most two chunks per process are in flight, so a book of any size is read as it
    is simulated. The first of them are submitted now, not when the first result is
    asked for: they are simulated while the caller gets ready (`simulate --report`
    starts its scratch database meanwhile)."""
    chunks = _chunks(rows, CHUNK)
    in_flight = deque(pool.submit(work, chunk) for chunk in islice(chunks, 2 * processes))

    def results() -> Iterator[T]:
        while in_flight:
            done = in_flight.popleft().result()
            in_flight.extend(pool.submit(work, chunk) for chunk in islice(chunks, 1))
            yield done

    return results()


def _chunks(rows: Iterator[PlacementRow], size: int) -> Iterator[list[PlacementRow]]:
    while chunk := list(islice(rows, size)):
        yield chunk
