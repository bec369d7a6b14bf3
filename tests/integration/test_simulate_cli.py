"""`arrears simulate` run as the real console script (CONTRACTS.md §2 and §3).

No server is needed: `--engine domain` runs the policy on a simulated clock. Each test
reads what an operator or a script would: stdout (JSON only), stderr, the exit code.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from arrears.intake.sample import write_sample

ARREARS = Path(sys.executable).parent / "arrears"
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"

TWO_DECIMALS = re.compile(r"\d+\.\d{2}")
RATE = re.compile(r"[01]\.\d{4}")
# Event fields that hold amounts of money (CONTRACTS §2: strings with two decimals).
AMOUNT_KEYS = frozenset(
    {
        "amount",
        "principal",
        "interest",
        "fees",
        "total",
        "balance",
        "credit_limit",
        "unpaid_minimum",
        "minimum",
        "minimum_due_total",
        "interest_bearing",
        "basis",
        "to_fees",
        "to_interest",
        "to_principal",
        "unapplied",
        "paid",
        "from_fees",
        "from_interest",
        "from_principal",
        "settlement_amount",
        "installment_amount",
    }
)
TIME_KEYS = frozenset({"at", "planned_at", "term_ends", "pause_until", "until"})


def run_arrears(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`arrears ARGS` with no inherited arrears configuration, as a fresh operator shell."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not (k.startswith("ARREARS_") or k in ("TEMPORAL_ADDRESS", "DATABASE_URL"))
    }
    return subprocess.run(
        [str(ARREARS), *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def account(**changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "account_id": "SIM-000001",
        "debtor_name": "Test Debtor",
        "mobile": "+8613900000001",
        "credit_limit": "5000.00",
        "principal": "1020.00",
        "interest": "10.00",
        "fees": "5.00",
        "statement_day": 10,
        "oldest_unpaid_due_date": "2026-03-02",
        "unpaid_minimum": "101.50",
    }
    row.update(changes)
    return row


def scenario(**changes: Any) -> dict[str, Any]:
    """Opened 2026-03-03, the day after the missed due date 2026-03-02 (statement day 10,
    20 days' grace: statement 2026-02-10). A payment of 150.00 on 2026-03-20."""
    data: dict[str, Any] = {
        "account": account(),
        "start": "2026-03-03",
        "horizon_days": 60,
        "profile": "cn-card",
        "payments": [{"date": "2026-03-20", "amount": "150.00", "reference": "P-1"}],
        "overrides": [],
        "contact_outcomes": {"default": "no_answer", "by_channel": {"sms": "delivered"}},
    }
    data.update(changes)
    return data


def write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def one_line_refusal(done: subprocess.CompletedProcess[str]) -> str:
    """Assert exit 2, nothing on stdout and exactly one line on stderr; return that line."""
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr[-2000:]
    return lines[0]


def amounts_and_times(value: object, key: str = "") -> tuple[list[str], list[str]]:
    """Every (key=value) amount that is not a two-decimal string, and every time without
    an offset, anywhere in a timeline."""
    bad_amounts: list[str] = []
    bad_times: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            more = amounts_and_times(v, k)
            bad_amounts += more[0]
            bad_times += more[1]
    elif isinstance(value, list):
        for item in value:
            more = amounts_and_times(item, key)
            bad_amounts += more[0]
            bad_times += more[1]
    elif value is not None:
        if key in AMOUNT_KEYS and not (isinstance(value, str) and TWO_DECIMALS.fullmatch(value)):
            bad_amounts.append(f"{key}={value!r}")
        if key in TIME_KEYS:
            try:
                parsed = datetime.fromisoformat(str(value))
            except ValueError:
                bad_times.append(f"{key}={value!r}")
            else:
                if parsed.utcoffset() is None:
                    bad_times.append(f"{key}={value!r}")
    return bad_amounts, bad_times


# --- one scenario ------------------------------------------------------------------------------


def test_a_scenario_prints_its_timeline_on_stdout_and_exits_0(tmp_path: Path) -> None:
    done = run_arrears("simulate", write_json(tmp_path / "s.json", scenario()), cwd=tmp_path)

    assert done.returncode == 0, done.stderr[-2000:]
    timeline = json.loads(done.stdout)  # stdout is the JSON and nothing else
    # Worked by hand (POLICY §1-2, cn-card):
    # 2026-03-10 statement: interest (1020.00 + 10.00) x 0.0005 x 7 days = 3.605 -> 3.61
    #   (half-up); balance 1020.00 + 13.61 + 5.00 = 1038.61; minimum 10 % = 103.861 -> 103.86,
    #   due together with the unpaid 101.50: 205.36. One statement since the missed due
    #   date: bucket M1, stage phone.
    # 2026-03-20 12:00 payment 150.00: fees 5.00, interest 13.61, principal 131.39; the
    #   past-due 101.50 is covered (the new minimum falls due only on 2026-03-30): cured.
    assert timeline["account_id"] == "SIM-000001"
    assert timeline["outcome"] == "cured"
    assert timeline["final"] == {
        "stage": "phone",
        "bucket": "M0",
        "dpd": 0,
        "balance": {
            "principal": "888.61",
            "interest": "0.00",
            "fees": "0.00",
            "total": "888.61",
        },
    }
    events = timeline["events"]
    by_type = {e["type"]: e for e in events}
    assert by_type["interest_charged"]["amount"] == "3.61"
    assert by_type["interest_charged"]["at"] == "2026-03-10T00:00:00+08:00"
    assert by_type["statement_issued"]["minimum"] == "103.86"
    assert by_type["statement_issued"]["minimum_due_total"] == "205.36"
    payment = by_type["payment_received"]
    assert payment["at"] == "2026-03-20T12:00:00+08:00"
    assert (payment["amount"], payment["to_fees"], payment["to_interest"]) == (
        "150.00",
        "5.00",
        "13.61",
    )
    assert payment["to_principal"] == "131.39"
    assert events[0]["type"] == "case_opened"
    assert events[-1]["type"] == "case_closed"
    assert events[-1]["outcome"] == "cured"
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))


