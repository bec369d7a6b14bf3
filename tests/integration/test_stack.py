"""`arrears up` / `arrears run` on the real embedded stack, driven as an operator would."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import stat
import urllib.request
import uuid
from pathlib import Path

import asyncpg
import psutil
import pytest

from activities.stack_check import StackCheck
from arrears.settings import Settings
from arrears.stack.temporal import connect
from arrears.workers import run_worker
from tests.integration.conftest import ArrearsProcess, StackEnv, run_arrears
from workflows.stack_check import StackCheckWorkflow

pytestmark = pytest.mark.integration
SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "placement.csv"


def _settings(env: StackEnv) -> Settings:
    return Settings(
        home=env.home,
        temporal_port=env.temporal_port,
        ui_port=env.ui_port,
        pg_port=env.pg_port,
        task_queue=f"test-{uuid.uuid4().hex[:8]}",
    )


def _assert_all_gone(processes: list[psutil.Process]) -> None:
    survivors = []
    for p in processes:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                survivors.append(f"{p.pid} {p.name()}")
        except psutil.NoSuchProcess:
            pass
    assert survivors == [], f"processes left behind: {survivors}"


def _names(processes: list[psutil.Process]) -> set[str]:
    """Names of the processes still alive: PostgreSQL forks a backend per connection,
    and the one serving a connection just closed may exit while we look."""
    names = set()
    for p in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            names.add(p.name())
    return names


async def _up(spawn, env: StackEnv) -> ArrearsProcess:  # type: ignore[no-untyped-def]
    up = await spawn("up", env=env.as_env())
    await up.wait_for_line(r"^Ready\.")
    return up


async def test_a_workflow_on_the_dev_server_writes_a_row_to_the_postgres_that_up_started(
    spawn, stack_env: StackEnv
) -> None:
    up = await _up(spawn, stack_env)
    settings = _settings(stack_env)
    pg_url = (await up.wait_for_line(r"^PostgreSQL: (\S+)")).group(1)
    assert f":{stack_env.pg_port}/" in pg_url

    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(settings, stop))
    client = await connect(settings)
    check_id = f"check-{uuid.uuid4()}"
    result = await client.execute_workflow(
        StackCheckWorkflow.run,
        StackCheck(check_id=check_id),
        id=check_id,
        task_queue=settings.task_queue,
    )
    stop.set()
    await worker

    conn = await asyncpg.connect(pg_url)
    try:
        row = await conn.fetchrow("SELECT * FROM stack_checks WHERE check_id = $1", check_id)
    finally:
        await conn.close()
    assert row is not None
    assert row["workflow_id"] == check_id
    assert row["run_id"] == result.run_id
    assert row["recorded_at"] == result.recorded_at


async def test_sigterm_stops_every_process_up_started_and_the_data_survives_a_restart(
    spawn, stack_env: StackEnv
) -> None:
    up = await _up(spawn, stack_env)
    assert any(line.startswith("Migrations applied: 0001") for line in up.lines)
    key_file = stack_env.home / "master.key"
    assert f"Master key: created {key_file} (mode 0600; keep it safe)" in up.lines
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_bytes()
    pg_url = (await up.wait_for_line(r"^PostgreSQL: (\S+)")).group(1)
    conn = await asyncpg.connect(pg_url)
    await conn.execute(
        "INSERT INTO stack_checks (check_id, workflow_id, run_id) VALUES ('kept', 'w', 'r')"
    )
    await conn.close()
    children = up.descendants()
    names = _names(children)
    assert "temporal" in names and "postgres" in names

    assert await up.stop(signal.SIGTERM) == 0
    _assert_all_gone(children)

    again = await _up(spawn, stack_env)
    assert not any(line.startswith("Migrations applied") for line in again.lines)
    assert not any(line.startswith("Master key") for line in again.lines)
    assert key_file.read_bytes() == key
    conn = await asyncpg.connect(pg_url)
    try:
        assert (
            await conn.fetchval("SELECT workflow_id FROM stack_checks WHERE check_id='kept'") == "w"
        )
    finally:
        await conn.close()
    children = again.descendants()
    assert await again.stop(signal.SIGINT) == 0
    _assert_all_gone(children)


async def test_make_run_shows_the_sample_book_moving_and_ctrl_c_stops_all(
    spawn, stack_env: StackEnv
) -> None:
    """Issue 5's newcomer check: within 3 minutes, cases in at least four stages and
    contact attempts recorded in PostgreSQL; then Ctrl-C leaves nothing behind."""
    sample = SAMPLE
    run = await spawn("run", "--sample", str(sample), "--day-seconds", "1", env=stack_env.as_env())
    await run.wait_for_line(r"^Ready\.", timeout=180)
    ui = (await run.wait_for_line(r"^Web UI:\s+(\S+)")).group(1)
    assert ui == f"http://localhost:{stack_env.ui_port}"
    page = await asyncio.to_thread(lambda: urllib.request.urlopen(ui, timeout=10).status)
    assert page == 200
    check = await run.wait_for_line(r"^Stack check: workflow (\S+) wrote row (\S+) to PostgreSQL")
    imported = await run.wait_for_line(r"^Sample portfolio .*: (\d+) cases started, (\d+) already")
    assert int(imported.group(1)) == 200
    pg_url = (await run.wait_for_line(r"^PostgreSQL: (\S+)")).group(1)
    conn = await asyncpg.connect(pg_url)
    try:
        stored = await conn.fetchval(
            "SELECT workflow_id FROM stack_checks WHERE check_id = $1", check.group(2)
        )
        assert stored == check.group(1)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 180
        while True:
            stages = await conn.fetchval("SELECT count(DISTINCT stage) FROM cases")
            attempts = await conn.fetchval("SELECT count(*) FROM contact_attempts")
            if stages >= 4 and attempts > 0:
                break
            assert loop.time() < deadline, f"after 3 minutes: {stages} stages, {attempts} attempts"
            await asyncio.sleep(1)
    finally:
        await conn.close()
    await run.wait_for_line(r"^Summary: open ", timeout=60)

    children = run.descendants()
    assert await run.stop(signal.SIGINT) == 0
    _assert_all_gone(children)

    again = await spawn(
        "run", "--sample", str(sample), "--day-seconds", "1", env=stack_env.as_env()
    )
    second = await again.wait_for_line(
        r"^Sample portfolio .*: (\d+) cases started, (\d+) already", timeout=180
    )
    assert (int(second.group(1)), int(second.group(2))) == (0, 200)
    children = again.descendants()
    assert await again.stop(signal.SIGINT) == 0
    _assert_all_gone(children)


async def test_a_killed_up_leaves_no_server_behind(spawn, stack_env: StackEnv) -> None:
    up = await _up(spawn, stack_env)
    children = up.descendants()
    assert children
    up.process.kill()
    await up.process.wait()
    await asyncio.to_thread(psutil.wait_procs, children, 30)
    _assert_all_gone(children)


async def test_a_port_in_use_gives_one_line_and_exit_code_3(stack_env: StackEnv) -> None:
    with __import__("socket").socket() as taken:
        taken.bind(("127.0.0.1", stack_env.temporal_port))
        taken.listen()
        code, _, err = await run_arrears("up", env=stack_env.as_env())
    assert code == 3
    assert err.strip().splitlines() == [
        f"arrears: port {stack_env.temporal_port} (Temporal frontend) is already in use: "
        "stop what holds it or choose another port with ARREARS_TEMPORAL_PORT"
    ]


async def test_an_unwritable_data_directory_gives_one_line_and_exit_code_3(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    env = StackEnv(home=blocker / "home")
    code, _, err = await run_arrears("up", env=env.as_env())
    assert code == 3
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"arrears: data directory {blocker / 'home'} is not writable")


async def test_a_worker_with_temporal_down_gives_one_line_and_exit_code_3(
    stack_env: StackEnv,
) -> None:
    env = stack_env.as_env() | {"TEMPORAL_ADDRESS": f"127.0.0.1:{stack_env.temporal_port}"}
    code, _, err = await run_arrears("worker", env=env)
    assert code == 3
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        f"arrears: Temporal at 127.0.0.1:{stack_env.temporal_port} is unreachable"
    )


async def test_migrate_with_postgres_down_gives_one_line_without_the_password(
    stack_env: StackEnv,
) -> None:
    url = f"postgresql://app:s3cret@127.0.0.1:{stack_env.pg_port}/arrears"
    code, _, err = await run_arrears("migrate", env=stack_env.as_env() | {"DATABASE_URL": url})
    assert code == 3
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert "is unreachable" in lines[0]
    assert "s3cret" not in err
