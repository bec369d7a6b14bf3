"""`arrears import` on the real stack: every good row started once, every bad row
rejected with its line and column (never its value), re-import starts nothing."""

from __future__ import annotations

import base64
import csv
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from temporalio.service import RPCError

from arrears.crypto import keyring
from arrears.crypto.vault import PersonalVault
from arrears.intake.sample import COLUMNS
from arrears.settings import Settings
from arrears.stack.temporal import connect
from arrears.store.db import create_pool
from tests.integration.conftest import ArrearsProcess, StackEnv, run_arrears
from tests.stored_cases import add_case, raw_bytes

pytestmark = pytest.mark.integration

GOOD = {
    "debtor_name": "王伟", "national_id": "440524188001010014", "mobile": "13912345678",
    "home_phone": "", "work_phone": "", "home_address": "北京市朝阳区1号", "work_address": "",
    "contacts": "李娜:spouse:13700001111", "timezone": "Asia/Shanghai", "credit_limit": "20000.00",
    "principal": "9000.00", "interest": "200.00", "fees": "40.00", "statement_day": "10",
    "grace_days": "20", "oldest_unpaid_due_date": "2026-02-28", "unpaid_minimum": "900.00",
    "segment": "standard", "flags": "",
}  # fmt: skip

# (what is wrong, the cells that make it wrong, the column the report must name)
BAD_ROWS: list[tuple[str, dict[str, str], str]] = [
    ("account id with a forbidden character", {"account_id": "ACC_0001!"}, "account_id"),
    ("account id too short", {"account_id": "A1"}, "account_id"),
    ("empty debtor name", {"debtor_name": ""}, "debtor_name"),
    ("national id with a wrong check digit", {"national_id": "440524188001010015"}, "national_id"),
    ("mobile that is not a phone number", {"mobile": "call me maybe"}, "mobile"),
    ("no phone at all", {"mobile": ""}, "mobile"),
    ("contact without a phone", {"contacts": "李娜:spouse"}, "contacts"),
    ("unknown time zone", {"timezone": "Asia/Atlantis"}, "timezone"),
    ("negative principal", {"principal": "-1.00"}, "principal"),
    ("fees with a fraction of a cent", {"fees": "40.005"}, "fees"),
    ("credit limit that is not a number", {"credit_limit": "lots"}, "credit_limit"),
    ("statement day 29", {"statement_day": "29"}, "statement_day"),
    ("negative grace days", {"grace_days": "-1"}, "grace_days"),
    ("impossible due date", {"oldest_unpaid_due_date": "2026-02-30"}, "oldest_unpaid_due_date"),
    ("zero unpaid minimum", {"unpaid_minimum": "0.00"}, "unpaid_minimum"),
    ("unknown flag", {"flags": "vip"}, "flags"),
    ("huge field", {"debtor_name": "名" * 300_000}, "debtor_name"),
]  # fmt: skip
GOOD_ROWS = 10


def _write_file(path: Path, prefix: str) -> tuple[list[str], dict[int, str]]:
    """The placement file; returns the good account ids and {line: expected column}."""
    expected: dict[int, str] = {}
    good: list[str] = []
    lines: list[bytes] = []
    header = ",".join(COLUMNS).encode()

    def cells(account: str, **changes: str) -> bytes:
        row = {**GOOD, "account_id": account, **changes}
        out: list[str] = []
        writer = csv.writer(_Collect(out))
        writer.writerow([row[c] for c in COLUMNS])
        return "".join(out).rstrip("\r\n").encode()

    for n in range(GOOD_ROWS):
        good.append(f"{prefix}{n:04d}")
        lines.append(cells(good[-1]))
    for n, (_, changes, column) in enumerate(BAD_ROWS):
        lines.append(cells(f"{prefix}B{n:03d}", **changes))
        expected[len(lines) + 1] = column
    lines.append(cells(good[0]))  # the same account again, later in the file
    expected[len(lines) + 1] = "account_id"
    lines.append(cells(f"{prefix}UTF8").replace("王伟".encode(), b"\xff\xfe"))  # not UTF-8
    expected[len(lines) + 1] = ""
    lines.append(cells(f"{prefix}RAGGED") + b",one-too-many")
    expected[len(lines) + 1] = ""
    path.write_bytes(b"\xef\xbb\xbf" + header + b"\r\n" + b"\r\n".join(lines) + b"\r\n")
    return good, expected


