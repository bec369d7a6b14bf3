"""`arrears status CASE` shows which arm of a champion / challenger test the case follows,
in the JSON (`arm`) and on the screen beside its profile."""

from __future__ import annotations

from io import StringIO

from rich.console import Console

from arrears.cases.status import case_json, render_case
from domain.intake import open_case as open_case_command
from domain.policy import Policy
from domain.simulation import CaseRun
from tests.domain.conftest import BANK_TZ, OPENED_ON, bank_time, make_row
from workflows.case_io import CaseView, NextAction


def status_of(arm: str, policy: Policy) -> dict[str, object]:
    run = CaseRun(policy)
    run.apply(open_case_command(make_row(), arm), bank_time(OPENED_ON))  # type: ignore[arg-type]
    view = CaseView(
        case_id="case-ACC-000001",
        business_now=bank_time(OPENED_ON, 9),
        state=run.state,
        next_action=NextAction(at=None, what="nothing"),
    )
    return case_json(view, {}, "running", [], BANK_TZ)


def test_the_status_of_a_challenger_case_names_its_arm_and_profile() -> None:
    data = status_of("challenger", Policy(name="cn-card-b"))
    screen = StringIO()
    Console(file=screen, width=200).print(render_case(data))

    assert (data["arm"], data["policy"]) == ("challenger", "cn-card-b")
    assert "cn-card-b / challenger" in screen.getvalue()


def test_the_status_of_a_case_outside_any_test_says_champion() -> None:
    assert status_of("champion", Policy())["arm"] == "champion"
