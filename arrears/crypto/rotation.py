"""`arrears keys rotate`: a new master key, every data key re-wrapped under it.

Order matters so that a rotation stopped at any point loses nothing: the new key is
written to the key file above the old ones first (both readable), then the data keys are
re-wrapped in one transaction, and only then are the old keys dropped from the file.
"""

from __future__ import annotations

import asyncio
import os

from arrears.crypto import keyring
from arrears.crypto.keyring import Keyring, MasterKeyError
from arrears.crypto.vault import PersonalVault
from arrears.settings import Settings
from arrears.store.db import create_pool


def run_rotate() -> str:
    """Rotate the key file's master key; the one line to print."""
    settings = Settings()
    if os.environ.get("ARREARS_MASTER_KEY"):
        raise MasterKeyError(
            "ARREARS_MASTER_KEY is set: rotation writes a new key to the key file,"
            " unset it (or rotate where the key file is used)"
        )
    path = keyring.key_file(os.environ, settings.home)
    old = keyring.load(os.environ, settings.home)
    ring = Keyring((keyring.new_key(), *old.keys))
    keyring.write_key_file(path, ring.keys)
    count, left = asyncio.run(_rewrap(settings.db_url, ring))
    if left:
        # A writer still holding the old key made keys meanwhile: keep it readable.
        return (
            f"rotated: {count} data keys re-wrapped under master key {ring.current_id};"
            f" {left} made meanwhile under the old key, which stays in {path}: run again"
        )
    keyring.write_key_file(path, ring.keys[:1])
    return f"rotated: {count} data keys re-wrapped under master key {ring.current_id}"


async def _rewrap(url: str, ring: Keyring) -> tuple[int, int]:
    """(keys re-wrapped, keys still under another master key afterwards)."""
    pool = await create_pool(url, max_size=1)
    try:
        async with pool.acquire() as conn:
            count = await PersonalVault(ring).rotate(conn)
            left: int = await conn.fetchval(
                "SELECT count(*) FROM case_keys WHERE master_id <> $1", ring.current_id
            )
            return count, left
    finally:
        await pool.close()
