"""Personal data sealed per case in PostgreSQL: read, shred, rotate (arrears.crypto.vault)."""

from __future__ import annotations

import json

import asyncpg
import pytest

from arrears.crypto import keyring
from arrears.crypto.envelope import open_sealed
from arrears.crypto.keyring import Keyring, MasterKeyError
from arrears.crypto.vault import PersonalVault
from tests.arrears.crypto.conftest import SAMPLE


async def test_a_placement_record_read_straight_from_postgres_shows_no_personal_data(
    pool: asyncpg.Pool, vault: PersonalVault, placed: None
) -> None:
    async with pool.acquire() as conn:
        row = await conn.fetchrow("SELECT * FROM placement_records WHERE case_id = 'case-A1'")
        assert row is not None
        keys = await conn.fetch("SELECT * FROM case_keys")
        assert await vault.read(conn, "case-A1") == SAMPLE
    raw = b"".join(
        v if isinstance(v, bytes) else b"".join(v) if isinstance(v, list) else str(v).encode()
        for r in [row, *keys]
        for v in r.values()
        if v is not None
    )
    for secret in ("Wang", "Xiaoming", "13800138000", "0013", "110101199003071234", "6552"):
        assert secret.encode() not in raw


async def test_a_sealed_row_copied_to_another_case_does_not_open(
    pool: asyncpg.Pool, vault: PersonalVault, placed: None
) -> None:
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE placement_records SET personal_sealed = (SELECT personal_sealed FROM"
            " placement_records WHERE case_id = 'case-A1') WHERE case_id = 'case-B2'"
        )
        with pytest.raises(MasterKeyError, match="case-B2"):
            await vault.read(conn, "case-B2")


async def test_a_backup_taken_before_a_purge_no_longer_opens_even_with_the_master_key(
    pool: asyncpg.Pool, vault: PersonalVault, placed: None
) -> None:
    async with pool.acquire() as conn:
        backup = [dict(r) for r in await conn.fetch("SELECT * FROM placement_records")]
        backup_keys = await conn.fetch("SELECT case_id FROM case_keys")
        assert await vault.shred(conn, ["case-A1"]) == 1
        assert await vault.read(conn, "case-A1") is None
        assert await vault.read(conn, "case-B2") == SAMPLE
        remaining = {r["case_id"] for r in await conn.fetch("SELECT case_id FROM case_keys")}
    assert {r["case_id"] for r in backup_keys} - remaining == {"case-A1"}
    # With every remaining key unwrapped by the master key, nothing opens the backup copy.
    sealed = next(r["personal_sealed"] for r in backup if r["case_id"] == "case-A1")
    async with pool.acquire() as conn:
        for case_id in remaining:
            row = await conn.fetchrow("SELECT * FROM case_keys WHERE case_id = $1", case_id)
            assert row is not None
            data_key = vault.ring.unwrap(case_id, row["master_id"], row["wrapped"])
            with pytest.raises(MasterKeyError):
                open_sealed(data_key, "case-A1", sealed)
    assert json.dumps(SAMPLE).encode() not in sealed


async def test_rotation_keeps_old_data_readable_and_purged_data_unreadable(
    pool: asyncpg.Pool, vault: PersonalVault, master: bytes, placed: None
) -> None:
    rotated = PersonalVault(Keyring((keyring.new_key(), master)))
    async with pool.acquire() as conn:
        await vault.shred(conn, ["case-B2"])
        assert await rotated.rotate(conn) == 2  # case-A1 and the lookup key
        assert await rotated.rotate(conn) == 0
        ids = {r["master_id"] for r in await conn.fetch("SELECT master_id FROM case_keys")}
        assert ids == {rotated.ring.current_id}
        new_only = PersonalVault(Keyring((rotated.ring.keys[0],)))
        assert await new_only.read(conn, "case-A1") == SAMPLE
        assert await new_only.read(conn, "case-B2") is None
        with pytest.raises(MasterKeyError, match="not in the keyring"):
            await vault.read(conn, "case-A1")
