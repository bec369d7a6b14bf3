"""docker-compose.yml and the settings model cannot drift apart.

The compose file is never run here (no Docker engine in CI); it is read with yaml.safe_load
and every wire it lays between the services is checked against `arrears.settings`: the
variables it hands the application, the addresses they point at, the search attributes
it registers, the ports it publishes. Compose `${VAR:-default}` interpolation is resolved
as `docker compose` resolves it with VAR unset, i.e. the committed defaults are checked.
"""

from __future__ import annotations

import json
import re
import shlex
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from pydantic import AliasChoices

from arrears.settings import SEARCH_ATTRIBUTES, Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"

APP_SERVICES = ("worker", "migrate")
TEMPORAL_FRONTEND_PORT = 7233
POSTGRES_PORT = 5432

_INTERPOLATION = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
)


# --- reading the compose file -----------------------------------------------------------


def interpolate(value: str) -> str:
    """Resolve compose interpolation the way `docker compose` does when VAR is unset."""

    def resolve(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        op = match.group("op")
        if op in (":-", "-"):
            return match.group("arg")
        if op in (":?", "?"):
            raise ValueError(f"compose requires {match.group('name')} to be set")
        return ""

    return _INTERPOLATION.sub(resolve, value)


@cache
def compose() -> dict[str, Any]:
    with COMPOSE_FILE.open() as fh:
        document = yaml.safe_load(fh)
    assert isinstance(document, dict), "docker-compose.yml is not a mapping"
    return document


def service(name: str) -> dict[str, Any]:
    services = compose().get("services") or {}
    assert name in services, f"docker-compose.yml has no `{name}` service"
    definition = services[name]
    assert isinstance(definition, dict), f"`{name}` is not a mapping"
    return definition


def service_env(name: str) -> dict[str, str | None]:
    """A service's `environment`, in either compose syntax, interpolated."""
    raw = service(name).get("environment") or {}
    pairs: dict[str, Any] = {}
    if isinstance(raw, dict):
        pairs = dict(raw)
    else:
        for item in raw:
            key, sep, value = str(item).partition("=")
            pairs[key] = value if sep else None
    return {
        key: None if value is None else interpolate(_scalar(value)) for key, value in pairs.items()
    }


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def depends_on(name: str) -> dict[str, str]:
    """Dependency -> condition, in either compose syntax (the list form means started)."""
    raw = service(name).get("depends_on") or {}
    if isinstance(raw, list):
        return {dep: "service_started" for dep in raw}
    return {dep: (spec or {}).get("condition", "service_started") for dep, spec in raw.items()}


def port_mappings(name: str) -> list[tuple[int | None, int]]:
    """(host port or None, container port) for each `ports` entry of a service."""
    mappings: list[tuple[int | None, int]] = []
    for entry in service(name).get("ports") or []:
        if isinstance(entry, dict):
            published = entry.get("published")
            mappings.append(
                (int(interpolate(str(published))) if published else None, int(entry["target"]))
            )
            continue
        spec = interpolate(str(entry)).split("/", 1)[0]
        parts = spec.rsplit(":", 2)  # [ip:]host:container or container
        host = parts[-2] if len(parts) >= 2 else ""
        mappings.append((int(host) if host else None, int(parts[-1])))
    return mappings


def container_ports(name: str) -> set[int]:
    """Ports a service declares it listens on: `ports` targets and `expose`."""
    ports = {container for _, container in port_mappings(name)}
    ports |= {int(str(p).split("/", 1)[0]) for p in service(name).get("expose") or []}
    return ports


def host_port_and_target(address: str) -> tuple[str | None, int | None]:
    parts = urlsplit(f"//{address}")
    return parts.hostname, parts.port


def dockerfile_instruction(instruction: str) -> list[str]:
    """The exec-form argv of the last ENTRYPOINT/CMD in the Dockerfile (the final stage's)."""
    found = re.findall(rf"^{instruction}\s+(\[.*\])\s*$", DOCKERFILE.read_text(), re.MULTILINE)
    assert found, f"Dockerfile has no exec-form {instruction}"
    argv = json.loads(found[-1])
    assert isinstance(argv, list)
    return [str(arg) for arg in argv]


def effective_argv(name: str) -> list[str]:
    svc = service(name)
    if "entrypoint" in svc:  # overriding the entrypoint also drops the image's CMD
        entrypoint, command = svc["entrypoint"], svc.get("command", [])
    else:
        entrypoint = dockerfile_instruction("ENTRYPOINT")
        command = svc.get("command", dockerfile_instruction("CMD"))
    as_list = [
        shlex.split(part) if isinstance(part, str) else part for part in (entrypoint, command)
    ]
    return [str(arg) for part in as_list for arg in part]


def settings_env_names() -> set[str]:
    """Every environment variable name the Settings model reads."""
    prefix = Settings.model_config.get("env_prefix", "")
    names: set[str] = set()
    for field_name, field in Settings.model_fields.items():
        alias = field.validation_alias
        if alias is None:
            names.add(f"{prefix}{field_name}".upper())
        elif isinstance(alias, AliasChoices):
            names.update(choice for choice in alias.choices if isinstance(choice, str))
        elif isinstance(alias, str):
            names.add(alias)
    return names


def registered_search_attributes() -> list[tuple[str, str, str | None]]:
    """(name, type, --address) of each `temporal operator search-attribute create` call."""
    svc = service("temporal-admin-tools")
    script_parts: list[str] = []
    for key in ("entrypoint", "command"):
        value = svc.get(key) or []
        script_parts.extend([value] if isinstance(value, str) else [str(v) for v in value])
    script = interpolate("\n".join(script_parts))

    calls: list[tuple[str, str, str | None]] = []
    for line in script.splitlines():
        if not re.search(r"\btemporal\s+operator\s+search-attribute\s+create\b", line):
            continue
        args = shlex.split(line, comments=True)
        flags: dict[str, str] = {}
        for i, arg in enumerate(args):
            if arg.startswith("--") and "=" in arg:
                key, _, value = arg.partition("=")
                flags[key] = value
            elif arg.startswith("--") and i + 1 < len(args):
                flags[arg] = args[i + 1]
        assert "--name" in flags and "--type" in flags, f"unparseable registration: {line!r}"
        calls.append((flags["--name"], flags["--type"], flags.get("--address")))
    return calls


# --- the application's environment matches the settings model ---------------------------


@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_variable_passed_to_the_app_is_one_the_settings_model_reads(name: str) -> None:
    env = service_env(name)
    assert env, f"`{name}` passes no environment"
    unknown = sorted(set(env) - settings_env_names())
    assert not unknown, f"`{name}` sets variables Settings never reads: {unknown}"


def test_no_arrears_variable_anywhere_in_the_compose_file_is_unknown_to_settings() -> None:
    mentioned = set(re.findall(r"\bARREARS_[A-Z0-9_]+", COMPOSE_FILE.read_text()))
    unknown = sorted(mentioned - settings_env_names())
    assert not unknown, f"docker-compose.yml mentions ARREARS_* names Settings lacks: {unknown}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_settings_built_from_the_app_environment_use_the_compose_services(
    name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for var in settings_env_names():
        monkeypatch.delenv(var, raising=False)
    env = service_env(name)
    for key, value in env.items():
        assert value is not None, f"`{name}` passes {key} through from the host unset"
        monkeypatch.setenv(key, value)

    settings = Settings()

    assert settings.embedded_temporal is False
    assert settings.embedded_postgres is False
    assert settings.temporal_target == "temporal:7233"
    assert settings.db_url == env["DATABASE_URL"]
    assert settings.temporal_namespace == "default"
    assert settings.log_format == "json"


def test_the_worker_environment_sets_queue_concurrency_and_json_logs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env = service_env("worker")
    for key in ("ARREARS_TASK_QUEUE", "ARREARS_WORKER_CONCURRENCY", "ARREARS_LOG_FORMAT"):
        assert env.get(key), f"worker does not set {key}"
    monkeypatch.chdir(tmp_path)
    for var in settings_env_names():
        monkeypatch.delenv(var, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value or "")

    settings = Settings()  # raises if e.g. the concurrency is not a positive integer

    assert settings.task_queue == env["ARREARS_TASK_QUEUE"]
    assert settings.worker_concurrency == int(env["ARREARS_WORKER_CONCURRENCY"] or "")


def secured_cluster_variables() -> set[str]:
    """The unprefixed names (the `temporal` CLI's) of every Temporal TLS / API key setting."""
    names: set[str] = set()
    for field_name, field in Settings.model_fields.items():
        if field_name.startswith(("temporal_tls", "temporal_api_key")):
            assert isinstance(field.validation_alias, AliasChoices)
            names.update(
                choice
                for choice in field.validation_alias.choices
                if isinstance(choice, str) and not choice.startswith("ARREARS_")
            )
    return names


def test_the_worker_passes_every_secured_cluster_setting_through_from_the_host(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    names = secured_cluster_variables()
    raw = {key: str(value) for key, value in (service("worker").get("environment") or {}).items()}
    env = service_env("worker")

    assert names >= {"TEMPORAL_TLS", "TEMPORAL_API_KEY", "TEMPORAL_TLS_CLIENT_CERT_PATH"}
    assert {name: raw.get(name) for name in names} == {name: f"${{{name}:-}}" for name in names}
    monkeypatch.chdir(tmp_path)
    for var in settings_env_names():
        monkeypatch.delenv(var, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value or "")
    settings = Settings()  # empty by default: plain gRPC to the compose Temporal
    assert settings.temporal_tls is None and settings.temporal_api_key is None
    assert settings.temporal_tls_cert is None and settings.temporal_tls_ca is None


# --- the addresses point at the right services ------------------------------------------


@pytest.mark.parametrize("name", APP_SERVICES)
def test_the_app_reaches_temporal_on_the_port_the_temporal_service_listens_on(
    name: str,
) -> None:
    address = service_env(name).get("TEMPORAL_ADDRESS")
    assert address, f"`{name}` has no TEMPORAL_ADDRESS (it would use the embedded server)"
    host, port = host_port_and_target(address)

    assert host == "temporal"
    assert "temporal" in compose()["services"]
    assert port == TEMPORAL_FRONTEND_PORT
    assert port in container_ports("temporal"), "the temporal service does not listen there"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_the_app_reaches_the_event_store_with_its_own_database_and_credentials(
    name: str,
) -> None:
    url = service_env(name).get("DATABASE_URL")
    assert url, f"`{name}` has no DATABASE_URL (it would use the embedded PostgreSQL)"
    parts = urlsplit(url)
    store = service_env("eventstore")

    assert parts.scheme in ("postgresql", "postgres")
    assert parts.hostname == "eventstore"
    assert (parts.port or POSTGRES_PORT) == POSTGRES_PORT
    assert unquote(parts.username or "") == store.get("POSTGRES_USER")
    assert unquote(parts.password or "") == store.get("POSTGRES_PASSWORD")
    assert parts.path.lstrip("/") == store.get("POSTGRES_DB", store.get("POSTGRES_USER"))


def test_migrate_prepares_the_same_database_the_worker_uses() -> None:
    assert service_env("migrate")["DATABASE_URL"] == service_env("worker")["DATABASE_URL"]


def test_the_event_store_is_not_temporals_database() -> None:
    assert service_env("temporal")["POSTGRES_SEEDS"] != "eventstore"
    volumes = [set(map(str, service(n).get("volumes") or [])) for n in ("postgresql", "eventstore")]
    assert volumes[0] and volumes[1], "each PostgreSQL needs a volume for its data"
    named = [{v.split(":", 1)[0] for v in vols} for vols in volumes]
    assert not named[0] & named[1], "both PostgreSQL services write to the same volume"


def test_temporal_persists_to_the_postgresql_service_with_its_credentials() -> None:
    temporal = service_env("temporal")
    database = service_env("postgresql")

    assert temporal.get("DB") == "postgres12"
    assert temporal.get("POSTGRES_SEEDS") == "postgresql"
    assert int(temporal.get("DB_PORT") or 0) == POSTGRES_PORT
    assert temporal.get("POSTGRES_USER") == database.get("POSTGRES_USER")
    assert temporal.get("POSTGRES_PWD") == database.get("POSTGRES_PASSWORD")
    assert depends_on("temporal").get("postgresql") == "service_healthy"


# --- search attributes, UI --------------------------------------------------------------


def test_the_admin_tools_register_exactly_the_search_attributes_the_workflow_sets() -> None:
    calls = registered_search_attributes()
    names = [name for name, _, _ in calls]

    assert len(names) == len(set(names)), f"registered twice: {names}"
    assert {name: type_ for name, type_, _ in calls} == SEARCH_ATTRIBUTES
    assert {address for _, _, address in calls} == {"temporal:7233"}
    assert "temporal" in depends_on("temporal-admin-tools")


def test_the_namespace_retention_is_set_explicitly_and_is_the_one_the_workers_are_told(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    created_with = service_env("temporal").get("DEFAULT_NAMESPACE_RETENTION")
    script = interpolate(" ".join(map(str, service("temporal-admin-tools").get("command") or [])))
    updated_to = re.findall(r"temporal operator namespace update .*--retention (\S+)", script)
    monkeypatch.chdir(tmp_path)
    for var in settings_env_names():
        monkeypatch.delenv(var, raising=False)
    for key, value in service_env("worker").items():
        monkeypatch.setenv(key, value or "")
    days = Settings().temporal_retention_days

    assert "ARREARS_TEMPORAL_RETENTION_DAYS" in service_env("worker")
    assert created_with == f"{days * 24}h"
    assert updated_to == [f"{days * 24}h"]


def test_the_ui_is_published_on_the_port_of_the_embedded_dev_servers_ui() -> None:
    default_ui_port = Settings.model_fields["ui_port"].default
    ui_ports = port_mappings("temporal-ui")

    assert ui_ports, "temporal-ui publishes no port"
    assert (default_ui_port, 8080) in ui_ports
    host, port = host_port_and_target(service_env("temporal-ui").get("TEMPORAL_ADDRESS") or "")
    assert host == "temporal"
    assert port in container_ports("temporal")


# --- start-up order, commands, scaling --------------------------------------------------


def test_the_worker_starts_after_temporal_the_event_store_and_the_one_shot_setup() -> None:
    deps = depends_on("worker")

    assert deps.keys() >= {"temporal", "eventstore", "migrate", "temporal-admin-tools"}
    assert deps["eventstore"] == "service_healthy"
    assert deps["migrate"] == "service_completed_successfully"
    assert deps["temporal-admin-tools"] == "service_completed_successfully"
    assert depends_on("migrate").get("eventstore") == "service_healthy"


def test_every_service_waited_on_as_healthy_has_a_pg_isready_healthcheck() -> None:
    waited_on = {
        dep
        for name in compose()["services"]
        for dep, condition in depends_on(name).items()
        if condition == "service_healthy"
    }
    assert waited_on >= {"postgresql", "eventstore"}
    for name in waited_on:
        check = service(name).get("healthcheck") or {}
        assert not check.get("disable"), f"`{name}` disables its healthcheck"
        test = check.get("test")
        command = test if isinstance(test, str) else " ".join(map(str, test or []))
        assert "pg_isready" in command, f"`{name}` is waited on but has no pg_isready check"


@pytest.mark.parametrize(("name", "subcommand"), [("worker", "worker"), ("migrate", "migrate")])
def test_the_app_services_run_the_arrears_cli_from_the_repository_image(
    name: str, subcommand: str
) -> None:
    svc = service(name)
    build = svc.get("build")
    context = build if isinstance(build, str) else (build or {}).get("context")
    dockerfile = "Dockerfile" if isinstance(build, str) else (build or {}).get("dockerfile")

    assert context in (".", "./"), f"`{name}` is not built from the repository"
    assert (dockerfile or "Dockerfile") == "Dockerfile"
    assert svc.get("image") == service("worker").get("image"), "migrate and worker images differ"
    assert effective_argv(name) == ["arrears", subcommand]


def test_the_image_defaults_to_running_a_worker() -> None:
    assert dockerfile_instruction("ENTRYPOINT") == ["arrears"]
    assert dockerfile_instruction("CMD") == ["worker"]


def test_the_worker_can_be_scaled_out_to_many_containers() -> None:
    worker = service("worker")

    assert "container_name" not in worker, "a fixed container_name prevents --scale"
    assert all(host is None for host, _ in port_mappings("worker")), "host ports clash on scale"
    assert "--scale worker=" in COMPOSE_FILE.read_text(), "the scaling recipe is documented"
