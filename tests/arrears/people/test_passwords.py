"""Passwords are stored as argon2id hashes, never as themselves."""

from __future__ import annotations

import pytest

from arrears.errors import UsageError
from arrears.people.passwords import DUMMY_HASH, hash_password, verify_password
from tests.arrears.people.conftest import PASSWORD


def test_a_hash_is_argon2id_and_does_not_contain_the_password() -> None:
    stored = hash_password(PASSWORD)
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_the_same_password_hashes_differently_each_time_and_verifies_both_times() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first != second  # salted
    assert verify_password(first, PASSWORD) and verify_password(second, PASSWORD)


def test_a_wrong_password_or_a_broken_hash_does_not_verify() -> None:
    stored = hash_password(PASSWORD)
    assert not verify_password(stored, PASSWORD + "!")
    assert not verify_password("not a hash", PASSWORD)


def test_no_password_verifies_against_the_dummy_hash_of_unknown_users() -> None:
    assert not verify_password(DUMMY_HASH, PASSWORD)
    assert not verify_password(DUMMY_HASH, "")


def test_a_password_under_twelve_characters_is_refused_saying_the_rule() -> None:
    with pytest.raises(UsageError, match="at least 12 characters"):
        hash_password("elevenchars")
    assert hash_password("twelve chars").startswith("$argon2id$")
