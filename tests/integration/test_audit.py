"""`arrears audit`: cases run on the real stack verify clean; a tampered event, a lost
contact attempt, or code that now decides differently each make it exit 1, naming the
case and the problem."""

from __future__ import annotations

import asyncio
import json
import signal
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import psutil
import pytest

from arrears.audit.case import audit_case
from arrears.audit.histories import read_history
from arrears.intake.csv_forms import placement_row
from arrears.intake.sample import sample_rows
from arrears.settings import Settings
from arrears.stack.temporal import connect
from tests.integration.conftest import ARREARS, StackEnv, run_arrears, run_cases_for

pytestmark = pytest.mark.integration
HISTORIES = sorted((Path(__file__).parents[1] / "histories").glob("*.run-*.json"))


async def test_the_golden_histories_verify_with_arrears_audit_history(stack_env: StackEnv) -> None:
    code, out, err = await run_arrears(
        "audit",
        "--history",
        *map(str, HISTORIES),
        "--format",
        "json",
        "--timeline",
        env=stack_env.as_env(),
    )
    assert code == 0, err
    report = json.loads(out)
    cases = {p.name.split(".run-")[0] for p in HISTORIES}
    assert len(report) == len(cases) >= 3 and all(case["verified"] for case in report)
    assert all(case["timeline"]["events"][0]["type"] == "case_opened" for case in report)

    code, out_in_two, err = await run_arrears(
        "audit", "--history", *map(str, HISTORIES), "--format", "json", "--timeline",
        "--jobs", "2", env=stack_env.as_env(),
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out_in_two) == report  # the same cases, verdicts and timelines, in order


async def test_code_that_decides_differently_fails_the_replay(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import domain.loop

    runs = [read_history(p) for p in HISTORIES if p.name.startswith("golden-promise_broken")]
    # the case loop as a changed contact plan would run it: no attempt is ever due
    monkeypatch.setattr(domain.loop, "first_due", lambda state, now, policy: None)
    audit = await audit_case("golden-promise_broken", runs, None)
    assert any("does not replay on the current code" in p for p in audit.problems)


async def test_cases_verify_clean_and_tampering_or_a_lost_attempt_is_named(
    spawn, stack_env: StackEnv
) -> None:
    up = await spawn("up", env=stack_env.as_env())
    await up.wait_for_line(r"^Ready\.")
    pg_url = (await up.wait_for_line(r"^PostgreSQL: (\S+)")).group(1)
    queue = f"audit-{uuid.uuid4().hex[:6]}"
    env = stack_env.as_env() | {"ARREARS_TASK_QUEUE": queue}
    await spawn("worker", env=env)
    settings = Settings(temporal_port=stack_env.temporal_port, task_queue=queue)
    client = await connect(settings)
    origin = datetime.now(UTC)
    rows = [placement_row(r) for r in sample_rows(6, seed=5, as_of=origin.date())]
    # And one that must end in legal: far past due, above the legal threshold.
    legal = next(sample_rows(1, seed=6, as_of=origin.date()))
    legal |= {
        "account_id": "AUDIT-LEGAL-1",
        "principal": "60000.00",
        "credit_limit": "60000.00",
        "unpaid_minimum": "6000.00",
        "oldest_unpaid_due_date": (origin.date() - timedelta(days=100)).isoformat(),
    }
    rows.append(placement_row(legal))
    await run_cases_for(client, queue, rows, origin, days=330)
    ids = [row.case_id for row in rows]

    code, out, err = await run_arrears("audit", *ids, "--format", "json", "--timeline", env=env)
    assert code == 0, out + err
    report = json.loads(out)
    assert [c["verified"] for c in report] == [True] * len(ids)
    stages = {
        e["stage"] for c in report for e in c["timeline"]["events"] if e["type"] == "stage_changed"
    }
    assert len(stages) >= 3  # the cases went through several stages

    conn = await asyncpg.connect(pg_url)
    try:
        # Tampering needs the table owner to switch the append-only trigger off.
        tampered = await conn.fetchrow(
            "SELECT case_id, seq FROM case_events WHERE type = 'interest_charged' LIMIT 1"
        )
        await conn.execute("ALTER TABLE case_events DISABLE TRIGGER case_events_append_only")
        await conn.execute(
            "UPDATE case_events SET payload = jsonb_set(payload, '{amount}', '\"0.01\"')"
            " WHERE case_id = $1 AND seq = $2",
            tampered["case_id"], tampered["seq"],
        )  # fmt: skip
        await conn.execute("ALTER TABLE case_events ENABLE TRIGGER case_events_append_only")
        lost = await conn.fetchrow(
            "SELECT case_id, seq FROM contact_attempts WHERE case_id <> $1 LIMIT 1",
            tampered["case_id"],
        )
        await conn.execute(
            "DELETE FROM contact_attempts WHERE case_id = $1 AND seq = $2",
            lost["case_id"],
            lost["seq"],
        )
    finally:
        await conn.close()

    code, out, err = await run_arrears("audit", *ids, "--format", "json", env=env)
    assert code == 1
    problems = {c["case_id"]: c["problems"] for c in json.loads(out)}
    assert f"event {tampered['seq']} content does not match its hash" in " ".join(
        problems[tampered["case_id"]]
    )
    assert (
        f"contact attempt {lost['seq']} is missing from contact_attempts"
        in problems[lost["case_id"]]
    )
    untouched = set(ids) - {tampered["case_id"], lost["case_id"]}
    assert all(problems[case_id] == [] for case_id in untouched)


def copies_of_the_live_history(folder: Path, cases: int) -> list[str]:
    """The golden `live` case's run files, `cases` times over under different names."""
    written = []
    for n in range(cases):
        for path in HISTORIES:
            if path.name.startswith("golden-live"):
                copy = folder / f"case{n}.{path.name.split('.', 1)[1]}"
                copy.write_bytes(path.read_bytes())
                written.append(str(copy))
    return written


async def test_ctrl_c_stops_an_audit_in_processes_and_every_process_it_started(
    tmp_path: Path,
) -> None:
    files = copies_of_the_live_history(tmp_path, 24)  # far more than is done before Ctrl-C
    process = await asyncio.create_subprocess_exec(
        ARREARS, "audit", "--history", *files,
        "--jobs", "2", "--format", "jsonl",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        # An interactive shell's Ctrl-C, even when the tests run where SIGINT is ignored.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    first = await asyncio.wait_for(process.stdout.readline(), 120)  # the processes are working
    assert json.loads(first)["verdict"] == "verified"
    started = psutil.Process(process.pid).children(recursive=True)

    process.send_signal(signal.SIGINT)
    rest, err = await asyncio.wait_for(process.communicate(), 60)

    assert process.returncode == 130
    assert err.decode().strip() == "arrears: audit interrupted"
    assert len(rest.splitlines()) < 23  # it stopped, it did not finish
    assert not [p for p in started if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
