"""Business instruments on an in-memory metric buffer of a real SDK runtime."""

from __future__ import annotations

import pytest
from temporalio.runtime import MetricBuffer, Runtime, TelemetryConfig

from arrears.metrics import BusinessMetrics


@pytest.fixture
def buffer() -> MetricBuffer:
    return MetricBuffer(1000)


@pytest.fixture
def metrics(buffer: MetricBuffer) -> BusinessMetrics:
    runtime = Runtime(telemetry=TelemetryConfig(metrics=buffer))
    instruments = BusinessMetrics(runtime.metric_meter)
    buffer.retrieve_updates()  # what it serves from the start (payments: 0) is not at issue
    return instruments


def recorded(buffer: MetricBuffer) -> list[tuple[str, dict[str, str | int | float | bool], float]]:
    """(metric, our labels, value) of each update (the runtime's `service_name` dropped)."""
    return [
        (
            update.metric.name,
            {k: v for k, v in update.attributes.items() if k != "service_name"},
            update.value,
        )
        for update in buffer.retrieve_updates()
    ]
