"""`arrears simulate --portfolio FILE`: every case of a placement file simulated for some
months, in one process or several, and the portfolio report (CONTRACTS.md §2)."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from pathlib import Path

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
    if jobs < 0:
        raise UsageError("--jobs must be 0 (one per core) or more")
    policy = load_policy(policy_name)
    refusals = Refusals()
    rows = placement_rows(path, refusals)
    if keep is not None:
        rows = (row for row in rows if keep(row))

    processes = jobs or cores()
    try:
        if processes == 1:
            tally = simulate_accounts(rows, start, months, seed, policy)
        else:
            tally = simulate_in_processes(rows, processes, start, months, seed, policy)
    except DomainError as err:
        raise ArrearsError(f"portfolio {path}: {err}") from None
    refusals.not_opened = tally.refused
    return portfolio_report(tally, policy), refusals


def simulate_in_processes(
    rows: Iterator[PlacementRow],
    processes: int,
    start: date,
    months: int,
    seed: int,
    policy: Policy,
) -> Tally:
    """`simulate_accounts` over chunks of `rows` in `processes` processes. At most two
    chunks per process are in flight, so a book of any size is read as it is simulated;
    the tallies are merged in file order (any order gives the same report)."""
    total = Tally(start, months)
    in_flight: deque[Future[Tally]] = deque()
    with process_pool(processes) as pool:
        try:
            for chunk in _chunks(rows, CHUNK):
                in_flight.append(pool.submit(simulate_accounts, chunk, start, months, seed, policy))
                if len(in_flight) >= 2 * processes:
                    total.merge(in_flight.popleft().result())
            while in_flight:
                total.merge(in_flight.popleft().result())
        except BaseException:
            # A refusal or Ctrl-C: the chunks not started yet are dropped, not simulated.
            pool.shutdown(cancel_futures=True)
            raise
    return total


def _chunks(rows: Iterator[PlacementRow], size: int) -> Iterator[list[PlacementRow]]:
    while chunk := list(islice(rows, size)):
        yield chunk
