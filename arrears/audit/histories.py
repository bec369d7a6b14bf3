"""Workflow histories as files: every run of a case, across continue-as-new.

Auditors replay them against today's code (a divergence means the code no longer makes
yesterday's decisions); tests keep a few real ones as golden histories.
"""

from __future__ import annotations

import json
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory


async def fetch_runs(client: Client, workflow_id: str, first_run_id: str) -> list[WorkflowHistory]:
    """The histories of every run of a workflow, oldest first, following continue-as-new."""
    runs: list[WorkflowHistory] = []
    run_id: str | None = first_run_id
    while run_id:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        runs.append(history)
        last = history.events[-1]
        run_id = None
        if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            run_id = last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
    return runs


def write_runs(runs: list[WorkflowHistory], folder: Path, stem: str) -> list[Path]:
    """One JSON file per run (`STEM.run-01.json`, ...), in Temporal's own export format,
    the same the Web UI and `temporal workflow show --output json` produce."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, history in enumerate(runs, start=1):
        path = folder / f"{stem}.run-{number:02d}.json"
        path.write_text(history.to_json() + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def read_history(path: Path, workflow_id: str | None = None) -> WorkflowHistory:
    text = path.read_text(encoding="utf-8")
    return WorkflowHistory.from_json(workflow_id or path.name.split(".run-")[0], json.loads(text))
