"""Password hashing: argon2id (argon2-cffi), never the password itself, never logged.

`verify_password` also answers for users that do not exist: the sign-in checks the
password against `DUMMY_HASH` then, so an unknown id costs the same time as a wrong
password and the response time does not tell a stranger which ids exist.
"""

from __future__ import annotations

from typing import Final

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from arrears.errors import UsageError

#: The shortest password a person may set (NIST SP 800-63B prefers length to rules).
MIN_LENGTH: Final = 12
#: argon2-cffi's defaults (RFC 9106's second recommendation), argon2id.
_HASHER: Final = PasswordHasher(type=Type.ID)
#: What an unknown user's password is checked against (any password: it never matches).
DUMMY_HASH: Final = _HASHER.hash("no user has this password: it only costs time")


class PasswordRefused(UsageError):
    """A password that does not meet the rules (exit code 2); nothing was changed."""


def check_rules(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise PasswordRefused(
            f"the password is too short: at least {MIN_LENGTH} characters, please"
        )


def hash_password(password: str) -> str:
    """The argon2id hash of a password that meets the rules (`PasswordRefused` otherwise)."""
    check_rules(password)
    return _HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """Whether `password` is the one `stored_hash` was made from (False for a bad hash)."""
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether the hash was made with other parameters than today's (rehash on sign-in)."""
    return _HASHER.check_needs_rehash(stored_hash)


def rehash(password: str) -> str:
    """A new hash of a password that was just verified (today's parameters; the rules
    are not applied again: the person did not choose it now)."""
    return _HASHER.hash(password)
