"""The metrics part of the compose stack (deploy/, docker-compose.yml) is wired end to end:
Prometheus scrapes each worker where it serves /metrics, Grafana reads that Prometheus and
loads the dashboard, and the dashboard shows every business metric. As in
tests/test_compose.py, nothing is run (no Docker engine here): the files are read and each
wire between them is checked. That the dashboard's queries name metrics a worker really
serves is checked against a live worker in tests/arrears/metrics/test_worker_metrics.py.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from arrears.metrics import NAMES
from arrears.settings import Settings
from tests.support import dashboard_metrics
from tests.test_compose import ROOT, container_ports, service, service_env

DEPLOY = ROOT / "deploy"
DASHBOARD = DEPLOY / "grafana" / "arrears.json"


def _yaml(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict), f"{path} is not a mapping"
    return document


def mounts(name: str) -> dict[PurePosixPath, Path]:
    """A service's bind mounts: path in the container -> file or folder in the repository."""
    found: dict[PurePosixPath, Path] = {}
    for entry in service(name).get("volumes") or []:
        source, target = str(entry).split(":")[:2]
        if source.startswith("./"):
            found[PurePosixPath(target)] = ROOT / source
    return found


def worker_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for key, value in service_env("worker").items():
        monkeypatch.setenv(key, value or "")
    return Settings()


def test_prometheus_scrapes_every_worker_replica_where_it_serves_metrics(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = worker_settings(monkeypatch, tmp_path)
    jobs = _yaml(DEPLOY / "prometheus.yml")["scrape_configs"]
    discovered = [sd for job in jobs for sd in job.get("dns_sd_configs", [])]

    assert settings.metrics_port is not None, "the compose worker serves no metrics"
    assert settings.metrics_host == "0.0.0.0", "Prometheus, another container, could not reach it"
    assert settings.metrics_port in container_ports("worker")
    # One A record per replica of the `worker` service: `--scale worker=N` is scraped N times.
    assert [(sd["names"], sd["type"], sd["port"]) for sd in discovered] == [
        (["worker"], "A", settings.metrics_port)
    ]


def test_the_prometheus_service_runs_with_the_scrape_config_from_deploy() -> None:
    flags = [str(arg) for arg in service("prometheus").get("command") or []]
    config = next(f.split("=", 1)[1] for f in flags if f.startswith("--config.file="))

    assert mounts("prometheus").get(PurePosixPath(config)) == DEPLOY / "prometheus.yml"


def test_grafana_reads_the_compose_prometheus_and_loads_the_arrears_dashboard() -> None:
    mounted = mounts("grafana")
    provisioning = mounted[PurePosixPath("/etc/grafana/provisioning")]
    (source,) = _yaml(provisioning / "datasources" / "prometheus.yml")["datasources"]
    (provider,) = _yaml(provisioning / "dashboards" / "arrears.yml")["providers"]
    url = urlsplit(source["url"])
    home = service_env("grafana")["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    panel_sources = {
        (panel["datasource"]["type"], panel["datasource"]["uid"])
        for panel in json.loads(DASHBOARD.read_text())["panels"]
        if "datasource" in panel
    }

    assert (url.hostname, url.port) == ("prometheus", 9090)
    assert url.port in container_ports("prometheus")
    assert panel_sources == {(source["type"], source["uid"])}
    assert home is not None and mounted[PurePosixPath(home)] == DASHBOARD
    assert PurePosixPath(home).parent == PurePosixPath(provider["options"]["path"])


def test_the_dashboard_shows_every_business_metric_and_no_unknown_one() -> None:
    shown = {name for name in dashboard_metrics(DASHBOARD) if name.startswith("arrears_")}

    assert shown == set(NAMES)
