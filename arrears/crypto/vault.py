"""The one way in and out of a case's personal data (placement_records.personal_sealed).

Everything that needs a debtor's details (case page, contact activity) asks for one case
with `PersonalVault.read(conn, case_id)`, so decryption happens for exactly the case in
hand and nowhere else. Writing creates the case's data key on first use; shredding deletes
it; rotation re-wraps data keys under the current master key without touching the sealed
data.
"""

from __future__ import annotations

from typing import Any, Final

from arrears.crypto import envelope, keyring, lookup
from arrears.crypto.keyring import Keyring
from arrears.store.db import Conn

#: case_keys row holding the phone lookup HMAC key (case ids start with "case-").
LOOKUP_KEY_ID: Final = ":lookup"
PHONE_FIELDS: Final = ("mobile", "home_phone", "work_phone")


class PersonalVault:
    def __init__(self, ring: Keyring) -> None:
        self.ring = ring

    async def _key(self, conn: Conn, case_id: str, *, create: bool) -> bytes | None:
        row = await conn.fetchrow(
            "SELECT master_id, wrapped FROM case_keys WHERE case_id = $1", case_id
        )
        if row is not None:
            return self.ring.unwrap(case_id, row["master_id"], row["wrapped"])
        if not create:
            return None
        data_key = keyring.new_key()
        kid, wrapped = self.ring.wrap(case_id, data_key)
        inserted = await conn.fetchval(
            "INSERT INTO case_keys (case_id, master_id, wrapped) VALUES ($1, $2, $3)"
            " ON CONFLICT (case_id) DO NOTHING RETURNING case_id",
            case_id,
            kid,
            wrapped,
        )
        # Lost a race with another writer: use the key that won.
        return data_key if inserted else await self._key(conn, case_id, create=False)

    async def lookup_key(self, conn: Conn) -> bytes:
        key = await self._key(conn, LOOKUP_KEY_ID, create=True)
        assert key is not None
        return key

    async def columns(
        self, conn: Conn, case_id: str, personal: dict[str, Any]
    ) -> tuple[bytes, list[bytes], list[bytes]]:
        """(personal_sealed, phone_hashes, phone_suffixes) for a placement record."""
        data_key = await self._key(conn, case_id, create=True)
        assert data_key is not None
        hkey = await self.lookup_key(conn)
        phones = [str(personal[f]) for f in PHONE_FIELDS if personal.get(f)]
        hashes = [h for p in phones if (h := lookup.digits_hash(hkey, p)) is not None]
        suffixes = sorted({s for p in phones for s in lookup.suffix_hashes(hkey, p)})
        return envelope.seal(data_key, case_id, personal), hashes, suffixes

    async def write(self, conn: Conn, case_id: str, personal: dict[str, Any]) -> None:
        sealed, hashes, suffixes = await self.columns(conn, case_id, personal)
        await conn.execute(
            "UPDATE placement_records SET personal_sealed = $2, phone_hashes = $3,"
            " phone_suffixes = $4 WHERE case_id = $1",
            case_id,
            sealed,
            hashes,
            suffixes,
        )

    async def read(self, conn: Conn, case_id: str) -> dict[str, Any] | None:
        """The case's personal data, or None when there is none (never placed, purged)."""
        sealed = await conn.fetchval(
            "SELECT personal_sealed FROM placement_records WHERE case_id = $1", case_id
        )
        if sealed is None:
            return None
        data_key = await self._key(conn, case_id, create=False)
        if data_key is None:
            return None  # shredded: the ciphertext left behind is unreadable anyway
        return envelope.open_sealed(data_key, case_id, sealed)

    async def shred(self, conn: Conn, case_ids: list[str]) -> int:
        """Crypto-shred: delete the data keys and the sealed data and lookup hashes."""
        async with conn.transaction():
            await conn.execute(
                "UPDATE placement_records SET personal_sealed = NULL, phone_hashes = NULL,"
                " phone_suffixes = NULL WHERE case_id = ANY($1::text[])",
                case_ids,
            )
            status = await conn.execute(
                "DELETE FROM case_keys WHERE case_id = ANY($1::text[])", case_ids
            )
        return int(status.split()[-1])

    async def rotate(self, conn: Conn) -> int:
        """Re-wrap every key not under the current master key; the count re-wrapped."""
        current = self.ring.current_id
        rows = await conn.fetch(
            "SELECT case_id, master_id, wrapped FROM case_keys WHERE master_id <> $1",
            current,
        )
        async with conn.transaction():
            for row in rows:
                data_key = self.ring.unwrap(row["case_id"], row["master_id"], row["wrapped"])
                kid, wrapped = self.ring.wrap(row["case_id"], data_key)
                await conn.execute(
                    "UPDATE case_keys SET master_id = $2, wrapped = $3 WHERE case_id = $1",
                    row["case_id"],
                    kid,
                    wrapped,
                )
        return len(rows)