class _Collect:
    def __init__(self, out: list[str]) -> None:
        self.out = out

    def write(self, text: str) -> int:
        self.out.append(text)
        return len(text)


@pytest.fixture
async def stack(spawn, stack_env: StackEnv) -> AsyncIterator[tuple[StackEnv, dict[str, str], str]]:
    up: ArrearsProcess = await spawn("up", env=stack_env.as_env())
    await up.wait_for_line(r"^Ready\.")
    pg_url = (await up.wait_for_line(r"^PostgreSQL: (\S+)")).group(1)
    env = stack_env.as_env() | {"ARREARS_TASK_QUEUE": f"import-{uuid.uuid4().hex[:6]}"}
    yield stack_env, env, pg_url


async def test_an_import_starts_every_good_row_once_and_reports_every_bad_row(
    stack, tmp_path: Path
) -> None:
    stack_env, env, pg_url = stack
    file = tmp_path / "placement.csv"
    good, expected = _write_file(file, "IMP")
    report = tmp_path / "rejected.csv"

    code, out, err = await run_arrears(
        "import", str(file), "--report", str(report), env=env, timeout=120
    )
    assert code == 1, err
    assert json.loads(out.strip().splitlines()[-1]) == {
        "started": GOOD_ROWS,
        "already_running": 0,
        "rejected": len(expected),
        "report": str(report),
    }
    rows = list(csv.DictReader(report.open(encoding="utf-8")))
    assert {(int(r["line"]), r["column"]) for r in rows} == set(expected.items())
    assert all(r["reason"] for r in rows)
    text = report.read_text(encoding="utf-8")
    for secret in ("王伟", "13912345678", "440524188001010015", "call me maybe", "北京市"):
        assert secret not in text

    settings = Settings(temporal_port=stack_env.temporal_port)
    client = await connect(settings)
    for account in good:
        description = await client.get_workflow_handle(f"case-{account}").describe()
        assert description.workflow_type == "Case"
    conn = await asyncpg.connect(pg_url)
    try:
        stored = await conn.fetch("SELECT * FROM placement_records ORDER BY account_id")
        keys = await conn.fetch("SELECT * FROM case_keys")
        # `arrears up` made the master key in the data directory; the vault opens each case.
        vault = PersonalVault(keyring.load({}, stack_env.home))
        opened = [await vault.read(conn, r["case_id"]) for r in stored]
    finally:
        await conn.close()
    assert [r["account_id"] for r in stored] == good
    raw = raw_bytes(stored + keys)  # what a database reader or a backup holds
    for secret in ("王伟", "13912345678", "440524188001010014", "北京市", "李娜", "13700001111"):
        assert secret.encode() not in raw
    assert all(p is not None and p["debtor_name"] == "王伟" for p in opened)
    assert {p["mobile"] for p in opened if p is not None} == {"13912345678"}

    code, out, _ = await run_arrears(
        "import", str(file), "--report", str(report), env=env, timeout=120
    )
    assert code == 1
    assert json.loads(out.strip().splitlines()[-1])["started"] == 0
    assert json.loads(out.strip().splitlines()[-1])["already_running"] == GOOD_ROWS

    # A wrong master key, or none: one line and exit 3, before anything is kept or started.
    other = keyring.new_key()
    for wrong, says in (
        ({"ARREARS_MASTER_KEY": base64.b64encode(other).decode()}, "not in the keyring"),
        ({"ARREARS_MASTER_KEY_FILE": str(tmp_path / "none.key")}, "no master key"),
    ):
        code, out, err = await run_arrears(
            "import", str(file), "--report", str(report), env=env | wrong, timeout=120
        )
        lines = err.strip().splitlines()
        assert (code, out) == (3, ""), err
        assert len(lines) == 1 and lines[0].startswith("arrears: ") and says in lines[0], err


def _write_rows(path: Path, accounts: list[str], **changes: str) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for account in accounts:
            writer.writerow({**GOOD, "account_id": account, **changes})