SHIPPED = sorted(SCENARIOS.glob("*.json"))


def test_there_are_shipped_scenarios_to_check() -> None:
    assert len(SHIPPED) >= 3


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_a_shipped_scenario_prints_every_contract_key_with_amounts_times_and_seq_as_specified(
    tmp_path: Path, path: Path
) -> None:
    done = run_arrears("simulate", path, cwd=tmp_path)

    assert done.returncode == 0, done.stderr[-2000:]
    timeline = json.loads(done.stdout)
    given = json.loads(path.read_text("utf-8"))

    assert timeline["account_id"] == given["account"]["account_id"]
    assert timeline["outcome"] in {"cured", "settled", "closed", "written_off", "open"}
    final = timeline["final"]
    assert {"stage", "bucket", "dpd", "balance"} <= final.keys()
    assert final["stage"] in {"reminder", "phone", "letter", "visit", "outsourcing", "legal"}
    assert re.fullmatch(r"M[0-3]|M4\+", final["bucket"])
    assert isinstance(final["dpd"], int)
    assert final["dpd"] >= 0
    balance = final["balance"]
    assert {"principal", "interest", "fees", "total"} <= balance.keys()
    assert Decimal(balance["total"]) == sum(
        Decimal(balance[k]) for k in ("principal", "interest", "fees")
    )

    events = timeline["events"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert all(isinstance(e["type"], str) and e["type"] for e in events)
    assert events[0]["type"] == "case_opened"
    times = [datetime.fromisoformat(e["at"]) for e in events]
    assert times == sorted(times), "seq must follow business time"
    bad_amounts, bad_times = amounts_and_times(timeline)
    assert bad_amounts == []
    assert bad_times == []
    for event in events:
        if event["type"] == "fee_charged":
            assert event["kind"] in {"late", "over_limit"}
        if event["type"] == "contact_attempted":
            assert event["channel"] in {"sms", "call", "letter", "visit"}
            assert event["target"] in {"debtor", "contact", "home_address", "work_address"}
            assert event["outcome"]
        if event["type"] == "placed":
            assert event["agency"]
            assert event["hand"] in {"early", "first", "second", "third", "long_aged", "package"}
            assert re.fullmatch(r"0\.\d+", event["commission_rate"])


def test_the_temporal_engine_prints_the_domain_engines_timeline_and_nothing_on_stderr(
    tmp_path: Path,
) -> None:
    # CONTRACTS §2: the same timeline, byte for byte. This scenario's placement terms
    # cross a change of daylight saving in New York, where the two once differed.
    path = SCENARIOS / "placement_terms_across_dst.json"

    on_temporal = run_arrears("simulate", "--engine", "temporal", path, cwd=tmp_path)
    in_domain = run_arrears("simulate", path, cwd=tmp_path)

    assert on_temporal.returncode == 0, on_temporal.stderr[-2000:]
    assert on_temporal.stdout == in_domain.stdout
    assert on_temporal.stderr == ""  # the SDK's worker chatter is not for this reader


def test_a_payment_written_without_cents_is_printed_with_two_decimals(tmp_path: Path) -> None:
    data = scenario(payments=[{"date": "2026-03-20", "amount": "150", "reference": "P-1"}])

    done = run_arrears("simulate", write_json(tmp_path / "s.json", data), cwd=tmp_path)

    assert done.returncode == 0, done.stderr[-2000:]
    events = json.loads(done.stdout)["events"]
    (payment,) = [e for e in events if e["type"] == "payment_received"]
    assert payment["amount"] == "150.00"


def test_every_time_in_a_timeline_is_written_in_the_banks_zone(tmp_path: Path) -> None:
    # A debtor in Urumqi (UTC+6) called from M2 on, no payment: calls are planned at the
    # start of the debtor's contact window, SMS at times counted in days from an event.
    # However a time was computed, the timeline writes it in the bank's zone (UTC+8).
    data = scenario(account=account(timezone="Asia/Urumqi", principal="20000.00"), payments=[])

    done = run_arrears("simulate", write_json(tmp_path / "s.json", data), cwd=tmp_path)

    assert done.returncode == 0, done.stderr[-2000:]
    events = json.loads(done.stdout)["events"]
    planned: dict[str, str] = {}
    for e in events:
        if e["type"] == "contact_attempted":
            planned.setdefault(e["channel"], e["planned_at"])
    assert {"sms", "call"} <= planned.keys()
    times = [(e["type"], k, v) for e in events for k, v in e.items() if k in TIME_KEYS and v]
    assert [t for t in times if not t[2].endswith("+08:00")] == []
    # the first call: 08:00 in Urumqi is 10:00 in Shanghai
    assert planned["call"].endswith("T10:00:00+08:00")


# --- bad scenarios -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "must_say"),
    [
        pytest.param('{"account": ', r"JSON", id="not-json"),
        pytest.param("[1, 2]", r"object", id="not-an-object"),
        pytest.param(
            json.dumps({k: v for k, v in scenario().items() if k != "account"}),
            r"account",
            id="missing-account",
        ),
        pytest.param(
            json.dumps(scenario(profile="no-such-profile")),
            r"no-such-profile",
            id="unknown-profile",
        ),
        pytest.param(json.dumps(scenario(horizon_days=0)), r"horizon_days", id="zero-horizon"),
        pytest.param(
            json.dumps(
                scenario(payments=[{"date": "2026-03-20", "amount": "150.005", "reference": "P"}])
            ),
            r"amount|payment",
            id="payment-with-a-fraction-of-a-cent",
        ),
    ],
)
def test_a_bad_scenario_file_is_refused_with_one_line_on_stderr_and_exit_2(
    tmp_path: Path, content: str, must_say: str
) -> None:
    path = tmp_path / "bad-scenario.json"
    path.write_text(content, encoding="utf-8")

    line = one_line_refusal(run_arrears("simulate", path, cwd=tmp_path))

    assert line.startswith("arrears: ")
    assert re.search(must_say, line), line


