"""A vault over a fresh master key (the `pool` fixture is tests/arrears/conftest.py's)."""

from __future__ import annotations

import asyncpg
import pytest

from arrears.crypto import keyring
from arrears.crypto.keyring import Keyring
from arrears.crypto.vault import PersonalVault


@pytest.fixture
def master() -> bytes:
    return keyring.new_key()


@pytest.fixture
def vault(master: bytes) -> PersonalVault:
    return PersonalVault(Keyring((master,)))


SAMPLE = {
    "debtor_name": "Wang Xiaoming",
    "national_id": "110101199003071234",
    "mobile": "+86 138 0013 8000",
    "home_phone": "010-6552 9988",
}


@pytest.fixture
async def placed(pool: asyncpg.Pool, vault: PersonalVault) -> None:
    """Two cases placed with the sample's personal data, sealed through the vault."""
    async with pool.acquire() as conn:
        for case_id in ("case-A1", "case-B2"):
            await conn.execute(
                "INSERT INTO placement_records (case_id, account_id, facts, source_file,"
                " source_line) VALUES ($1, $2, '{}', 'sha', 1)",
                case_id,
                case_id.removeprefix("case-"),
            )
            await vault.write(conn, case_id, SAMPLE)
