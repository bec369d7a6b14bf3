"""`arrears simulate --report / --challenger` run as the real console script: stdout,
stderr and the exit code an operator sees (CONTRACTS.md §3)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from arrears.simulate.book_rows import BookRun

#: The checkout these tests are in: `python -m arrears.cli` from there runs its code.
ROOT = Path(__file__).resolve().parents[3]


def arrears(*args: str | Path, database_url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not (k.startswith("ARREARS_") or k in ("TEMPORAL_ADDRESS", "DATABASE_URL"))
    }
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "arrears.cli", *map(str, args)], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def simulate(
    book: BookRun, *more: str, database_url: str | None = None
) -> subprocess.CompletedProcess[str]:
    return arrears(
        "simulate", "--portfolio", book.path, "--months", str(book.months),
        "--start", book.start.isoformat(), "--seed", str(book.seed), *more,
        database_url=database_url,
    )  # fmt: skip


@pytest.mark.parametrize(
    "options",
    [
        ["--challenger", "us-reg-f", "--split", "0"],
        ["--challenger", "us-reg-f", "--split", "1.5"],
        ["--challenger", "us-reg-f", "--split", "a fifth"],
        ["--challenger", "us-reg-f"],
        ["--split", "0.2"],
        ["--challenger", "no-such-profile", "--split", "0.2"],
        ["--policy", "no-such-profile"],
        ["--report", "no-such-report"],
        ["--report", "contacts", "--format", "xml"],
        ["--format", "table"],
    ],
)
def test_bad_options_end_with_one_line_and_exit_code_2(book: BookRun, options: list[str]) -> None:
    done = simulate(book, *options)

    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith("arrears: ")


def test_a_challenger_report_in_json_holds_each_arm_and_their_difference(
    book: BookRun, postgres_server_url: str
) -> None:
    done = simulate(
        book, "--policy", "cn-card", "--challenger", "us-reg-f", "--split", "0.4",
        "--report", "contacts", "--format", "json", database_url=postgres_server_url,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    champion, challenger = shown["arms"]["champion"], shown["arms"]["challenger"]
    assert (champion["arm"], challenger["arm"]) == ("champion", "challenger")
    assert shown["from"] == book.start.isoformat()

    def everything(report: dict[str, object]) -> dict[str, object]:
        return next(r for r in report["rows"] if r["channel"] == r["outcome"] == "all")  # type: ignore[attr-defined]

    difference = next(
        r for r in shown["difference"]["rows"] if r["channel"] == r["outcome"] == "all"
    )
    mine, theirs = everything(champion), everything(challenger)
    assert difference["attempts"] == theirs["attempts"] - mine["attempts"]  # type: ignore[operator]
    points = (Decimal(theirs["rpc_rate"]) - Decimal(mine["rpc_rate"])) * 100  # type: ignore[arg-type]
    assert Decimal(difference["rpc_rate"]) == points.quantize(Decimal("0.01"))


def test_a_challenger_run_without_a_report_prints_each_arms_portfolio_and_the_difference(
    book: BookRun,
) -> None:
    done = simulate(book, "--challenger", "us-reg-f", "--split", "0.4")

    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    champion, challenger = shown["arms"]["champion"], shown["arms"]["challenger"]
    assert champion["accounts"] + challenger["accounts"] == 40
    assert challenger["accounts"] > 0 and champion["accounts"] > 0
    assert shown["difference"]["accounts"] == challenger["accounts"] - champion["accounts"]
    recovered = Decimal(challenger["recovered"]) - Decimal(champion["recovered"])
    assert Decimal(shown["difference"]["recovered"]) == recovered
    cure = (Decimal(challenger["cure_rate"]) - Decimal(champion["cure_rate"])) * 100
    assert Decimal(shown["difference"]["cure_rate"]) == cure
