"""A secured cluster: mutual TLS to Temporal, TLS to PostgreSQL, and one clear line (exit
2 for our own bad configuration, 3 for a server that will not have us) when it goes wrong.

`temporal server start-dev` cannot serve TLS, so a `TlsFront` stands in front of a real
dev server the way a secured frontend or load balancer does (tests/tls.py); it requires
a client certificate from the test's CA and presents a certificate for `temporal.test`
only, so the client must also honour the configured server name.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import asyncpg
import pytest
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest

from activities.stack_check import StackCheck
from arrears.settings import Settings
from arrears.stack.temporal import DevServer, connect
from arrears.store.db import create_pool, migrate
from tests.integration.conftest import Spawn, run_arrears
from tests.support import bare_env, free_ports
from tests.tls import Authority, Pem, TlsFront
from workflows.stack_check import StackCheckWorkflow

pytestmark = pytest.mark.integration

SERVER_NAME = "temporal.test"


@dataclass(frozen=True)
class Cluster:
    """A dev server behind a mutual-TLS front, and the certificates around it."""

    plain_address: str
    tls_address: str
    ca: Path
    client: Pem
    stranger_ca: Path
    stranger_client: Pem

    def env(self, **extra: str) -> dict[str, str]:
        """An `arrears` environment pointed at the secured frontend with our credentials."""
        secured = {
            "TEMPORAL_ADDRESS": self.tls_address,
            "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(self.ca),
            "TEMPORAL_TLS_CLIENT_CERT_PATH": str(self.client.cert),
            "TEMPORAL_TLS_CLIENT_KEY_PATH": str(self.client.key),
            "TEMPORAL_TLS_SERVER_NAME": SERVER_NAME,
        }
        return bare_env(**(secured | extra))


@pytest.fixture(scope="module")
async def cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cluster]:
    home = tmp_path_factory.mktemp("secured-temporal")
    temporal_port, ui_port = free_ports(2)
    server = DevServer(Settings(temporal_port=temporal_port, ui_port=ui_port, home=home), home)
    await server.start()
    authority = Authority(home / "ca", "cluster-ca")
    stranger = Authority(home / "stranger", "stranger-ca")
    front = TlsFront(
        ("127.0.0.1", temporal_port),
        authority.issue("frontend", hosts=(SERVER_NAME,)),
        protocol="h2",
        client_ca=authority.cert,
    )
    try:
        async with front:
            yield Cluster(
                plain_address=server.address,
                tls_address=front.address,
                ca=authority.cert,
                client=authority.issue("arrears-worker", client=True),
                stranger_ca=stranger.cert,
                stranger_client=stranger.issue("intruder", client=True),
            )
    finally:
        await server.stop()


def _settings(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings read from `env` exactly as a process started with it reads them."""
    for name, value in env.items():
        if name.startswith(("ARREARS_", "TEMPORAL_")):
            monkeypatch.setenv(name, value)
    return Settings()


