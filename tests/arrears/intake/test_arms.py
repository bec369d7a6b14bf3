"""`arrears import` with a champion / challenger profile, on a real Temporal dev server (the
search attributes registered as `arrears up` registers them), a worker in this process
writing the real event store, and a fresh PostgreSQL database.

The profile is the shipped example (examples/cn-card-with-challenger.toml): cn-card, with
20 % of the new cases opened under cn-card-b.
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from activities.contact import SimulatedProvider
from arrears.cases.override import OverrideRefused, send_override
from arrears.intake.importer import Importer, ImportSummary, open_placements
from arrears.intake.sample import COLUMNS, sample_rows
from arrears.policies import load_arms
from arrears.store.events import EventStore
from arrears.workers import case_activities
from domain.arms import assign_arm
from domain.commands import MoveArm
from domain.events import Actor
from tests.stored_cases import add_case, fresh_vault
from tests.support import wait_until
from workflows.case import CaseWorkflow
from workflows.case_views import ARM

pytestmark = pytest.mark.integration

PROFILE = Path(__file__).resolve().parents[3] / "examples" / "cn-card-with-challenger.toml"
ROWS = 150
SPLIT = 0.2
#: The account of a cured case that defaults again (one the draw puts in the challenger arm).
REDEFAULT = next(
    a
    for a in (f"RED{n:05d}" for n in range(1000))
    if assign_arm(a, "cn-card-b", Decimal("0.2")) == "challenger"
)


@pytest.fixture
async def queue(temporal: Client, pool: asyncpg.Pool) -> AsyncIterator[str]:
    """A worker on a task queue of this test's own, writing this test's database."""
    name = f"arms-{uuid.uuid4().hex[:8]}"
    activities = case_activities(EventStore(pool), SimulatedProvider())
    async with Worker(temporal, task_queue=name, workflows=[CaseWorkflow], activities=activities):
        yield name


def placement_file(path: Path, rows: int = ROWS, seed: int = 7, redefault: bool = True) -> Path:
    """The sample portfolio's rows, and the re-defaulting account's new placement."""
    cells = list(sample_rows(rows, seed=seed, as_of=datetime.now(UTC).date()))
    if redefault:
        cells.append({**cells[0], "account_id": REDEFAULT})
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(cells)
    return path


def move(arm: str) -> MoveArm:
    return MoveArm(
        actor=Actor(id="sup-1", role="supervisor"),
        reason="test owner's call",
        arm=arm,  # type: ignore[arg-type]
    )


async def run_import(client: Client, pool: asyncpg.Pool, queue: str, file: Path) -> ImportSummary:
    arms = load_arms(str(PROFILE))
    importer = Importer(
        client=client, pool=pool, policy=arms.champion, challenger=arms.challenger,
        task_queue=queue, vault=fresh_vault(), concurrency=16,
    )  # fmt: skip
    records, digest = open_placements(file)
    return await importer.run(records, digest, file.with_suffix(".rejected.csv"))


async def test_each_new_case_is_opened_in_the_arm_its_account_draws_under_that_arms_profile(
    temporal: Client, pool: asyncpg.Pool, queue: str, tmp_path: Path
) -> None:
    # The account's first case was cured and closed: this file opens its second episode.
    await add_case(pool, REDEFAULT, closed_at=datetime(2026, 3, 20, 12, tzinfo=UTC))
    file = placement_file(tmp_path / "placement.csv")

    summary = await run_import(temporal, pool, queue, file)

    assert (summary.started, summary.already_running, summary.rejected) == (ROWS + 1, 0, 0)
    assert summary.arms is not None and sum(summary.arms.values()) == ROWS + 1
    contract = summary.contract()
    assert contract["arms"] == summary.arms
    assert {"started", "already_running", "rejected", "report"} <= contract.keys()

    async def all_opened() -> bool:
        opened = await pool.fetchval(
            "SELECT count(*) FROM case_events WHERE type = 'case_opened' AND seq = 1"
            " AND case_id <> $1",
            f"case-{REDEFAULT}",
        )
        in_cases = await pool.fetchval("SELECT count(*) FROM cases")
        return bool(opened == ROWS + 1 and in_cases == ROWS + 2)

    await wait_until(all_opened, "every case to open", timeout=120)
    rows = await pool.fetch(
        "SELECT c.case_id, c.account_id, c.arm, c.policy, e.payload->>'arm' AS opened_arm,"
        " e.payload->>'policy' AS opened_policy FROM cases c"
        " JOIN case_events e ON e.case_id = c.case_id AND e.type = 'case_opened'"
        " WHERE c.case_id <> $1",
        f"case-{REDEFAULT}",
    )
    expected_policy = {"champion": "cn-card", "challenger": "cn-card-b"}
    for r in rows:
        # The table, the event and the profile agree with the account's own draw.
        assert r["arm"] == r["opened_arm"], r["case_id"]
        assert r["policy"] == r["opened_policy"] == expected_policy[r["arm"]], r["case_id"]
    by_account = {r["account_id"]: r["arm"] for r in rows}
    challengers = sum(arm == "challenger" for arm in by_account.values())
    # 151 draws at 20 %: mean 30.2, standard deviation 4.9; four of them either side.
    assert abs(challengers - SPLIT * (ROWS + 1)) < 4 * (ROWS * SPLIT * (1 - SPLIT)) ** 0.5
    assert challengers == summary.arms["challenger"]
    # The re-defaulted account's new episode has the arm of its account.
    assert by_account[REDEFAULT] == "challenger"
    assert {r["case_id"] for r in rows if r["account_id"] == REDEFAULT} == {f"case-{REDEFAULT}.2"}

    # Temporal can be asked for an arm's cases (visibility catches up shortly).
    async def arm_counts_match() -> bool:
        found = await temporal.count_workflows(
            f'TaskQueue = "{queue}" AND ArrearsArm = "challenger"'
        )
        return found.count == challengers

    await wait_until(arm_counts_match, "ArrearsArm to be queryable", timeout=30)
    champions = await temporal.count_workflows(f'TaskQueue = "{queue}" AND ArrearsArm = "champion"')
    assert champions.count == ROWS + 1 - challengers

    # The same file again: every case already has its arm; nothing starts, nothing moves.
    again = await run_import(temporal, pool, queue, file)

    assert (again.started, again.already_running, again.arms) == (
        0, ROWS + 1, {"champion": 0, "challenger": 0},
    )  # fmt: skip
    after = await pool.fetch(
        "SELECT account_id, arm FROM cases WHERE case_id <> $1", f"case-{REDEFAULT}"
    )
    assert {r["account_id"]: r["arm"] for r in after} == by_account


async def test_a_supervisor_moves_a_case_to_the_other_arm_and_back_each_move_recorded(
    temporal: Client, pool: asyncpg.Pool, queue: str, tmp_path: Path
) -> None:
    file = placement_file(tmp_path / "few.csv", rows=8, seed=11, redefault=False)
    await run_import(temporal, pool, queue, file)

    async def opened() -> bool:
        return bool(await pool.fetchval("SELECT count(*) FROM cases") == 8)

    await wait_until(opened, "the cases to open", timeout=60)
    case_id = await pool.fetchval("SELECT min(case_id) FROM cases WHERE arm = 'champion'")

    result = await send_override(temporal, case_id, move("challenger"))

    assert [e["type"] for e in result.events][-2:] == ["override_applied", "arm_changed"]

    async def row_is(arm: str, policy: str) -> bool:
        found = await pool.fetchrow("SELECT arm, policy FROM cases WHERE case_id = $1", case_id)
        return (found["arm"], found["policy"]) == (arm, policy)

    await wait_until(lambda: row_is("challenger", "cn-card-b"), "cases to follow the move")
    described = await temporal.get_workflow_handle(case_id).describe()
    assert described.typed_search_attributes.get(ARM) == "challenger"
    opened_in = await pool.fetchval(
        "SELECT payload->>'arm' FROM case_events WHERE case_id = $1 AND type = 'case_opened'",
        case_id,
    )
    assert opened_in == "champion"  # reports still count it there (intention to treat)

    # The case now carries cn-card as its other arm: a move back is another recorded move.
    await send_override(temporal, case_id, move("champion"))

    await wait_until(lambda: row_is("champion", "cn-card"), "cases to follow the move back")
    moves = await pool.fetch(
        "SELECT payload->>'arm' AS arm, payload->>'policy' AS policy FROM case_events"
        " WHERE case_id = $1 AND type = 'arm_changed' ORDER BY seq",
        case_id,
    )
    assert [(m["arm"], m["policy"]) for m in moves] == [
        ("challenger", "cn-card-b"), ("champion", "cn-card"),
    ]  # fmt: skip
    kinds = await pool.fetch(
        "SELECT kind, actor_id, applied FROM overrides WHERE case_id = $1 ORDER BY seq", case_id
    )
    assert [tuple(k) for k in kinds] == [("move_arm", "sup-1", True)] * 2


async def test_an_import_without_a_challenger_keeps_the_summary_line_and_its_cases_cannot_move(
    temporal: Client, pool: asyncpg.Pool, queue: str, tmp_path: Path
) -> None:
    file = placement_file(tmp_path / "one.csv", rows=1, seed=9, redefault=False)
    importer = Importer(client=temporal, pool=pool, policy=load_arms("cn-card").champion,
                        task_queue=queue, vault=fresh_vault())  # fmt: skip
    records, digest = open_placements(file)

    summary = await importer.run(records, digest, tmp_path / "r.csv")

    assert summary.contract() == {
        "started": 1, "already_running": 0, "rejected": 0, "report": str(tmp_path / "r.csv")
    }  # fmt: skip
    case_id = await pool.fetchval("SELECT case_id FROM placement_records")
    with pytest.raises(OverrideRefused, match="no_other_arm"):
        await send_override(temporal, case_id, move("challenger"))
