"""Plaintext placement records written before migration 0014: sealed once by
`arrears keys encrypt-existing` (or `arrears up`), and nothing starts while any is left."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from arrears.crypto import existing, keyring
from arrears.crypto.existing import (
    PlaintextLeft,
    encrypt_existing,
    ready_vault,
    seal_plaintext_left,
)
from arrears.crypto.keyring import Keyring, MasterKeyError
from arrears.crypto.vault import PersonalVault
from arrears.store.db import create_pool, migrate, shipped_migrations
from arrears.store.search import LIMIT, search
from tests.arrears.crypto.conftest import SAMPLE
from tests.integration.conftest import run_arrears
from tests.stored_cases import raw_bytes
from tests.support import bare_env

#: More than one batch, so a run goes through several transactions.
OLD_ROWS = existing.BATCH + 5


def _account(n: int) -> str:
    return f"62250000{n:05d}"


@pytest.fixture
async def old_pool(fresh_database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A database that held plaintext placement records when migration 0014 arrived."""
    pool = await create_pool(fresh_database_url, max_size=2)
    try:
        await migrate(pool, [m for m in shipped_migrations() if m.version < "0014"])
        await pool.executemany(
            "INSERT INTO placement_records (case_id, account_id, personal, facts, source_file,"
            " source_line) VALUES ($1, $2, $3, '{}', 'sha', $4)",
            [(f"case-{_account(n)}", _account(n), SAMPLE, n + 2) for n in range(OLD_ROWS)],
        )
        await migrate(pool)
        yield pool
    finally:
        await pool.close()


async def test_every_plaintext_record_is_sealed_once_and_a_second_run_finds_nothing(
    old_pool: asyncpg.Pool, vault: PersonalVault
) -> None:
    assert await encrypt_existing(old_pool, vault) == OLD_ROWS
    assert await encrypt_existing(old_pool, vault) == 0
    rows = await old_pool.fetch("SELECT * FROM placement_records")
    assert all(r["personal"] is None and r["has_personal"] for r in rows)
    for secret in ("Wang", "13800138000", "110101199003071234", "6552"):
        assert secret.encode() not in raw_bytes(rows)
    async with old_pool.acquire() as conn:
        assert await vault.read(conn, f"case-{_account(7)}") == SAMPLE
        assert len(await search(conn, "138 0013 8000", vault)) == LIMIT  # all match: 50 shown
        assert len(await search(conn, "wang xiaoming", vault)) == LIMIT


async def test_two_runs_at_once_share_the_rows_and_seal_each_once(
    old_pool: asyncpg.Pool, vault: PersonalVault
) -> None:
    done = await asyncio.gather(
        encrypt_existing(old_pool, vault), encrypt_existing(old_pool, vault)
    )
    assert sum(done) == OLD_ROWS
    assert await old_pool.fetchval("SELECT count(*) FROM case_keys") == OLD_ROWS + 1  # + lookup


async def test_no_new_plaintext_can_be_stored_after_the_migration(pool: asyncpg.Pool) -> None:
    with pytest.raises(asyncpg.CheckViolationError, match="no_plaintext"):
        await pool.execute(
            "INSERT INTO placement_records (case_id, account_id, personal, facts, source_file,"
            " source_line) VALUES ('case-X1', 'X1', $1, '{}', 'sha', 2)",
            SAMPLE,
        )


async def test_the_import_and_the_console_refuse_to_start_while_plaintext_is_left(
    old_pool: asyncpg.Pool, master: bytes
) -> None:
    env = {"ARREARS_MASTER_KEY": base64.b64encode(master).decode()}
    async with old_pool.acquire() as conn:
        with pytest.raises(PlaintextLeft, match=f"{OLD_ROWS} placement records") as refused:
            await ready_vault(conn, env, Path("/nonexistent"))
    assert "arrears keys encrypt-existing" in str(refused.value)
    assert refused.value.exit_code == 3


async def test_up_seals_what_is_left_and_needs_a_key_only_when_something_is(
    old_pool: asyncpg.Pool, master: bytes, tmp_path: Path
) -> None:
    with pytest.raises(MasterKeyError, match="no master key"):
        await seal_plaintext_left(old_pool, {}, tmp_path)
    keyring.write_key_file(tmp_path / "master.key", (master,))
    assert await seal_plaintext_left(old_pool, {}, tmp_path) == OLD_ROWS
    assert await seal_plaintext_left(old_pool, {}, tmp_path / "elsewhere") == 0  # no key asked
    async with old_pool.acquire() as conn:
        ready = await ready_vault(conn, {}, tmp_path)
        assert await ready.read(conn, f"case-{_account(0)}") == SAMPLE
        wrong = {"ARREARS_MASTER_KEY": base64.b64encode(keyring.new_key()).decode()}
        with pytest.raises(MasterKeyError, match="not in the keyring"):
            await ready_vault(conn, wrong, tmp_path)


async def _arrears(*args: str, url: str, key: bytes | None) -> tuple[int, str, str]:
    """`arrears ARGS` on the database, with the key given in the environment or none."""
    env = bare_env(DATABASE_URL=url, PYTHONPATH=os.getcwd(),
                   ARREARS_MASTER_KEY_FILE="/nonexistent/master.key")  # fmt: skip
    if key is not None:
        env["ARREARS_MASTER_KEY"] = base64.b64encode(key).decode()
    return await run_arrears(*args, env=env, timeout=120)


async def test_the_commands_as_a_user_runs_them(
    old_pool: asyncpg.Pool, fresh_database_url: str, master: bytes
) -> None:
    """The console refuses plaintext, a missing or a wrong key in one line, exit 3; the
    conversion command seals everything, then says there was nothing left."""
    port = "1"  # never reached: every start here stops before listening
    console = ("console", "--port", port)
    code, _, err = await _arrears(*console, url=fresh_database_url, key=master)
    assert code == 3 and err.strip().count("\n") == 0 and "encrypt-existing" in err, err
    code, _, err = await _arrears(*console, url=fresh_database_url, key=None)
    assert code == 3 and err.strip().count("\n") == 0 and "no master key" in err, err

    code, out, err = await _arrears("keys", "encrypt-existing", url=fresh_database_url, key=master)
    assert code == 0, err
    assert f"of {OLD_ROWS} placement records" in out
    code, out, err = await _arrears("keys", "encrypt-existing", url=fresh_database_url, key=master)
    assert code == 0 and "of 0 placement records" in out, err

    other = keyring.new_key()
    code, _, err = await _arrears(*console, url=fresh_database_url, key=other)
    assert code == 3 and err.strip().count("\n") == 0 and "not in the keyring" in err, err
    assert "Traceback" not in err
    async with old_pool.acquire() as conn:
        opened = await PersonalVault(Keyring((master,))).read(conn, f"case-{_account(3)}")
    assert opened == SAMPLE