def test_a_missing_scenario_file_is_refused_with_exit_2(tmp_path: Path) -> None:
    line = one_line_refusal(run_arrears("simulate", tmp_path / "nowhere.json", cwd=tmp_path))

    assert "nowhere.json" in line


def test_a_bad_phone_in_the_account_is_refused_without_repeating_the_number(
    tmp_path: Path,
) -> None:
    phone = "+86 139 8765 4321 0987"  # 19 digits: too long for E.164
    data = scenario(account=account(mobile=phone))

    line = one_line_refusal(
        run_arrears("simulate", write_json(tmp_path / "s.json", data), cwd=tmp_path)
    )

    assert "mobile" in line
    assert phone not in line
    assert "8765" not in line
    assert "4321" not in line


def test_an_unknown_engine_is_refused_with_exit_2(tmp_path: Path) -> None:
    path = write_json(tmp_path / "s.json", scenario())

    line = one_line_refusal(run_arrears("simulate", path, "--engine", "quantum", cwd=tmp_path))

    assert "quantum" in line


@pytest.mark.parametrize(
    "args",
    [pytest.param((), id="neither"), pytest.param(("both",), id="both")],
)
def test_simulate_needs_exactly_one_of_a_scenario_or_a_portfolio(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    extra: list[str | Path] = []
    if args:
        sample = write_sample(tmp_path / "p.csv", 3, as_of=date(2026, 3, 1))
        extra = [write_json(tmp_path / "s.json", scenario()), "--portfolio", sample]

    done = run_arrears("simulate", *extra, cwd=tmp_path)

    assert done.returncode == 2
    assert done.stdout == ""


# --- portfolio -----------------------------------------------------------------------------------

MONTHS = 4
START = "2026-03-01"


@pytest.fixture
def portfolio_file(tmp_path: Path) -> Path:
    return write_sample(tmp_path / "placements.csv", 30, as_of=date(2026, 3, 1))


def portfolio(
    path: Path,
    cwd: Path,
    *,
    seed: int = 11,
    months: int = MONTHS,
    start: str = START,
    jobs: int = 1,
) -> subprocess.CompletedProcess[str]:
    return run_arrears(
        "simulate", "--portfolio", path, "--months", str(months), "--seed", str(seed),
        "--start", start, "--jobs", str(jobs), cwd=cwd,
    )  # fmt: skip


def rewrite_rows(path: Path, change: Callable[[list[dict[str, str]]], None]) -> Path:
    """The placement CSV at `path` with `change` applied to its rows, in place."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    change(rows)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_a_portfolio_run_prints_a_report_covering_every_account_and_month(
    tmp_path: Path, portfolio_file: Path
) -> None:
    done = portfolio(portfolio_file, tmp_path, seed=11)

    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["accounts"] == 30
    months = report["months"]
    assert [m["month"] for m in months] == [1, 2, 3, 4]
    assert [m["as_of"] for m in months] == ["2026-04-01", "2026-05-01", "2026-06-01", "2026-07-01"]
    for month in months:
        assert sum(month["accounts"].values()) == 30, month  # every account is somewhere
        assert all(TWO_DECIMALS.fullmatch(v) for v in month["balance"].values()), month

    with portfolio_file.open(encoding="utf-8", newline="") as handle:
        opening = sum(
            Decimal(r["principal"]) + Decimal(r["interest"]) + Decimal(r["fees"])
            for r in csv.DictReader(handle)
        )
    assert report["opening_balance"] == f"{opening:.2f}"

    assert sum(report["outcomes"].values()) == 30
    cured = Decimal(report["outcomes"].get("cured", 0))
    assert report["cure_rate"] == f"{(cured / 30).quantize(Decimal('0.0001'))}"
    recovered = Decimal(report["recovered"])
    assert report["recovery_rate"] == f"{(recovered / opening).quantize(Decimal('0.0001'))}"

    roll_rates = report["roll_rates"]
    assert roll_rates  # 30 accounts from M0 to M4+: some month ends in each bucket
    assert set(roll_rates) <= {"M0->M1", "M1->M2", "M2->M3", "M3->M4+"}
    assert all(RATE.fullmatch(r) and Decimal(r) <= 1 for r in roll_rates.values()), roll_rates
    assert RATE.fullmatch(report["cure_rate"])
    assert RATE.fullmatch(report["recovery_rate"])

    attempts = report["contact_attempts"]
    assert set(attempts) <= {"sms", "call", "letter", "visit"}
    assert all(isinstance(n, int) for n in attempts.values())
    assert sum(attempts.values()) > 0


def test_a_portfolio_run_is_reproducible_from_its_seed(
    tmp_path: Path, portfolio_file: Path
) -> None:
    first = portfolio(portfolio_file, tmp_path, seed=11)
    again = portfolio(portfolio_file, tmp_path, seed=11)
    other = portfolio(portfolio_file, tmp_path, seed=12)

    assert (first.returncode, again.returncode, other.returncode) == (0, 0, 0)
    assert first.stdout == again.stdout
    assert json.loads(other.stdout)["accounts"] == 30
    assert other.stdout != first.stdout


def test_a_portfolio_needs_at_least_one_month(tmp_path: Path, portfolio_file: Path) -> None:
    done = portfolio(portfolio_file, tmp_path, months=0)

    line = one_line_refusal(done)
    assert "months" in line


def test_a_portfolio_file_that_is_not_a_placement_file_is_refused_with_exit_2(
    tmp_path: Path,
) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("these are not cases\n", encoding="utf-8")

    line = one_line_refusal(portfolio(path, tmp_path, months=1))
    assert "notes.txt" in line


# --- portfolio in several processes ----------------------------------------------------------


@pytest.fixture
def big_portfolio_file(tmp_path: Path) -> Path:
    """More accounts than one `--jobs` chunk holds (`arrears.simulate.portfolio.CHUNK`), and one
    row the reader refuses, so the processes share the work and the refusal is counted."""
    path = write_sample(tmp_path / "book.csv", 450, as_of=date(2026, 3, 1))

    def spoil(rows: list[dict[str, str]]) -> None:
        rows[17]["principal"] = "12.345"  # a fraction of a cent: refused, not rounded

    return rewrite_rows(path, spoil)


def portfolio_in(
    path: Path, jobs: int, cwd: Path, start: str = START
) -> subprocess.CompletedProcess[str]:
    return portfolio(path, cwd, months=2, start=start, jobs=jobs)


def test_a_portfolio_simulated_in_several_processes_gives_the_report_of_one(
    tmp_path: Path, big_portfolio_file: Path
) -> None:
    one = portfolio_in(big_portfolio_file, 1, tmp_path)
    two = portfolio_in(big_portfolio_file, 2, tmp_path)
    per_core = portfolio_in(big_portfolio_file, 0, tmp_path)

    assert (one.returncode, two.returncode, per_core.returncode) == (0, 0, 0), two.stderr[-2000:]
    assert json.loads(one.stdout)["accounts"] == 449
    assert two.stdout == one.stdout and per_core.stdout == one.stdout
    assert two.stderr == one.stderr == per_core.stderr
    assert (
        f"arrears: 1 rows of {big_portfolio_file} were refused and left out: line 19 (principal:"
        in one.stderr
    )


def test_placements_the_policy_refuses_are_left_out_and_counted_in_any_number_of_processes(
    tmp_path: Path, big_portfolio_file: Path
) -> None:
    # Opened before some accounts' oldest unpaid due dates: the decider refuses those.
    one = portfolio_in(big_portfolio_file, 1, tmp_path, start="2025-10-01")
    two = portfolio_in(big_portfolio_file, 2, tmp_path, start="2025-10-01")

    assert one.returncode == two.returncode == 0, one.stderr[-2000:]
    assert two.stdout == one.stdout and two.stderr == one.stderr
    simulated = json.loads(one.stdout)["accounts"]
    line = next(x for x in one.stderr.splitlines() if "refused by the policy" in x)
    counted = re.search(r"arrears: (\d+) placements", line)
    assert counted, line
    left_out = int(counted.group(1))
    assert simulated > 0 and left_out > 0 and simulated + left_out == 449
    assert f"the oldest unpaid due date must be before the day the case opens ({left_out})" in line


def test_a_negative_number_of_jobs_is_refused(tmp_path: Path, portfolio_file: Path) -> None:
    line = one_line_refusal(portfolio_in(portfolio_file, -1, tmp_path))
    assert "--jobs" in line


def test_refused_rows_are_named_by_line_and_reason_the_first_ten_of_them(
    tmp_path: Path, portfolio_file: Path
) -> None:
    def spoil(rows: list[dict[str, str]]) -> None:
        for row in rows[:12]:
            row["statement_day"] = "31"  # POLICY §2: 1-28

    rewrite_rows(portfolio_file, spoil)

    done = portfolio_in(portfolio_file, 1, tmp_path)

    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["accounts"] == 18
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"arrears: 12 rows of {portfolio_file} were refused and left out: ")
    named = re.findall(r"line (\d+) \(statement_day: ", line)
    assert named == [str(n) for n in range(2, 12)] and line.endswith("; 2 more")
