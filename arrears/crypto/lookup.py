"""Keyed hashes (HMAC-SHA256) of the personal values something must find a case by.

The console's phone search (issue 14) matches when one number's digits end with the
other's, at least MIN_PHONE_DIGITS long. Without plaintext that becomes two sets of
hashes per phone line, compared by equality (indexable, no decryption per row):
- `suffix_hashes(number)`: the hash of every suffix of its digits of at least the
  minimum length (the stored side: "the number ends with the term" is the term's hash
  in that set);
- `digits_hash(number)`: the hash of all its digits ("the term ends with the number" is
  that hash among the term's suffix hashes).
Trade-off (docs/DECISIONS.md): equal suffixes give equal hashes, so someone with the
database (not the key) learns which records share their last N digits, never the digits.
The debtor's name is found by exact match only: `name_hash` of the normalised full name
(NFKC, case-folded, whitespace removed, so "Wang  Xiaoming", "wang xiaoming" and "王 伟"
/ "王伟" match). A part of a name would need a hash per fragment, which turns the column
into a frequency table of surnames; docs/DECISIONS.md.
The HMAC key is a random key of its own, stored wrapped by the master key like a data key
(arrears.crypto.vault): not derived from the master key, because then rotating the master
key would invalidate every hash and recomputing them would mean decrypting every record.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from typing import Final

MIN_PHONE_DIGITS: Final = 6
_NON_DIGITS = re.compile(r"\D")


def phone_digits(value: str) -> str:
    return _NON_DIGITS.sub("", value)


def keyed_hash(key: bytes, kind: str, value: str) -> bytes:
    """HMAC-SHA256 of a value, with its kind in the message so a phone hash never equals
    an id hash of the same digits."""
    return hmac.new(key, f"{kind}|{value}".encode(), hashlib.sha256).digest()


def digits_hash(key: bytes, number: str) -> bytes | None:
    digits = phone_digits(number)
    return keyed_hash(key, "phone", digits) if len(digits) >= MIN_PHONE_DIGITS else None


def suffix_hashes(key: bytes, number: str) -> list[bytes]:
    digits = phone_digits(number)
    return [keyed_hash(key, "phone", digits[-n:]) for n in range(MIN_PHONE_DIGITS, len(digits) + 1)]


def normalised_name(name: str) -> str:
    """The name as compared: NFKC, case-folded, without any whitespace."""
    return "".join(unicodedata.normalize("NFKC", name).casefold().split())


def name_hash(key: bytes, name: str) -> bytes | None:
    normal = normalised_name(name)
    return keyed_hash(key, "name", normal) if normal else None
