"""Purge as crypto-shredding (issue 16): what a backup taken before the purge still
holds no longer opens, on a real PostgreSQL."""

from __future__ import annotations

import asyncpg
import pytest

from arrears.crypto.envelope import open_sealed
from arrears.crypto.keyring import Keyring, MasterKeyError
from arrears.store.purge import purge
from tests.arrears.store.test_purge import BEFORE, CN_CARD, book
from tests.stored_cases import TEST_MASTER_KEY, fresh_vault, raw_bytes


async def test_a_backup_taken_before_the_purge_cannot_be_read_afterwards_even_with_the_master_key(
    pool: asyncpg.Pool,
) -> None:
    cases = await book(pool)
    backup = await pool.fetch("SELECT * FROM placement_records WHERE case_id = $1", cases["old"])
    sealed = backup[0]["personal_sealed"]
    assert fresh_vault().ring.keys == (TEST_MASTER_KEY,) and sealed is not None

    await purge(pool, BEFORE, CN_CARD, apply=True)

    after = await pool.fetchrow("SELECT * FROM placement_records WHERE case_id = $1", cases["old"])
    assert after is not None and after["personal_sealed"] is None
    assert (after["phone_hashes"], after["phone_suffixes"], after["name_hash"]) == (None,) * 3
    keys = await pool.fetch("SELECT * FROM case_keys")
    assert cases["old"] not in {k["case_id"] for k in keys}
    # Every data key left, unwrapped with the master key, and the backup still does not open.
    ring = Keyring((TEST_MASTER_KEY,))
    for key in keys:
        data_key = ring.unwrap(key["case_id"], key["master_id"], key["wrapped"])
        with pytest.raises(MasterKeyError):
            open_sealed(data_key, cases["old"], sealed)
    assert b"Test Debtor" not in raw_bytes(backup) and b"13800000000" not in raw_bytes(backup)
