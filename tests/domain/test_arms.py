"""The arm of a champion / challenger test on the case: drawn by the importer, carried by
the open command onto `case_opened` and into the state, and read as champion for cases
recorded before arms existed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import TypeAdapter, ValidationError

from domain.events import CaseOpened, Event
from domain.intake import open_case as open_case_command
from domain.policy import ChallengerPolicy, Policy
from domain.simulation import CaseRun
from tests.domain.conftest import OPENED_ON, STATE_JSON, bank_time, make_row, of_type, open_case

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
