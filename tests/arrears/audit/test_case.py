"""`arrears audit`'s check of what each contact attempt's record carries (POLICY §5),
on the golden histories' events (recorded by the simulated providers, which supply a
recording reference for every call and two collectors for every visit)."""

from __future__ import annotations

from pathlib import Path

from arrears.audit.case import CaseAudit, case_input_of, decided_events, record_problems
from arrears.audit.histories import read_history
from domain.arms import Arm
from domain.events import ArmChanged, ContactAttempted, Event
from domain.evolve import fold
from domain.policy import ContactPolicy, DelinquencyPolicy, Policy

HISTORIES = sorted((Path(__file__).parents[2] / "histories").glob("golden-live.run-*.json"))


def test_attempts_recorded_with_what_policy_section_5_asks_raise_no_problem() -> None:
    runs = [read_history(p) for p in HISTORIES]
    events, _ = decided_events(runs)
    assert sum(isinstance(e, ContactAttempted) and e.channel == "call" for e in events) > 3
    assert record_problems(events, case_input_of(runs[0])) == []


def test_a_call_recorded_without_its_recording_is_named_by_seq() -> None:
    runs = [read_history(p) for p in HISTORIES]
    events, _ = decided_events(runs)
    index, call = next(
        (i, e)
        for i, e in enumerate(events)
        if isinstance(e, ContactAttempted) and e.channel == "call"
    )
    events[index] = call.model_copy(update={"recording_ref": None})
    assert record_problems(events, case_input_of(runs[0])) == [
        f"contact attempt {call.seq} is a call without a recording reference (POLICY §5)"
    ]


def _moved(events: list[Event], seq: int, arm: Arm, profile: str) -> ArmChanged:
    previous: Arm = "champion" if arm == "challenger" else "challenger"
    return ArmChanged(seq=seq, at=events[-1].at, arm=arm, previous=previous, policy=profile)


def test_after_a_move_to_the_other_arm_attempts_are_held_to_that_arms_record_rules() -> None:
    runs = [read_history(p) for p in HISTORIES]
    events, _ = decided_events(runs)
    two_collectors = next(e for e in events if isinstance(e, ContactAttempted)).model_copy(
        update={"channel": "visit", "collector_ids": ("fc-1", "fc-2"), "recording_ref": None}
    )
    strict = Policy(name="strict", contact=ContactPolicy(visit_collectors=3))
    case_input = case_input_of(runs[0]).model_copy(update={"other_arm": strict})
    n = len(events)
    visits = [two_collectors.model_copy(update={"seq": n + k}) for k in (1, 3, 5)]
    moved = [
        *events, visits[0], _moved(events, n + 2, "challenger", "strict"),
        visits[1], _moved(events, n + 4, "champion", "cn-card"), visits[2],
    ]  # fmt: skip

    # Two collectors meet the champion's rule (2), before the move and after the move
    # back; under the strict arm's rule (3) they do not.
    assert record_problems(moved, case_input) == [
        f"contact attempt {n + 3} is a field visit by 2 collector(s), at least 3 required"
        " (POLICY §5)"
    ]


def test_a_moved_cases_timeline_is_written_with_the_profile_it_follows_at_the_end() -> None:
    runs = [read_history(p) for p in HISTORIES]
    events, _ = decided_events(runs)
    coarse = Policy(name="coarse", delinquency=DelinquencyPolicy(top_bucket=1))
    case_input = case_input_of(runs[0]).model_copy(update={"other_arm": coarse})
    state = fold(events)
    assert state.bucket >= 1  # so that a top bucket of M1+ shows

    as_opened = CaseAudit("case-golden", runs, events=events, case_input=case_input)
    moved = CaseAudit(
        "case-golden", runs, case_input=case_input,
        events=[*events, _moved(events, len(events) + 1, "challenger", "coarse")],
    )  # fmt: skip

    assert as_opened.timeline().final.bucket == f"M{state.bucket}"
    assert moved.timeline().final.bucket == "M1+"
