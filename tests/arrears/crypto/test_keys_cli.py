"""`arrears keys rotate` as a user runs it, on a real PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from arrears.crypto import keyring
from arrears.crypto.vault import PersonalVault
from tests.arrears.crypto.conftest import SAMPLE

ARREARS = str(Path(sys.executable).parent / "arrears")


@pytest.fixture
def key_path(tmp_path: Path, master: bytes) -> Path:
    path = tmp_path / "master.key"
    keyring.write_key_file(path, (master,))
    return path


def keys_command(*args: str, url: str, key_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARREARS_")}
    env.update(DATABASE_URL=url, ARREARS_MASTER_KEY_FILE=str(key_path), PYTHONPATH=os.getcwd())
    return subprocess.run(
        [ARREARS, "keys", *args], env=env, capture_output=True, text=True, timeout=120
    )


async def test_rotate_rewraps_under_a_new_key_that_alone_reads_the_old_data(
    pool: asyncpg.Pool, fresh_database_url: str, key_path: Path, placed: None
) -> None:
    done = keys_command("rotate", url=fresh_database_url, key_path=key_path)
    assert done.returncode == 0, done.stderr
    assert "3 data keys re-wrapped" in done.stdout  # two cases and the lookup key
    new = keyring.load({"ARREARS_MASTER_KEY_FILE": str(key_path)})
    assert len(new.keys) == 1
    async with pool.acquire() as conn:
        assert await PersonalVault(new).read(conn, "case-A1") == SAMPLE


async def test_rotate_without_a_key_file_is_one_line_and_exit_3(
    fresh_database_url: str, tmp_path: Path
) -> None:
    done = keys_command("rotate", url=fresh_database_url, key_path=tmp_path / "none.key")
    assert done.returncode == 3
    assert done.stderr.strip().count("\n") == 0
    assert "no master key" in done.stderr and "Traceback" not in done.stderr
