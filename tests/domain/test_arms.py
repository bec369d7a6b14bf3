"""The arm of a champion / challenger test on the case: drawn by the importer, carried by
the open command onto `case_opened` and into the state, and read as champion for cases
recorded before arms existed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import TypeAdapter, ValidationError

from domain.commands import MoveArm
from domain.events import ArmChanged, CaseOpened, Event, OverrideApplied
from domain.intake import open_case as open_case_command
from domain.policy import ChallengerPolicy, Policy
from domain.simulation import CaseRun
from tests.domain.conftest import (
    OPENED_ON,
    STATE_JSON,
    actor,
    bank_time,
    make_row,
    of_type,
    open_case,
    types,
)

EVENT_JSON: TypeAdapter[Event] = TypeAdapter(Event)
CHALLENGER = Policy(name="cn-card-b")


def test_a_case_opened_in_the_challenger_arm_records_the_arm_and_its_profile() -> None:
    run = CaseRun(CHALLENGER)
    run.apply(open_case_command(make_row(), "challenger"), bank_time(OPENED_ON))

    (opened,) = of_type(run.events, CaseOpened)
    assert (opened.arm, opened.policy) == ("challenger", "cn-card-b")
    assert (run.state.arm, run.state.policy) == ("challenger", "cn-card-b")


def test_a_case_opened_without_a_test_is_in_the_champion_arm() -> None:
    run = open_case()

    (opened,) = of_type(run.events, CaseOpened)
    assert opened.arm == "champion"
    assert run.state.arm == "champion"


def test_a_case_opened_event_recorded_before_arms_reads_as_champion() -> None:
    recorded = open_case().events[0].model_dump(mode="json")
    del recorded["arm"]

    assert EVENT_JSON.validate_python(recorded).arm == "champion"  # type: ignore[union-attr]


def test_the_arm_survives_the_state_json_carried_across_continue_as_new() -> None:
    run = CaseRun(CHALLENGER)
    run.apply(open_case_command(make_row(), "challenger"), bank_time(OPENED_ON))

    assert STATE_JSON.validate_json(STATE_JSON.dump_json(run.state)).arm == "challenger"


def test_an_arm_other_than_champion_or_challenger_is_refused() -> None:
    with pytest.raises(ValidationError):
        open_case_command(make_row(), "control")  # type: ignore[arg-type]


@pytest.mark.parametrize("split", ["-0.01", "1.01"])
def test_a_challenger_split_outside_0_to_1_is_refused(split: str) -> None:
    with pytest.raises(ValidationError, match="split"):
        ChallengerPolicy(profile="cn-card-b", split=Decimal(split))


def test_the_test_a_profile_names_is_not_written_into_its_json() -> None:
    # A case carries the profile of its own arm; the test is the importer's business,
    # and workers of the previous release must still read the policy's JSON.
    named = Policy(challenger=ChallengerPolicy(profile="cn-card-b", split=Decimal("0.2")))

    assert "challenger" not in named.model_dump_json()
    assert Policy.model_validate_json(named.model_dump_json()) == Policy()


# --- a supervisor moves a case to the other arm --------------------------------------------


def moved(role: str = "supervisor", arm: str = "challenger") -> tuple[CaseRun, list[Event]]:
    """A champion case, and what a `move_arm` decided with the challenger's profile gave
    (the workflow decides a move with the profile moved to)."""
    run = open_case()
    run.policy = CHALLENGER
    move = MoveArm(actor=actor(role), reason="agreed with the test's owner", arm=arm)  # type: ignore[arg-type]
    return run, run.apply(move, bank_time(OPENED_ON, 12))


def test_a_supervisor_moves_a_case_to_the_other_arm_recorded_with_who_and_why() -> None:
    run, events = moved()

    assert types(events) == ["override_applied", "arm_changed"]
    applied, changed = events
    assert isinstance(applied, OverrideApplied) and isinstance(changed, ArmChanged)
    assert (applied.override, applied.actor.id, applied.args) == (
        "move_arm", "supervisor-1", {"arm": "challenger"},
    )  # fmt: skip
    assert (changed.arm, changed.previous, changed.policy) == (
        "challenger",
        "champion",
        "cn-card-b",
    )
    assert (run.state.arm, run.state.policy) == ("challenger", "cn-card-b")
    # Intention to treat: the case was opened in the champion arm, and stays counted there.
    assert of_type(run.events, CaseOpened)[0].arm == "champion"


def test_a_collector_may_not_move_a_case_between_arms() -> None:
    run, events = moved(role="collector")

    assert types(events) == ["override_rejected"]
    assert "authority" in events[0].rule  # type: ignore[union-attr]
    assert run.state.arm == "champion"


def test_a_move_to_the_arm_the_case_is_in_is_refused() -> None:
    _, events = moved(arm="champion")

    assert types(events) == ["override_rejected"]
    assert events[0].rule == "arm_same"  # type: ignore[union-attr]
