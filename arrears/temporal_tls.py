"""TLS towards a secured Temporal cluster or Temporal Cloud (PostgreSQL's is in its URL).

Certificate files are read here, before any connection is tried, so that a wrong path is
bad usage (one line, exit code 2) and not confused with a server that refuses us (exit
code 3). The API key is never part of a message.
"""

from __future__ import annotations

from pathlib import Path

from temporalio.service import TLSConfig

from arrears.errors import UsageError
from arrears.settings import Settings


def read_pem(path: Path, what: str) -> bytes:
    """The bytes of a PEM file, or one line saying which file and why not."""
    try:
        data = path.expanduser().read_bytes()
    except OSError as err:
        raise UsageError(f"cannot read the {what} {path}: {err.strerror or err}") from None
    if b"-----BEGIN " not in data:
        raise UsageError(f"the {what} {path} is not a PEM file")
    return data


def temporal_tls(settings: Settings) -> TLSConfig | bool:
    """The `tls=` argument for `Client.connect`, from the settings.

    As the `temporal` CLI does, TLS is on when any TLS file, a server name or an API key is
    set, unless TEMPORAL_TLS=false says otherwise; TEMPORAL_TLS=true alone means TLS
    checked against the system's root certificates (Temporal Cloud with an API key).
    """
    files = (settings.temporal_tls_ca, settings.temporal_tls_cert, settings.temporal_tls_key)
    configured = any(f is not None for f in files) or bool(settings.temporal_tls_server_name)
    wanted = settings.temporal_tls
    if wanted is None:
        wanted = configured or settings.temporal_api_key is not None
    if not wanted:
        if configured:
            raise UsageError("TEMPORAL_TLS is false but TLS certificate settings are given")
        return False
    if (settings.temporal_tls_cert is None) != (settings.temporal_tls_key is None):
        raise UsageError(
            "a client certificate needs its key: set both TEMPORAL_TLS_CLIENT_CERT_PATH "
            "and TEMPORAL_TLS_CLIENT_KEY_PATH"
        )
    if not configured:
        return True
    ca, cert, key = (
        None if path is None else read_pem(path, what)
        for path, what in zip(
            files,
            ("Temporal server CA", "Temporal client certificate", "Temporal client key"),
            strict=True,
        )
    )
    return TLSConfig(
        server_root_ca_cert=ca,
        client_cert=cert,
        client_private_key=key,
        domain=settings.temporal_tls_server_name or None,
    )
