"""Ctrl-C and SIGTERM during `arrears simulate --report`: the run stops at once with the
shell's exit code and leaves nothing behind (on a private embedded server: no temporary
directory, no postmaster, no worker process; on a configured server: no database)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

import asyncpg
import pytest

from arrears.intake.sample import write_sample
from tests.support import bare_env, free_port, wait_until

#: The checkout these tests are in: `python -m arrears.cli` from there runs its code.
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def big_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A book that takes far longer to simulate than the private server takes to start
    (tens of seconds against a few), so the signal finds the run under way."""
    folder = tmp_path_factory.mktemp("big-book")
    return write_sample(folder / "placements.csv", 4000, as_of=date(2026, 1, 5))


def poll_until(condition: Callable[[], bool], what: str, timeout: float) -> None:
    """Poll a condition of the outside world until it holds, or fail naming it."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def processes_marked(marker: str) -> list[int]:
    """Processes (ours or spawned by ours) whose environment holds `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker.encode() in environ:
            found.append(int(entry.name))
    return found


@pytest.mark.parametrize(
    ("sent", "jobs"),
    [(signal.SIGTERM, "1"), (signal.SIGINT, "1"), (signal.SIGTERM, "2")],
    ids=["sigterm", "ctrl-c", "sigterm-with-jobs"],
)
def test_a_signal_stops_a_simulated_report_and_removes_its_private_server(
    tmp_path: Path, big_book: Path, sent: signal.Signals, jobs: str
) -> None:
    marker = f"ARREARS_TEST_RUN_{uuid.uuid4().hex}"
    # Nothing listens on ARREARS_PG_PORT, no DATABASE_URL: a private server in TMPDIR.
    env = bare_env(TMPDIR=str(tmp_path), ARREARS_PG_PORT=str(free_port()), **{marker: "1"})
    run = subprocess.Popen(
        [sys.executable, "-m", "arrears.cli", "simulate", "--portfolio", str(big_book),
         "--months", "12", "--start", "2026-01-05", "--report", "recovery", "--jobs", jobs],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:

        def server_ready() -> bool:
            assert run.poll() is None, run.communicate()
            return any(
                "ready to accept connections" in log.read_text(errors="replace")
                for log in tmp_path.glob("arrears-sim-*/postgres.log")
            )

        poll_until(server_ready, "the private server to accept connections", 120)
        (pid_file,) = tmp_path.glob("arrears-sim-*/pgdata/postmaster.pid")
        postmaster = int(pid_file.read_text().split()[0])

        run.send_signal(sent)
        out, err = run.communicate(timeout=20)
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()

    assert run.returncode == 128 + sent, err
    assert out == ""
    assert err == f"arrears: simulate stopped by {sent.name}; nothing reported\n"
    assert list(tmp_path.iterdir()) == []
    assert not Path(f"/proc/{postmaster}").exists()
    assert processes_marked(marker) == []


async def scratch_databases(server_url: str) -> set[str]:
    admin = await asyncpg.connect(server_url)
    try:
        rows = await admin.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE 'arrears\\_sim\\_%'"
        )
    finally:
        await admin.close()
    return {r["datname"] for r in rows}


async def test_sigterm_drops_the_scratch_database_made_on_a_configured_server(
    big_book: Path, postgres_server_url: str
) -> None:
    before = await scratch_databases(postgres_server_url)
    run = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "arrears.cli", "simulate", "--portfolio", str(big_book),
        "--months", "12", "--start", "2026-01-05", "--report", "recovery",
        cwd=ROOT, env=bare_env(DATABASE_URL=postgres_server_url),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:

        async def migrated() -> bool:
            assert run.returncode is None
            for name in await scratch_databases(postgres_server_url) - before:
                url = postgres_server_url.rsplit("/", 1)[0] + f"/{name}"
                with contextlib.suppress(OSError, asyncpg.PostgresError):
                    conn = await asyncpg.connect(url)
                    try:
                        return bool(await conn.fetchval("SELECT to_regclass('case_snapshots')"))
                    finally:
                        await conn.close()
            return False

        await wait_until(migrated, "the scratch database to be migrated", 120)
        run.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(run.communicate(), 20)
    finally:
        if run.returncode is None:
            run.kill()
            await run.communicate()

    assert run.returncode == 128 + signal.SIGTERM, err
    assert out == b""
    assert err.decode() == "arrears: simulate stopped by SIGTERM; nothing reported\n"
    assert await scratch_databases(postgres_server_url) == before
