"""TLS towards a secured Temporal cluster or Temporal Cloud (PostgreSQL's is in its URL).

The certificate files are read before any connection is tried (`arrears.pem`). The API key
is never part of a message.
"""

from __future__ import annotations

from temporalio.service import TLSConfig

from arrears.errors import UsageError
from arrears.pem import read_pem
from arrears.settings import Settings


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


#: What the SDK core (rustls) says when TLS fails, and the setting to look at.
_HINTS = (
    ("InvalidContentType", "the server does not speak TLS: TEMPORAL_TLS"),
    ("UnknownIssuer", "its certificate is not signed by TEMPORAL_TLS_SERVER_CA_CERT_PATH"),
    ("NotValidForName", "its certificate is not for that name: TEMPORAL_TLS_SERVER_NAME"),
)
#: How a server that refuses our client certificate looks from here (TLS 1.3 reports the
#: refusal after the client's side of the handshake is done, so it varies with timing).
_CLOSED = ("close_notify", "BrokenPipe", "ConnectionReset", "AlertReceived", "connection closed")
_CLOSED_HINT = (
    "it closed the connection: a client certificate it does not accept? "
    "TEMPORAL_TLS_CLIENT_CERT_PATH"
)


def tls_hint(error: str) -> str:
    """` (what to check)` for a TLS connection error we recognise, else nothing."""
    for marker, hint in _HINTS:
        if marker in error:
            return f" ({hint})"
    if any(marker in error for marker in _CLOSED):
        return f" ({_CLOSED_HINT})"
    return ""
