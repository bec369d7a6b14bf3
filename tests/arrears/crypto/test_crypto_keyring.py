"""Master keys, wrapped data keys and sealed personal data (arrears.crypto)."""

from __future__ import annotations

import base64
import re
import stat
from pathlib import Path

import pytest

from arrears.crypto import envelope, keyring, lookup
from arrears.crypto.keyring import Keyring, MasterKeyError

SAMPLE = {"name": "Wang Xiaoming", "mobile": "+86 138 0000 1234", "national_id": "X1"}


def test_a_data_key_wrapped_for_one_case_unwraps_only_for_that_case() -> None:
    ring = Keyring((keyring.new_key(),))
    data_key = keyring.new_key()
    kid, blob = ring.wrap("case-1", data_key)
    assert ring.unwrap("case-1", kid, blob) == data_key
    with pytest.raises(MasterKeyError, match="case-2"):
        ring.unwrap("case-2", kid, blob)


def test_a_wrapped_key_does_not_unwrap_with_another_master_key() -> None:
    kid, blob = Keyring((keyring.new_key(),)).wrap("case-1", keyring.new_key())
    with pytest.raises(MasterKeyError, match="not in the keyring"):
        Keyring((keyring.new_key(),)).unwrap("case-1", kid, blob)


def test_an_old_master_key_kept_after_the_current_still_unwraps() -> None:
    old = keyring.new_key()
    data_key = keyring.new_key()
    kid, blob = Keyring((old,)).wrap("case-1", data_key)
    rotated = Keyring((keyring.new_key(), old))
    assert rotated.unwrap("case-1", kid, blob) == data_key
    assert rotated.wrap("case-1", data_key)[0] != kid


def test_sealed_personal_data_opens_with_its_case_id_and_shows_no_plaintext() -> None:
    data_key = keyring.new_key()
    sealed = envelope.seal(data_key, "case-1", SAMPLE)
    assert b"Wang" not in sealed and b"1234" not in sealed
    assert envelope.open_sealed(data_key, "case-1", sealed) == SAMPLE
    with pytest.raises(MasterKeyError):
        envelope.open_sealed(data_key, "case-2", sealed)
    with pytest.raises(MasterKeyError):
        envelope.open_sealed(keyring.new_key(), "case-1", sealed)


def test_the_key_comes_from_the_environment_before_the_key_file(tmp_path: Path) -> None:
    key = keyring.new_key()
    env = {"ARREARS_MASTER_KEY": base64.b64encode(key).decode()}
    assert keyring.load(env, tmp_path).keys == (key,)


def test_a_missing_key_file_says_where_it_was_looked_for(tmp_path: Path) -> None:
    with pytest.raises(MasterKeyError, match=re.escape(str(tmp_path / "master.key"))) as raised:
        keyring.load({}, tmp_path)
    assert raised.value.exit_code == 3


def test_a_malformed_key_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(MasterKeyError, match="not base64"):
        keyring.load({"ARREARS_MASTER_KEY": "not a key!"}, tmp_path)
    short = base64.b64encode(b"short").decode()
    with pytest.raises(MasterKeyError, match="32 bytes"):
        keyring.load({"ARREARS_MASTER_KEY": short}, tmp_path)


def test_a_written_key_file_is_owner_only_and_loads_current_first(
    tmp_path: Path,
) -> None:
    new, old = keyring.new_key(), keyring.new_key()
    path = tmp_path / ".arrears" / "master.key"
    keyring.write_key_file(path, (new, old))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    ring = keyring.load({"ARREARS_MASTER_KEY_FILE": str(path)}, tmp_path)
    assert ring.keys == (new, old)


def test_a_stored_phone_is_found_by_the_digits_it_ends_with() -> None:
    key = keyring.new_key()
    stored = set(lookup.suffix_hashes(key, "+86 138-0000-1234"))
    assert lookup.digits_hash(key, "138 0000 1234") in stored
    assert lookup.digits_hash(key, "001234") in stored
    assert lookup.digits_hash(key, "001235") not in stored
    assert lookup.digits_hash(key, "1234") is None


def test_a_longer_term_finds_the_stored_number_it_ends_with() -> None:
    key = keyring.new_key()
    full = lookup.digits_hash(key, "13800001234")
    assert full in lookup.suffix_hashes(key, "+86 13800001234")


def test_lookup_hashes_depend_on_the_key() -> None:
    a, b = keyring.new_key(), keyring.new_key()
    assert lookup.digits_hash(a, "13800001234") != lookup.digits_hash(b, "13800001234")


def test_up_creates_an_owner_only_key_file_once_and_never_over_a_configured_key(
    tmp_path: Path,
) -> None:
    created = keyring.ensure_key_file({}, tmp_path / "home")
    assert created == tmp_path / "home" / "master.key"
    assert stat.S_IMODE(created.stat().st_mode) == 0o600
    first = keyring.load({}, tmp_path / "home").keys
    assert keyring.ensure_key_file({}, tmp_path / "home") is None
    assert keyring.load({}, tmp_path / "home").keys == first
    env = {"ARREARS_MASTER_KEY": base64.b64encode(keyring.new_key()).decode()}
    assert keyring.ensure_key_file(env, tmp_path / "other") is None
    assert not (tmp_path / "other").exists()
