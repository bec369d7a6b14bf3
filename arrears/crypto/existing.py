"""Placement records written in plaintext before migration 0014, and the start checks.

A migration cannot encrypt (the master key never enters the database), so 0014 only adds
the sealed columns and forbids new plaintext (a NOT VALID CHECK). `encrypt_existing`
seals what is left a batch at a time, one transaction per batch, clearing `personal` in
the same UPDATE: run again after a stop, it goes on where it was (idempotent).
`arrears up` runs it (it holds the key of the embedded default and just migrated); the
import and the console refuse to start while any plaintext row is left (`ready_vault`),
naming the command to run, so nothing reads `personal` again.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Final

import asyncpg

from arrears.crypto import keyring
from arrears.crypto.vault import PersonalVault
from arrears.errors import ServiceUnavailable
from arrears.settings import Settings
from arrears.store.db import Conn, create_pool

BATCH: Final = 200
CONVERT = "arrears keys encrypt-existing"


class PlaintextLeft(ServiceUnavailable):
    """Plaintext personal data is still stored: the command would not be honest about
    what it protects (exit 3, CONTRACTS section 3: a required service is not ready)."""


async def plaintext_left(conn: Conn) -> int:
    """How many records still hold plaintext (index placement_records_plaintext)."""
    count: int = await conn.fetchval(
        "SELECT count(*) FROM placement_records WHERE personal IS NOT NULL"
    )
    return count


async def encrypt_existing(pool: asyncpg.Pool, vault: PersonalVault) -> int:
    """Seal every plaintext record; the number sealed. Batches skip rows another run
    holds, so two runs at once share the work instead of waiting on each other."""
    done = 0
    while True:
        async with pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT case_id, personal FROM placement_records WHERE personal IS NOT NULL"
                " ORDER BY case_id LIMIT $1 FOR UPDATE SKIP LOCKED",
                BATCH,
            )
            for row in rows:
                await vault.write(conn, row["case_id"], row["personal"])
        done += len(rows)
        if len(rows) < BATCH:
            return done


async def seal_plaintext_left(pool: asyncpg.Pool, env: Mapping[str, str], home: Path) -> int:
    """`arrears up` right after migrating: seal what is left, the number sealed. The key
    is needed only when there is something to seal (a configured database without any
    plaintext starts as before); then a missing or wrong key is one line, exit 3."""
    async with pool.acquire() as conn:
        if not await plaintext_left(conn):
            return 0
        vault = PersonalVault(keyring.load(env, home))
        await vault.check(conn)
    return await encrypt_existing(pool, vault)


async def ready_vault(conn: Conn, env: Mapping[str, str], home: Path) -> PersonalVault:
    """The vault a command reads and writes personal data with, once it is sure the
    master key fits this database and no plaintext is left; else one line, exit 3."""
    vault = PersonalVault(keyring.load(env, home))
    await vault.check(conn)
    left = await plaintext_left(conn)
    if left:
        raise PlaintextLeft(
            f"{left} placement records still hold personal data in plaintext"
            f" (written before migration 0014): run `{CONVERT}` first"
        )
    return vault


async def open_vault(settings: Settings) -> PersonalVault:
    """`ready_vault` on a connection of its own (the console's start)."""
    pool = await create_pool(settings.db_url, max_size=1)
    try:
        async with pool.acquire() as conn:
            return await ready_vault(conn, os.environ, settings.home)
    finally:
        await pool.close()


def run_encrypt_existing() -> str:
    """`arrears keys encrypt-existing`: the one line to print."""
    settings = Settings()
    ring = keyring.load(os.environ, settings.home)
    return asyncio.run(_convert(settings.db_url, PersonalVault(ring)))


async def _convert(url: str, vault: PersonalVault) -> str:
    pool = await create_pool(url, max_size=1)
    try:
        async with pool.acquire() as conn:
            await vault.check(conn)
        count = await encrypt_existing(pool, vault)
    finally:
        await pool.close()
    return f"encrypted the personal data of {count} placement records written before 0014"
