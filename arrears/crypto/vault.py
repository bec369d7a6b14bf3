"""The one way in and out of a case's personal data (placement_records.personal_sealed).

Everything that needs a debtor's details (case page, contact activity) asks for one case
with `PersonalVault(ring).read(conn, case_id)`, so decryption happens for exactly the case
in hand and nowhere else. The contract other packages rely on (helper B's contact
activity among them):

    await PersonalVault(ring).read(conn, case_id) -> dict[str, Any] | None

`ring` is `arrears.crypto.keyring.load()` (or the vault a command already holds); `conn`
any asyncpg connection of the app role. The dict is the placement row's personal columns
as `PlacementRow.model_dump(mode="json")` gives them, only those present: `debtor_name`,
`national_id`, `mobile`, `home_phone`, `work_phone`, `home_address`, `work_address`
(strings) and `contacts` (a list of `{"name", "relation", "phone"}`). None when the case
has no personal data: never placed, or purged (its data key shredded). A missing or wrong
master key raises `MasterKeyError` (exit 3, one line).

Writing creates the case's data key on first use; the importer seals a batch with new
keys (`seal_new`) and completes the rows it inserted in the same transaction (`keep`).
Shredding deletes the data keys; rotation re-wraps data keys under the current master
key without touching the sealed data.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final, NamedTuple

from arrears.crypto import envelope, keyring, lookup
from arrears.crypto.keyring import Keyring
from arrears.store.db import Conn

#: case_keys row holding the phone lookup HMAC key (case ids start with "case-").
LOOKUP_KEY_ID: Final = ":lookup"
PHONE_FIELDS: Final = ("mobile", "home_phone", "work_phone")
#: What crypto-shredding sets on a placement record: the sealed data, its lookup hashes,
#: and any plaintext left from before migration 0014 (arrears.crypto.existing).
SHREDDED: Final = (
    "personal = NULL, personal_sealed = NULL, phone_hashes = NULL, phone_suffixes = NULL,"
    " name_hash = NULL"
)


class Sealed(NamedTuple):
    """A case's personal data ready to store: its new data key wrapped, and the columns."""

    case_id: str
    master_id: str
    wrapped: bytes
    personal_sealed: bytes
    phone_hashes: list[bytes]
    phone_suffixes: list[bytes]
    name_hash: bytes | None


async def shred_keys(conn: Conn, case_ids: list[str]) -> int:
    """Delete the cases' data keys (all `arrears purge`'s role may do to case_keys)."""
    status = await conn.execute("DELETE FROM case_keys WHERE case_id = ANY($1::text[])", case_ids)
    return int(status.split()[-1])


class PersonalVault:
    def __init__(self, ring: Keyring) -> None:
        self.ring = ring
        self._lookup: bytes | None = None  # unwrapped once: rotation never changes it

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

    async def lookup_key(self, conn: Conn, *, create: bool = True) -> bytes | None:
        """The HMAC key of the lookup hashes; None if never made and `create` is off
        (then no record has hashes yet, and a search finds nobody by phone or name)."""
        if self._lookup is not None:
            return self._lookup
        key = await self._key(conn, LOOKUP_KEY_ID, create=create)
        if not conn.is_in_transaction():
            # Kept only once committed: a key made in a transaction that rolls back
            # would hash everything after it with a key nobody else has.
            self._lookup = key
        return key

    async def check(self, conn: Conn) -> None:
        """Prove the keyring fits this database before a command relies on it: the
        lookup key (made with the first personal data) must unwrap. A wrong key file is
        one MasterKeyError line at start, not a failure on the first case page."""
        await self.lookup_key(conn, create=False)

    async def _columns(
        self, conn: Conn, data_key: bytes, case_id: str, personal: dict[str, Any]
    ) -> tuple[bytes, list[bytes], list[bytes], bytes | None]:
        """(personal_sealed, phone_hashes, phone_suffixes, name_hash) of a record."""
        hkey = await self.lookup_key(conn)
        assert hkey is not None
        phones = [str(personal[f]) for f in PHONE_FIELDS if personal.get(f)]
        hashes = [h for p in phones if (h := lookup.digits_hash(hkey, p)) is not None]
        suffixes = sorted({s for p in phones for s in lookup.suffix_hashes(hkey, p)})
        name = lookup.name_hash(hkey, str(personal.get("debtor_name") or ""))
        return envelope.seal(data_key, case_id, personal), hashes, suffixes, name

    async def seal_new(self, conn: Conn, case_id: str, personal: dict[str, Any]) -> Sealed:
        """Seal a new record under a new data key, stored nowhere yet (`keep`)."""
        data_key = keyring.new_key()
        kid, wrapped = self.ring.wrap(case_id, data_key)
        return Sealed(
            case_id, kid, wrapped, *await self._columns(conn, data_key, case_id, personal)
        )

    async def keep(self, conn: Conn, sealed: Iterable[Sealed]) -> None:
        """Complete records just inserted with `personal_sealed` and `name_hash` (same
        transaction): their phone hashes (arrays of varying length, so not part of the
        batch's `unnest` insert) and their data keys. A key left for the id without a
        record (none should be) is replaced: it opens nothing."""
        rows = list(sealed)
        await conn.executemany(
            "UPDATE placement_records SET phone_hashes = $2, phone_suffixes = $3"
            " WHERE case_id = $1",
            [(r.case_id, r.phone_hashes, r.phone_suffixes) for r in rows],
        )
        await conn.execute(
            "INSERT INTO case_keys (case_id, master_id, wrapped)"
            " SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[])"
            " ON CONFLICT (case_id) DO UPDATE"
            " SET master_id = excluded.master_id, wrapped = excluded.wrapped, created_at = now()",
            [r.case_id for r in rows],
            [r.master_id for r in rows],
            [r.wrapped for r in rows],
        )

    async def write(self, conn: Conn, case_id: str, personal: dict[str, Any]) -> None:
        """Seal an existing record's personal data (its plaintext column cleared)."""
        data_key = await self._key(conn, case_id, create=True)
        assert data_key is not None
        sealed, hashes, suffixes, name = await self._columns(conn, data_key, case_id, personal)
        await conn.execute(
            "UPDATE placement_records SET personal = NULL, personal_sealed = $2,"
            " phone_hashes = $3, phone_suffixes = $4, name_hash = $5 WHERE case_id = $1",
            case_id,
            sealed,
            hashes,
            suffixes,
            name,
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
                f"UPDATE placement_records SET {SHREDDED} WHERE case_id = ANY($1::text[])",
                case_ids,
            )
            return await shred_keys(conn, case_ids)

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
