"""`arrears simulate SCENARIO`: one scenario's timeline (CONTRACTS.md §2), on the domain
alone or through the real workflow on a private time-skipping server (`on_temporal`)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

from pydantic import ValidationError

from arrears.errors import UsageError
from arrears.intake.csv_forms import structured
from arrears.policies import load_policy
from domain.errors import DomainError
from domain.placement import PlacementRow, row_errors
from domain.simulation import Scenario, Timeline, simulate


def load_scenario(path: Path) -> Scenario:
    """The scenario file, or one clear line naming the field and the reason (exit 2).

    Errors in `account` are reported with the placement row's own reasons, which never
    repeat the value (it may be personal data).
    """
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(
            f"scenario {path}: cannot read: {getattr(err, 'strerror', None) or err}"
        ) from None
    try:
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as err:
        raise UsageError(f"scenario {path}: not valid JSON: {err}") from None
    if not isinstance(data, dict):
        raise UsageError(f"scenario {path}: expected a JSON object")
    if isinstance(data.get("account"), dict):  # its columns as a placement file has them
        data["account"] = structured(data["account"])
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise UsageError(f"scenario {path}: {_first_problem(err, data)}") from None


def _first_problem(err: ValidationError, data: dict[str, object]) -> str:
    first = err.errors(include_input=False, include_url=False)[0]
    loc = first["loc"]
    if loc and loc[0] == "account" and isinstance(data.get("account"), dict):
        try:
            PlacementRow.model_validate(data["account"])  # made `structured` above
        except ValidationError as row_err:
            column, reason = row_errors(row_err)[0]
            return f"account.{column}: {reason}"
    field = ".".join(str(p) for p in loc) or "(file)"
    return f"{field}: {first['msg']}"


def run_scenario(path: Path, engine: str) -> Timeline:
    scenario = load_scenario(path)
    if engine not in ("domain", "temporal"):
        raise UsageError(f"unknown engine {engine!r}: use domain or temporal")
    policy = load_policy(scenario.profile)
    try:
        if engine == "temporal":
            from arrears.simulate.on_temporal import simulate_on_temporal

            with _sdk_chatter_quieted():
                return asyncio.run(simulate_on_temporal(scenario, policy))
        return simulate(scenario, policy)
    except DomainError as err:
        raise UsageError(f"scenario {path}: {err}") from None


@contextmanager
def _sdk_chatter_quieted() -> Iterator[None]:
    """The Temporal SDK's own log lines below ERROR, silenced while a scenario runs on
    the private time-skipping server: its worker says when it starts and stops, and
    warns that this test server lacks a capability production servers have. Neither
    concerns someone reading a timeline; an error still shows."""
    sdk = logging.getLogger("temporalio")
    level = sdk.level
    sdk.setLevel(logging.ERROR)
    try:
        yield
    finally:
        sdk.setLevel(level)
