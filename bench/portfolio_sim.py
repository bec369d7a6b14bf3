"""Portfolio simulation throughput: account-cycles per second of `simulate_portfolio` (the
decider, its stepping loop and the seeded debtors of `arrears simulate --portfolio`),
beside a bare baseline measured in the same run.

    .venv/bin/python bench/portfolio_sim.py [--accounts 1000] [--months 12] [--repeat 5]

An account-cycle is one month of one open case (the report's `account_cycles`). The
sample book is `arrears.intake.sample` (seed 7) opened on 2026-03-01, read back through the
placement file reader; the debtors' seed is 1. Both are fixed, so every run does the same
work: the report's SHA-256 is printed to show it (it must not change when the decider is
made faster).

The bare baseline is the irreducible arithmetic of an account-cycle: a plain loop over the
same accounts and months computing each cycle's interest, over-limit fee, minimum and
late fee with Decimal (the policy's rates, half-up to the cent), with no decider, no
events and no contact plan. The ratio decider/baseline says how much of the bare rate the
whole policy keeps.

Rates are from the best of `--repeat` runs (wall time, one process, one core; the CPU
seconds are printed beside). Five by default: on a shared machine single runs of the
same work spread by about 7 % around their middle, and the best of five is steadier
than the best of three. Peak memory is measured in one more run under tracemalloc
(which slows it, so it is not timed), and the process's max RSS at the end.
Target (issue 15): at least 20,000 account-cycles/s (5,000 before). `--check` exits 1
below it (`make bench` does not pass it: the figures are for reading).

One more figure, beside the target: the same simulation in `--jobs` processes (default:
one per core) as `arrears simulate --portfolio --jobs` runs it (process starts included),
its speed-up over one process, and whether it gave the same report.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TypeVar

from arrears.intake.placement_file import read_placements
from arrears.intake.sample import write_sample
from arrears.simulate.portfolio import simulate_in_processes
from domain.placement import PlacementRow
from domain.policy import Policy
from domain.portfolio import PortfolioReport, portfolio_report, simulate_portfolio

TARGET = 20_000  # account-cycles per second, on one core (issue 15; 5,000 before)
START = date(2026, 3, 1)
SAMPLE_SEED = 7
DEBTOR_SEED = 1
CENT = Decimal("0.01")
T = TypeVar("T")


def bare_cycles(rows: list[PlacementRow], start: date, months: int, policy: Policy) -> int:
    """What every account-cycle must compute at least: interest on principal and
    capitalised interest for the cycle's days, the over-limit fee, the minimum and a
    late fee on it (as if unpaid), with Decimal, rounded half-up to the cent."""
    cycle = policy.cycle
    rate, ol_rate, ol_min = (
        cycle.daily_interest_rate,
        cycle.over_limit_fee_rate,
        cycle.over_limit_fee_minimum,
    )
    min_rate, late_rate, late_min = (
        cycle.minimum_payment_rate,
        cycle.late_fee_rate,
        cycle.late_fee_minimum,
    )
    count = 0
    for row in rows:
        principal, interest, fees, limit = row.principal, row.interest, row.fees, row.credit_limit
        year, month = start.year, start.month
        statement = date(year, month, row.statement_day)
        for _ in range(months):
            year, month = (year, month + 1) if month < 12 else (year + 1, 1)
            following = date(year, month, row.statement_day)
            days = (following - statement).days
            interest += ((principal + interest) * rate * days).quantize(CENT, ROUND_HALF_UP)
            total = principal + interest + fees
            if total > limit:
                fees += max(((total - limit) * ol_rate).quantize(CENT, ROUND_HALF_UP), ol_min)
                total = principal + interest + fees
            minimum = (total * min_rate).quantize(CENT, ROUND_HALF_UP)
            fees += max((minimum * late_rate).quantize(CENT, ROUND_HALF_UP), late_min)
            statement = following
            count += 1
    return count


def timed(fn: Callable[[], T], repeat: int) -> tuple[T, float, float]:
    """(result of the last run, best wall seconds, CPU seconds of that run)."""
    best = (float("inf"), 0.0)
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        best = min(best, (time.perf_counter() - wall, time.process_time() - cpu))
    return result, best[0], best[1]


def digest(report: PortfolioReport) -> str:
    return hashlib.sha256(report.model_dump_json().encode()).hexdigest()[:16]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=1_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs; the best counts")
    parser.add_argument("--check", action="store_true", help="exit 1 below the target")
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1,
        help="processes for the extra `--jobs` figure (default: the cores; 1: none)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.accounts < 1 or args.months < 1 or args.repeat < 1:
        parser.error("--accounts, --months and --repeat must be at least 1")
    policy = Policy()

    with tempfile.TemporaryDirectory(prefix="arrears-bench-portfolio-") as tmp:
        path = write_sample(
            Path(tmp) / "placement.csv", args.accounts, seed=SAMPLE_SEED, as_of=START
        )
        began = time.perf_counter()
        rows = [record.row for record in read_placements(path) if record.row is not None]
        read_seconds = time.perf_counter() - began
    if len(rows) != args.accounts:
        sys.exit(f"bench: {args.accounts - len(rows)} sample rows were refused")

    def run() -> PortfolioReport:
        return simulate_portfolio(rows, START, args.months, DEBTOR_SEED, policy)

    simulate_portfolio(rows[:20], START, args.months, DEBTOR_SEED, policy)  # warm-up
    digests = set()

    def run_and_note() -> PortfolioReport:
        report = run()
        digests.add(digest(report))
        return report

    report, seconds, cpu = timed(run_and_note, args.repeat)
    if len(digests) != 1:
        sys.exit(f"bench: the runs disagree ({sorted(digests)}): the simulation is not seeded")
    bare_count, bare_seconds, bare_cpu = timed(
        lambda: bare_cycles(rows, START, args.months, policy), max(args.repeat, 5)
    )

    def in_processes() -> PortfolioReport:
        tally = simulate_in_processes(
            iter(rows), args.jobs, START, args.months, DEBTOR_SEED, policy
        )
        return portfolio_report(tally, policy)

    jobs_result = timed(in_processes, args.repeat) if args.jobs > 1 else None
    tracemalloc.start()
    run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux

    cycles = report.account_cycles
    rate = cycles / seconds
    bare_rate = bare_count / bare_seconds
    print(
        f"machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"
    )
    print(
        f"accounts: {report.accounts} x {args.months} months from {START}, "
        f"read in {read_seconds:.2f} s (not timed below)"
    )
    print(f"report sha256: {next(iter(digests))}")
    print(
        f"decider:  {cycles} account-cycles in {seconds:.2f} s (CPU {cpu:.2f} s) "
        f"= {rate:,.0f} account-cycles/s (best of {args.repeat})"
    )
    print(
        f"baseline: {bare_count} account-cycles in {bare_seconds:.3f} s (CPU {bare_cpu:.3f} s) "
        f"= {bare_rate:,.0f} account-cycles/s (bare Decimal cycle arithmetic)"
    )
    print(f"ratio decider/baseline: {rate / bare_rate:.4f} (baseline is {bare_rate / rate:.0f}x)")
    print(
        f"peak memory: tracemalloc {peak / 1e6:.1f} MB (one simulation), "
        f"process max RSS {max_rss / 1024:.0f} MB"
    )
    if jobs_result is not None:
        jobs_report, jobs_seconds, _ = jobs_result
        same = "same report" if digest(jobs_report) in digests else "A DIFFERENT REPORT"
        print(
            f"--jobs {args.jobs}: {cycles / jobs_seconds:,.0f} account-cycles/s "
            f"({seconds / jobs_seconds:.2f}x one process, process starts included; {same})"
        )
    verdict = "PASS" if rate >= TARGET else "FAIL"
    print(f"target >= {TARGET:,} account-cycles/s on one core: {verdict}")
    return 1 if args.check and verdict == "FAIL" else 0


if __name__ == "__main__":
    sys.exit(main())
