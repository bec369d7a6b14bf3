"""PostgreSQL over TLS: `sslmode`/`sslrootcert` in DATABASE_URL are honoured by the pool and
by the CLI; a server whose certificate the CA does not vouch for is refused in one line."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import pytest

from arrears.errors import ServiceUnavailable, UsageError
from arrears.store.db import create_pool
from tests.integration.conftest import run_arrears
from tests.support import bare_env
from tests.tls import Authority, TlsFront


@dataclass(frozen=True)
class TlsPostgres:
    """A database reached through a TLS front whose certificate (for 127.0.0.1) `ca` signed."""

    front: TlsFront
    database_url: str
    ca: Path
    other_ca: Path

    def url(self, **params: str) -> str:
        parts = urlsplit(self.database_url)
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = f"{userinfo}@{self.front.address}" if userinfo else self.front.address
        return urlunsplit(parts._replace(netloc=netloc, query=urlencode(params)))


@pytest.fixture(scope="module")
async def tls_front(
    postgres_server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[TlsFront, Path, Path]]:
    folder = tmp_path_factory.mktemp("pg-tls")
    authority = Authority(folder / "ca", "test-ca")
    stranger = Authority(folder / "other", "other-ca")
    backend = urlsplit(postgres_server_url)
    server = authority.issue("postgres-server", hosts=("127.0.0.1",))
    front = TlsFront(
        (backend.hostname or "127.0.0.1", backend.port or 5432), server, protocol="postgres"
    )
    async with front:
        yield front, authority.cert, stranger.cert


@pytest.fixture
def tls_postgres(tls_front: tuple[TlsFront, Path, Path], fresh_database_url: str) -> TlsPostgres:
    front, ca, other_ca = tls_front
    return TlsPostgres(front, fresh_database_url, ca, other_ca)


async def _tls_sessions_opened_by(url: str, front: TlsFront) -> int:
    before = front.tls_sessions
    pool = await create_pool(url, max_size=1)
    try:
        assert await pool.fetchval("SELECT 1") == 1
    finally:
        await pool.close()
    return front.tls_sessions - before


async def test_verify_full_with_the_servers_ca_connects_over_tls(
    tls_postgres: TlsPostgres,
) -> None:
    url = tls_postgres.url(sslmode="verify-full", sslrootcert=str(tls_postgres.ca))
    assert await _tls_sessions_opened_by(url, tls_postgres.front) >= 1


async def test_sslmode_disable_is_honoured_even_when_the_server_offers_tls(
    tls_postgres: TlsPostgres,
) -> None:
    url = tls_postgres.url(sslmode="disable")
    assert await _tls_sessions_opened_by(url, tls_postgres.front) == 0


async def test_verify_full_against_a_ca_that_did_not_sign_the_server_is_refused(
    tls_postgres: TlsPostgres,
) -> None:
    url = tls_postgres.url(sslmode="verify-full", sslrootcert=str(tls_postgres.other_ca))
    with pytest.raises(ServiceUnavailable) as raised:
        await create_pool(url, max_size=1)
    message = str(raised.value)
    assert "\n" not in message
    assert "certificate verify failed" in message


async def test_the_cli_refuses_a_server_its_ca_does_not_vouch_for_in_one_line_exit_3(
    tls_postgres: TlsPostgres, tmp_path: Path
) -> None:
    url = tls_postgres.url(
        sslmode="verify-full", sslrootcert=str(tls_postgres.other_ca), sslpassword="hush"
    )
    code, _, err = await run_arrears("migrate", env=_env(tmp_path, url))
    assert code == 3, err
    assert len(err.strip().splitlines()) == 1
    assert "certificate verify failed" in err
    assert "hush" not in err


async def test_the_cli_migrates_over_verified_tls(
    tls_postgres: TlsPostgres, tmp_path: Path
) -> None:
    url = tls_postgres.url(sslmode="verify-full", sslrootcert=str(tls_postgres.ca))
    code, _, err = await run_arrears("migrate", env=_env(tmp_path, url))
    assert code == 0, err


async def test_a_missing_root_certificate_file_is_bad_usage_naming_the_file(
    tls_postgres: TlsPostgres, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere" / "root.crt"
    url = tls_postgres.url(sslmode="verify-full", sslrootcert=str(missing))
    with pytest.raises(UsageError, match="sslrootcert"):
        await create_pool(url, max_size=1)
    code, _, err = await run_arrears("migrate", env=_env(tmp_path, url))
    assert code == 2, err
    assert err.strip().splitlines() == [err.strip()]
    assert str(missing) in err


def _env(tmp_path: Path, url: str) -> dict[str, str]:
    return bare_env(DATABASE_URL=url, ARREARS_HOME=str(tmp_path))
