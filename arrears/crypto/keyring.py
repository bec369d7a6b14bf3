"""Master keys: where they come from, and wrapping per-case data keys under them.

A master key never encrypts personal data itself: it only wraps each case's random data
key (envelope encryption), so `arrears keys rotate` re-wraps a few hundred bytes per case
instead of decrypting every record, and purging a case is deleting its data key.

Several master keys can be loaded at once, each with an id: the first is current (new
data keys are wrapped with it), the others stay readable until rotation has re-wrapped
everything under the current one. A key's id is derived from the key (a short SHA-256
prefix), so an id stored next to a wrapped key names exactly one key and a wrong key file
is detected as "unknown key id" before any decryption is attempted.

Wrapping is AES-256-GCM (not RFC 3394 key wrap): one primitive for the whole package, and
the associated data binds a wrapped key to its case and master key id, so a wrapped key
copied to another case's row does not unwrap.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from arrears.errors import ServiceUnavailable

KEY_BYTES = 32
NONCE_BYTES = 12
KEY_FILE_NAME = "master.key"


class MasterKeyError(ServiceUnavailable):
    """A master key is missing, malformed or does not open what it should (exit 3).

    Exit 3 (CONTRACTS section 3): the key is a required service the command cannot reach;
    the message names where the key was looked for, never the key itself.
    """


def key_id(key: bytes) -> str:
    """The public name of a master key: enough to pick it, useless to recover it."""
    return hashlib.sha256(b"arrears master key id|" + key).hexdigest()[:16]


def new_key() -> bytes:
    """A fresh random 256-bit key (master or data key)."""
    return secrets.token_bytes(KEY_BYTES)


def _decode(text: str, where: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise MasterKeyError(f"master key in {where} is not base64") from None
    if len(key) != KEY_BYTES:
        raise MasterKeyError(f"master key in {where} is not {KEY_BYTES} bytes")
    return key


@dataclass(frozen=True)
class Keyring:
    """The loaded master keys, current first."""

    keys: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if not self.keys:
            raise MasterKeyError("no master key loaded")

    @property
    def current_id(self) -> str:
        return key_id(self.keys[0])

    def _by_id(self, wanted: str) -> bytes:
        for key in self.keys:
            if key_id(key) == wanted:
                return key
        raise MasterKeyError(f"master key {wanted} is not in the keyring (wrong key file?)")

    def wrap(self, case_id: str, data_key: bytes) -> tuple[str, bytes]:
        """Wrap a case's data key under the current master key: (master key id, blob)."""
        kid = self.current_id
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = AESGCM(self.keys[0]).encrypt(nonce, data_key, _wrap_aad(kid, case_id))
        return kid, nonce + sealed

    def unwrap(self, case_id: str, kid: str, blob: bytes) -> bytes:
        """The case's data key; a clear MasterKeyError if the key is unknown or does not fit."""
        try:
            return AESGCM(self._by_id(kid)).decrypt(
                blob[:NONCE_BYTES], blob[NONCE_BYTES:], _wrap_aad(kid, case_id)
            )
        except InvalidTag:
            raise MasterKeyError(
                f"data key of case {case_id} does not open with master key {kid}"
            ) from None


def _wrap_aad(kid: str, case_id: str) -> bytes:
    return f"arrears data key|{kid}|{case_id}".encode()


def key_file(env: Mapping[str, str], home: Path) -> Path:
    """ARREARS_MASTER_KEY_FILE, or master.key in the data directory (default .arrears)."""
    return Path(env.get("ARREARS_MASTER_KEY_FILE") or home / KEY_FILE_NAME)


def load(env: Mapping[str, str] | None = None, home: Path = Path(".arrears")) -> Keyring:
    """The keyring from ARREARS_MASTER_KEY (base64, one key) or the key file.

    The key file holds one base64 key a line, current first; rotation puts the new key
    above the old ones, which stay until every data key is re-wrapped.
    """
    env = os.environ if env is None else env
    if env.get("ARREARS_MASTER_KEY"):
        return Keyring((_decode(env["ARREARS_MASTER_KEY"], "ARREARS_MASTER_KEY"),))
    path = key_file(env, home)
    try:
        lines = path.read_text().split()
    except FileNotFoundError:
        raise MasterKeyError(
            f"no master key: set ARREARS_MASTER_KEY or create {path} (arrears up)"
        ) from None
    except OSError as error:
        raise MasterKeyError(f"cannot read master key file {path}: {error.strerror}") from None
    return Keyring(tuple(_decode(line, str(path)) for line in lines))


def write_key_file(path: Path, keys: tuple[bytes, ...]) -> None:
    """Write keys (current first) to a file only its owner can read (mode 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write("".join(base64.b64encode(k).decode() + "\n" for k in keys))
    os.chmod(path, 0o600)


def ensure_key_file(env: Mapping[str, str], home: Path) -> Path | None:
    """Create a key file with one new master key unless a key is configured or the file
    exists (`arrears up` for the embedded default); the path created, or None."""
    path = key_file(env, home)
    if env.get("ARREARS_MASTER_KEY") or path.exists():
        return None
    write_key_file(path, (new_key(),))
    return path
