"""`arrears simulate`: a scenario's timeline, or a portfolio report (CONTRACTS.md §2)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

from pydantic import ValidationError

from arrears.errors import ArrearsError, UsageError
from arrears.placement_file import read_placements
from arrears.policies import load_policy
from domain.errors import DomainError
from domain.placement import PlacementRow, row_errors
from domain.portfolio import PortfolioReport, simulate_portfolio
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
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise UsageError(f"scenario {path}: {_first_problem(err, data)}") from None


def _first_problem(err: ValidationError, data: dict[str, object]) -> str:
    first = err.errors(include_input=False, include_url=False)[0]
    loc = first["loc"]
    if loc and loc[0] == "account" and isinstance(data.get("account"), dict):
        try:
            PlacementRow.model_validate(data["account"])
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
            from arrears.temporal_sim import simulate_on_temporal

            return asyncio.run(simulate_on_temporal(scenario, policy))
        return simulate(scenario, policy)
    except DomainError as err:
        raise UsageError(f"scenario {path}: {err}") from None


def run_portfolio(
    path: Path, months: int, seed: int, start: date, policy_name: str
) -> tuple[PortfolioReport, int]:
    """The report, and how many rows of the file were refused (they are left out)."""
    if months < 1:
        raise UsageError("--months must be at least 1")
    policy = load_policy(policy_name)
    refused = 0

    def rows() -> Iterator[PlacementRow]:
        nonlocal refused
        for record in read_placements(path):
            if record.row is None:
                refused += 1
                continue
            yield record.row

    try:
        report = simulate_portfolio(rows(), start, months, seed, policy)
    except DomainError as err:
        raise ArrearsError(f"portfolio {path}: {err}") from None
    return report, refused
