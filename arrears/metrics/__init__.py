"""Worker metrics for Prometheus (README "Metrics").

`ARREARS_METRICS_PORT` turns them on: the worker's Temporal runtime then serves
`/metrics` (the SDK's own metrics, `temporal_*`, and ours, `arrears_*`: `business.py`).
Without it nothing is served, recorded or refreshed.

A worker uses it as: `metrics = WorkerMetrics.start(settings)` *before* connecting (the
client, and so the worker, report through the runtime installed here), then
`client = metrics.attach(client, pool)` (the interceptors that record the business
metrics ride on the client; the gauges are read from the pool), and
`await metrics.close()` when it stops.
"""

from __future__ import annotations

import asyncpg
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig

from arrears.errors import ServiceUnavailable, UsageError
from arrears.logs import get_logger
from arrears.metrics.business import NAMES, BusinessMetrics
from arrears.metrics.gauges import GaugeRefresher
from arrears.metrics.interceptors import MetricsInterceptor
from arrears.settings import Settings
from arrears.stack.temporal import install_runtime

__all__ = ["NAMES", "BusinessMetrics", "WorkerMetrics", "serve_metrics"]


def serve_metrics(host: str, port: int) -> BusinessMetrics:
    """Install a runtime serving Prometheus on host:port; its business instruments.
    A busy port is one line and exit code 3, a bad address exit code 2."""
    try:
        runtime = install_runtime(PrometheusConfig(bind_address=f"{host}:{port}"))
    except ValueError as err:
        if "in use" in str(err):
            raise ServiceUnavailable(
                f"port {port} (worker metrics) is already in use: stop what holds it "
                "or choose another port with ARREARS_METRICS_PORT"
            ) from None
        raise UsageError(
            f"bad configuration: ARREARS_METRICS_HOST: cannot serve metrics on {host}:{port}"
        ) from None
    get_logger("arrears.metrics").info("serving metrics", url=f"http://{host}:{port}/metrics")
    return BusinessMetrics(runtime.metric_meter)


class WorkerMetrics:
    """A worker's metrics, or nothing at all when `ARREARS_METRICS_PORT` is unset."""

    def __init__(self, metrics: BusinessMetrics | None, interval: float) -> None:
        self.business = metrics
        self._interval = interval
        self._gauges = GaugeRefresher()

    @classmethod
    def start(cls, settings: Settings) -> WorkerMetrics:
        port = settings.metrics_port
        metrics = None if port is None else serve_metrics(settings.metrics_host, port)
        return cls(metrics, settings.metrics_interval_seconds)

    def attach(self, client: Client, pool: asyncpg.Pool) -> Client:
        """The worker's client, carrying the metrics interceptor (a worker takes the
        worker interceptors of its client), and the gauges kept fresh from `pool` until
        `close`. Without metrics, `client` itself and nothing started."""
        if self.business is None:
            return client
        self._gauges.start(pool, self.business, self._interval)
        config = client.config()
        config["interceptors"] = [*config["interceptors"], MetricsInterceptor(self.business)]
        return Client(**config)

    async def close(self) -> None:
        await self._gauges.stop()
