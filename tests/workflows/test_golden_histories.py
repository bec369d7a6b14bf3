"""Golden histories: real runs recorded earlier, replayed against today's workflow code.

A failure means the code no longer makes the decisions it made when the history was
recorded: guard the change with `workflow.patched()` instead of re-recording.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from arrears.audit.histories import read_history
from workflows.case import CaseWorkflow

HISTORIES = sorted((Path(__file__).parent.parent / "histories").glob("*.run-*.json"))


def test_there_are_golden_histories_of_several_cases_and_runs() -> None:
    cases = {p.name.split(".run-")[0] for p in HISTORIES}
    assert len(cases) >= 3 and len(HISTORIES) > len(cases)  # continue-as-new is covered


@pytest.mark.parametrize("path", HISTORIES, ids=[p.name for p in HISTORIES])
async def test_a_recorded_history_replays_against_the_current_workflow(path: Path) -> None:
    replayer = Replayer(workflows=[CaseWorkflow], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(read_history(path), raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"
