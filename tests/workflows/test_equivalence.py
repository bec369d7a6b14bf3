"""The domain engine and the real workflow on Temporal print the same timeline
(CONTRACTS §2: `simulate --engine temporal` "must print the same timeline")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from arrears.policies import load_policy
from arrears.simulate.on_temporal import run_on_temporal
from arrears.simulate.scenario import load_scenario
from domain.simulation import simulate

SCENARIOS = sorted((Path(__file__).parent.parent / "scenarios").glob("*.json"))


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
async def test_both_engines_print_the_same_timeline(path: Path, env: WorkflowEnvironment) -> None:
    scenario = load_scenario(path)
    policy = load_policy(scenario.profile)
    on_temporal = await run_on_temporal(env, scenario, policy)
    in_domain = simulate(scenario, policy)
    assert json.loads(on_temporal.model_dump_json()) == json.loads(in_domain.model_dump_json())
    assert len(in_domain.events) > 5  # a scenario that does nothing would prove nothing
