"""Sealing one case's personal data with that case's data key (AES-256-GCM).

The case id is the associated data: a sealed row copied or moved to another case fails to
open instead of showing one debtor's details on another's page.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from arrears.crypto.keyring import NONCE_BYTES, MasterKeyError


def seal(data_key: bytes, case_id: str, personal: dict[str, Any]) -> bytes:
    """nonce || AES-256-GCM(JSON of the personal columns), bound to the case id."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    plain = json.dumps(personal, sort_keys=True, separators=(",", ":")).encode()
    return nonce + AESGCM(data_key).encrypt(nonce, plain, _aad(case_id))


def open_sealed(data_key: bytes, case_id: str, sealed: bytes) -> dict[str, Any]:
    """The personal columns; a clear MasterKeyError if the key or the case does not match."""
    try:
        plain = AESGCM(data_key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], _aad(case_id))
    except InvalidTag:
        raise MasterKeyError(f"personal data of case {case_id} does not open") from None
    result: dict[str, Any] = json.loads(plain)
    return result


def _aad(case_id: str) -> bytes:
    return f"arrears personal|{case_id}".encode()
