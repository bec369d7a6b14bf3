"""Settings for a secured Temporal cluster: the `temporal` CLI's variable names, the API key
kept secret, and the TLS configuration every client is built with."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode, TLSConfig

from arrears.errors import ServiceUnavailable, UsageError
from arrears.settings import Settings
from arrears.stack.temporal import connect
from arrears.stack.temporal_tls import temporal_tls
from tests.integration.conftest import run_arrears
from tests.support import bare_env
from tests.tls import Authority

pytestmark = pytest.mark.usefixtures("clean_env")

CLI_NAMES = {
    "TEMPORAL_TLS_SERVER_CA_CERT_PATH": "temporal_tls_ca",
    "TEMPORAL_TLS_CLIENT_CERT_PATH": "temporal_tls_cert",
    "TEMPORAL_TLS_CLIENT_KEY_PATH": "temporal_tls_key",
    "TEMPORAL_TLS_SERVER_NAME": "temporal_tls_server_name",
}


@pytest.fixture(autouse=True)
def _no_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in [*CLI_NAMES, "TEMPORAL_TLS", "TEMPORAL_API_KEY"]:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(("variable", "field"), CLI_NAMES.items())
def test_the_temporal_clis_variable_and_the_arrears_alias_both_set_a_tls_setting(
    variable: str, field: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, "/etc/from-cli")
    from_cli = getattr(Settings(), field)
    monkeypatch.delenv(variable)
    monkeypatch.setenv(f"ARREARS_{field.upper()}", "/etc/from-arrears")
    from_alias = getattr(Settings(), field)
    assert str(from_cli) == "/etc/from-cli"
    assert str(from_alias) == "/etc/from-arrears"


def test_the_api_key_never_appears_when_settings_are_printed_or_dumped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEMPORAL_API_KEY", "sekrit-key-123")
    settings = Settings()
    assert settings.temporal_api_key is not None
    assert settings.temporal_api_key.get_secret_value() == "sekrit-key-123"
    for shown in (repr(settings), str(settings), settings.model_dump_json()):
        assert "sekrit-key-123" not in shown


def test_an_empty_variable_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    # docker-compose passes `${TEMPORAL_API_KEY:-}` through as an empty string.
    for name in ("TEMPORAL_TLS", "TEMPORAL_API_KEY", *CLI_NAMES):
        monkeypatch.setenv(name, "")
    settings = Settings(temporal_address="temporal:7233")
    assert temporal_tls(settings) is False
    assert settings.temporal_api_key is None


def test_without_any_tls_setting_the_connection_is_plain() -> None:
    assert temporal_tls(Settings(temporal_address="temporal:7233")) is False


def test_an_api_key_alone_means_tls_with_the_system_roots_unless_tls_is_turned_off() -> None:
    keyed = Settings(temporal_address="ns.a1b2c.tmprl.cloud:7233", temporal_api_key="k")
    plain = keyed.model_copy(update={"temporal_tls": False})
    assert temporal_tls(keyed) is True
    assert temporal_tls(plain) is False


def test_mutual_tls_carries_the_files_contents_and_the_server_name(tmp_path: Path) -> None:
    authority = Authority(tmp_path, "ca")
    client = authority.issue("worker", client=True)
    settings = Settings(
        temporal_address="temporal.bank.internal:7233",
        temporal_tls_ca=authority.cert,
        temporal_tls_cert=client.cert,
        temporal_tls_key=client.key,
        temporal_tls_server_name="frontend.bank.internal",
    )
    config = temporal_tls(settings)
    assert isinstance(config, TLSConfig)
    assert config.server_root_ca_cert == authority.cert.read_bytes()
    assert config.client_cert == client.cert.read_bytes()
    assert config.client_private_key == client.key.read_bytes()
    assert config.domain == "frontend.bank.internal"


def test_a_file_that_is_not_pem_is_bad_usage_naming_it(tmp_path: Path) -> None:
    not_pem = tmp_path / "ca.der"
    not_pem.write_bytes(b"\x30\x82\x01\x0a")
    settings = Settings(temporal_address="t:7233", temporal_tls_ca=not_pem)
    with pytest.raises(UsageError, match="is not a PEM file") as raised:
        temporal_tls(settings)
    assert str(not_pem) in str(raised.value)


def test_tls_turned_off_while_certificates_are_given_is_bad_usage(tmp_path: Path) -> None:
    authority = Authority(tmp_path, "ca")
    settings = Settings(
        temporal_address="t:7233", temporal_tls=False, temporal_tls_ca=authority.cert
    )
    with pytest.raises(UsageError, match="TEMPORAL_TLS is false"):
        temporal_tls(settings)


@pytest.mark.parametrize(
    ("status", "says"),
    [
        (RPCStatusCode.UNAUTHENTICATED, "refused our credentials"),
        (RPCStatusCode.PERMISSION_DENIED, "refused our credentials"),
        (RPCStatusCode.NOT_FOUND, "answered NOT_FOUND"),
    ],
)
async def test_a_server_that_rejects_the_api_key_is_one_line_exit_3_without_the_key(
    status: RPCStatusCode, says: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No server here checks API keys (the dev server has no authorizer), so the rejection
    # Temporal Cloud answers with is raised where the SDK raises it.
    async def rejecting(*args: object, **kwargs: object) -> Client:
        raise RPCError("Request unauthorized.\nsee docs", status, b"")

    monkeypatch.setattr(Client, "connect", rejecting)
    settings = Settings(temporal_address="ns.acct.tmprl.cloud:7233", temporal_api_key="k-secret")
    with pytest.raises(ServiceUnavailable) as raised:
        await connect(settings)
    message = str(raised.value)
    assert raised.value.exit_code == 3
    assert says in message and "ns.acct.tmprl.cloud:7233" in message
    assert "\n" not in message and "k-secret" not in message


async def test_a_bad_setting_is_one_line_naming_the_variable_not_its_value_exit_2(
    tmp_path: Path,
) -> None:
    env = bare_env(TEMPORAL_TLS="yes-sekrit-value", ARREARS_HOME=str(tmp_path))
    code, out, err = await run_arrears("status", env=env)
    assert code == 2
    assert err.strip().splitlines() == [err.strip()] and out == ""
    assert "TEMPORAL_TLS" in err and "sekrit" not in err
