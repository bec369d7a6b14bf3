"""Settings choose each channel's provider: its gateway when a URL (and its secret) is
set, the simulator otherwise; an incomplete or unsafe gateway setting is one line naming
the variable, never the secret."""

from __future__ import annotations

from contextlib import aclosing

import pytest

from activities.contact import SimulatedProvider
from activities.providers.channels import providers_from
from activities.providers.http import HttpProvider
from arrears.errors import UsageError
from arrears.settings import load_settings
from tests.activities.providers.conftest import SECRET, call_request
from tests.gateway import Gateway


@pytest.fixture
def env_vars(monkeypatch: pytest.MonkeyPatch, clean_env: None) -> pytest.MonkeyPatch:
    return monkeypatch


def test_with_nothing_configured_every_channel_is_simulated(env_vars: pytest.MonkeyPatch) -> None:
    chosen = providers_from(load_settings()).providers
    assert sorted(chosen) == ["call", "letter", "sms", "visit"]
    assert all(isinstance(p, SimulatedProvider) for p in chosen.values())


async def test_only_a_worker_with_a_gateway_needs_the_personal_data_it_must_decrypt(
    env_vars: pytest.MonkeyPatch, gateway: Gateway
) -> None:
    assert not providers_from(load_settings()).needs_destinations
    env_vars.setenv("ARREARS_CONTACT_SMS_URL", gateway.url)
    env_vars.setenv("ARREARS_CONTACT_SMS_SECRET", SECRET)
    async with aclosing(providers_from(load_settings())) as contact:
        assert contact.needs_destinations


async def test_a_channel_with_a_gateway_sends_its_attempts_there_and_the_others_stay_simulated(
    env_vars: pytest.MonkeyPatch, gateway: Gateway
) -> None:
    env_vars.setenv("ARREARS_CONTACT_CALL_URL", gateway.url)
    env_vars.setenv("ARREARS_CONTACT_CALL_SECRET", SECRET)
    env_vars.setenv("ARREARS_CONTACT_TIMEOUT_SECONDS", "3")
    async with aclosing(providers_from(load_settings())) as contact:
        assert isinstance(contact.providers["call"], HttpProvider)
        assert isinstance(contact.providers["sms"], SimulatedProvider)
        result = await contact.attempt(call_request())
    assert result.provider_ref == "gw-1" and len(gateway.received) == 1


@pytest.mark.parametrize(
    ("variables", "problem"),
    [
        (
            {"ARREARS_CONTACT_SMS_URL": "https://sms.example.com/attempts"},
            "ARREARS_CONTACT_SMS_SECRET must be set",
        ),
        (
            {
                "ARREARS_CONTACT_SMS_URL": "https://sms.example.com/a",
                "ARREARS_CONTACT_SMS_SECRET": "short-secret",
            },
            "ARREARS_CONTACT_SMS_SECRET must be set, at least 32 characters",
        ),
        (
            {
                "ARREARS_CONTACT_LETTER_URL": "http://mail.example.com/a",
                "ARREARS_CONTACT_LETTER_SECRET": SECRET,
            },
            "ARREARS_CONTACT_LETTER_URL must be an https:// URL",
        ),
        ({"ARREARS_CONTACT_TIMEOUT_SECONDS": "40"}, "ARREARS_CONTACT_TIMEOUT_SECONDS"),
    ],
)  # fmt: skip
def test_an_incomplete_or_unsafe_gateway_setting_is_one_line_naming_the_variable(
    env_vars: pytest.MonkeyPatch, variables: dict[str, str], problem: str
) -> None:
    for name, value in variables.items():
        env_vars.setenv(name, value)
    with pytest.raises(UsageError) as bad:
        load_settings()
    assert problem in str(bad.value) and "\n" not in str(bad.value)
    assert SECRET not in str(bad.value) and "short-secret" not in str(bad.value)
