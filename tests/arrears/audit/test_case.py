"""`arrears audit`'s check of what each contact attempt's record carries (POLICY §5),
on the golden histories' events (recorded by the simulated providers, which supply a
recording reference for every call and two collectors for every visit)."""

from __future__ import annotations

from pathlib import Path

from arrears.audit.case import case_input_of, decided_events, record_problems
from arrears.audit.histories import read_history
from domain.events import ContactAttempted

HISTORIES = sorted((Path(__file__).parents[2] / "histories").glob("golden-live.run-*.json"))


def test_attempts_recorded_with_what_policy_section_5_asks_raise_no_problem() -> None:
    runs = [read_history(p) for p in HISTORIES]
    events, _ = decided_events(runs)
    assert sum(isinstance(e, ContactAttempted) and e.channel == "call" for e in events) > 3
    assert record_problems(events, case_input_of(runs[0]).policy) == []


def test_a_call_recorded_without_its_recording_is_named_by_seq() -> None:
    runs = [read_history(p) for p in HISTORIES]
    events, _ = decided_events(runs)
    index, call = next(
        (i, e)
        for i, e in enumerate(events)
        if isinstance(e, ContactAttempted) and e.channel == "call"
    )
    events[index] = call.model_copy(update={"recording_ref": None})
    assert record_problems(events, case_input_of(runs[0]).policy) == [
        f"contact attempt {call.seq} is a call without a recording reference (POLICY §5)"
    ]