async def test_a_worker_on_mutual_tls_and_verified_postgresql_tls_runs_a_workflow(
    cluster: Cluster,
    spawn: Spawn,
    fresh_database_url: str,
    clean_env: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    authority = Authority(tmp_path / "db-ca", "db-ca")
    backend = urlsplit(fresh_database_url)
    db_front = TlsFront(
        (backend.hostname or "127.0.0.1", backend.port or 5432),
        authority.issue("eventstore", hosts=("127.0.0.1",)),
        protocol="postgres",
    )
    async with db_front:
        query = urlencode({"sslmode": "verify-full", "sslrootcert": str(authority.cert)})
        netloc = backend.netloc.rpartition("@")[0] + "@" + db_front.address
        database_url = urlunsplit(backend._replace(netloc=netloc, query=query))
        pool = await create_pool(database_url, max_size=1)
        await migrate(pool)
        await pool.close()
        queue = f"tls-{uuid.uuid4().hex[:8]}"
        env = cluster.env(DATABASE_URL=database_url, ARREARS_TASK_QUEUE=queue)
        await spawn("worker", env=env)

        client = await connect(_settings(env, monkeypatch))
        check_id = f"tls-check-{uuid.uuid4().hex[:8]}"
        result = await asyncio.wait_for(
            client.execute_workflow(
                StackCheckWorkflow.run, StackCheck(check_id=check_id), id=check_id, task_queue=queue
            ),
            timeout=60,
        )
        sessions = db_front.tls_sessions

    conn = await asyncpg.connect(fresh_database_url)
    try:
        row = await conn.fetchrow(
            "SELECT workflow_id FROM stack_checks WHERE check_id = $1", check_id
        )
    finally:
        await conn.close()
    assert result.check_id == check_id
    assert row is not None and row["workflow_id"] == check_id
    assert sessions >= 2  # our migration, and the worker's pool


async def _one_line_failure(env: dict[str, str]) -> tuple[int, str]:
    # `arrears status` connects to Temporal before it needs PostgreSQL.
    code, out, err = await run_arrears("status", env=env)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("arrears: "), err
    assert "Traceback" not in err and out == ""
    return code, lines[0]


async def test_a_client_certificate_from_another_authority_is_refused_with_exit_3(
    cluster: Cluster,
) -> None:
    code, line = await _one_line_failure(
        cluster.env(
            TEMPORAL_TLS_CLIENT_CERT_PATH=str(cluster.stranger_client.cert),
            TEMPORAL_TLS_CLIENT_KEY_PATH=str(cluster.stranger_client.key),
        )
    )
    assert code == 3
    # How the refusal reads (and so whether a hint is added) varies with TLS 1.3 timing.
    assert cluster.tls_address in line and "over TLS" in line


async def test_a_frontend_certificate_our_ca_did_not_sign_is_refused_with_exit_3(
    cluster: Cluster,
) -> None:
    code, line = await _one_line_failure(
        cluster.env(TEMPORAL_TLS_SERVER_CA_CERT_PATH=str(cluster.stranger_ca))
    )
    assert code == 3
    assert "TEMPORAL_TLS_SERVER_CA_CERT_PATH" in line


async def test_a_server_name_the_certificate_does_not_carry_is_refused_with_exit_3(
    cluster: Cluster,
) -> None:
    code, line = await _one_line_failure(cluster.env(TEMPORAL_TLS_SERVER_NAME="elsewhere.test"))
    assert code == 3
    assert "TEMPORAL_TLS_SERVER_NAME" in line


async def test_tls_to_the_plain_dev_server_fails_in_one_line_with_exit_3(cluster: Cluster) -> None:
    env = bare_env(TEMPORAL_ADDRESS=cluster.plain_address, TEMPORAL_TLS="true")
    code, line = await _one_line_failure(env)
    assert code == 3
    assert cluster.plain_address in line and "does not speak TLS" in line


async def test_an_api_key_turns_tls_on_and_is_never_printed(cluster: Cluster) -> None:
    key = "key-" + uuid.uuid4().hex
    env = bare_env(TEMPORAL_ADDRESS=cluster.plain_address, TEMPORAL_API_KEY=key)
    code, line = await _one_line_failure(env)
    assert code == 3
    assert "over TLS" in line and key not in line


async def test_a_missing_client_key_file_is_bad_usage_naming_it_with_exit_2(
    cluster: Cluster, tmp_path: Path
) -> None:
    missing = tmp_path / "gone.key"
    code, line = await _one_line_failure(cluster.env(TEMPORAL_TLS_CLIENT_KEY_PATH=str(missing)))
    assert code == 2
    assert str(missing) in line


async def test_a_client_certificate_without_its_key_is_bad_usage_with_exit_2(
    cluster: Cluster,
) -> None:
    env = cluster.env()
    env.pop("TEMPORAL_TLS_CLIENT_KEY_PATH")
    code, line = await _one_line_failure(env)
    assert code == 2
    assert "TEMPORAL_TLS_CLIENT_KEY_PATH" in line


async def test_the_embedded_dev_server_is_reached_in_plain_grpc_whatever_tls_says(
    cluster: Cluster, clean_env: None
) -> None:
    port = int(cluster.plain_address.rsplit(":", 1)[1])
    settings = Settings(
        temporal_port=port, temporal_tls=True, temporal_api_key="unused", temporal_tls_ca=cluster.ca
    )
    client = await connect(settings)
    assert settings.embedded_temporal
    assert (await client.workflow_service.get_system_info(GetSystemInfoRequest())).server_version
