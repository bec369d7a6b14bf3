"""A vault over a fresh master key (the `pool` fixture is tests/arrears/conftest.py's)."""

from __future__ import annotations

import pytest

from arrears.crypto import keyring
from arrears.crypto.keyring import Keyring
from arrears.crypto.vault import PersonalVault


@pytest.fixture
def master() -> bytes:
    return keyring.new_key()


@pytest.fixture
def vault(master: bytes) -> PersonalVault:
    return PersonalVault(Keyring((master,)))