async def test_a_later_file_placing_an_account_whose_case_has_ended_starts_a_new_episode(
    stack, tmp_path: Path
) -> None:
    """A cured account that defaults again is a new case, `case-<account>.2`, with its own
    events; the ended case is never reopened. Ended is known from the event store (an
    outcome; Temporal forgets ended workflows after its retention). A workflow an
    operator terminated without an outcome is not ended in that sense: its row is
    rejected with the reason, so operations see the delinquency is not collected."""
    stack_env, env, pg_url = stack
    tag = uuid.uuid4().hex[:6].upper()
    terminated, running, cured = (f"END{tag}{n}" for n in range(3))
    first, later = tmp_path / "march.csv", tmp_path / "april.csv"
    _write_rows(first, [terminated, running])
    _write_rows(later, [terminated, running, cured], principal="9500.00")  # next month's file
    code, out, err = await run_arrears("import", str(first), env=env, timeout=120)
    assert code == 0, err
    assert json.loads(out.strip().splitlines()[-1])["started"] == 2

    client = await connect(Settings(temporal_port=stack_env.temporal_port))
    await client.get_workflow_handle(f"case-{terminated}").terminate(reason="test: case ended")
    pool = await create_pool(pg_url, max_size=2)
    try:  # placed by an earlier file and cured; its workflow is gone from Temporal
        # Sealed under the master key `arrears up` made, as the stack's import seals.
        stack_vault = PersonalVault(keyring.load({}, stack_env.home))
        await add_case(
            pool, cured, closed_at=datetime(2026, 3, 20, 12, tzinfo=UTC), vault=stack_vault
        )
        report = tmp_path / "april.csv.rejected.csv"  # the default: beside the file
        code, out, err = await run_arrears("import", str(later), env=env, timeout=120)
        assert code == 1, err
        assert json.loads(out.strip().splitlines()[-1]) == {
            "started": 1,
            "already_running": 1,
            "rejected": 1,
            "report": str(report),
        }
        rows = list(csv.DictReader(report.open(encoding="utf-8")))
        assert [(r["line"], r["column"]) for r in rows] == [("2", "account_id")]
        assert f"case-{terminated} " in rows[0]["reason"] and "(terminated)" in rows[0]["reason"]
        second = await client.get_workflow_handle(f"case-{cured}.2").describe()
        assert second.status is not None and second.status.name == "RUNNING"
        episodes = await pool.fetch(
            "SELECT case_id, episode, facts->>'principal' AS principal FROM placement_records"
            " WHERE account_id = $1 ORDER BY episode",
            cured,
        )
        assert [(r["case_id"], r["episode"]) for r in episodes] == [
            (f"case-{cured}", 1), (f"case-{cured}.2", 2)
        ]  # fmt: skip
        assert episodes[1]["principal"] == "9500.00"  # the new placement's own facts
        with pytest.raises(RPCError):  # the ended case was not restarted
            await client.get_workflow_handle(f"case-{cured}").describe()

        # The account's payments now go to its current episode.
        feed = tmp_path / "payments.csv"
        feed.write_text(f"account_id,amount,date,reference\n{cured},50.00,2026-04-02,P-2\n")
        code, out, err = await run_arrears("payments", str(feed), env=env, timeout=120)
        assert code == 0, out + err
        signals = [
            e.workflow_execution_signaled_event_attributes.signal_name
            async for e in client.get_workflow_handle(f"case-{cured}.2").fetch_history_events()
            if e.HasField("workflow_execution_signaled_event_attributes")
        ]
        assert signals == ["payment"]

        # Both files again: nothing is new, nothing is wrong that was not before.
        code, out, err = await run_arrears("import", str(first), env=env, timeout=120)
        assert code == 0, err
        summary = json.loads(out.strip().splitlines()[-1])
        assert (summary["started"], summary["already_running"], summary["rejected"]) == (0, 2, 0)
        code, out, err = await run_arrears("import", str(later), env=env, timeout=120)
        summary = json.loads(out.strip().splitlines()[-1])
        assert (summary["started"], summary["already_running"], summary["rejected"]) == (0, 2, 1)
        assert (
            await pool.fetchval(
                "SELECT count(*) FROM placement_records WHERE account_id = $1", cured
            )
            == 2
        )
    finally:
        await pool.close()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (",".join(COLUMNS).encode() + b"\n", "no cases"),
        (b"account_id,debtor_name\nX123456,someone\n", "missing required columns"),
        (b'[{"account_id": "ACC-1"}]\n', "JSON array"),
        (b"%PDF-1.7 binary", "not a placement file"),
    ],
    ids=["empty", "header only", "missing columns", "json array", "not csv"],
)
async def test_a_file_that_is_not_a_placement_file_starts_nothing_and_exits_2(
    content: bytes, message: str, stack_env: StackEnv, tmp_path: Path
) -> None:
    file = tmp_path / "placement.dat"
    file.write_bytes(content)
    code, out, err = await run_arrears("import", str(file), env=stack_env.as_env())
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]
