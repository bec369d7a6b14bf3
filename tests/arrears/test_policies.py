"""Policy profiles as files (POLICY.md): the shipped ones match the code and the regulation,
a bank's own file changes only what it names, and a bad file is refused at load.

Every expected number below is read off POLICY.md, not off the code under test.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from datetime import time
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import BaseModel

import arrears.policies
from arrears.policies import SHIPPED, PolicyFileError, load_arms, load_policy, parse_policy
from domain.policy import (
    AuthorityPolicy,
    ChallengerPolicy,
    CyclePolicy,
    OutsourcingPolicy,
    Policy,
)

PROFILES = Path(arrears.policies.__file__).parent
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def differences(actual: BaseModel, expected: BaseModel, prefix: str = "") -> list[str]:
    """Every field (dotted path) where `actual` and `expected` disagree."""
    found: list[str] = []
    for name in type(expected).model_fields:
        got, want = getattr(actual, name), getattr(expected, name)
        if isinstance(want, BaseModel):
            found += differences(got, want, f"{prefix}{name}.")
        elif got != want:
            found.append(f"{prefix}{name}: loaded {got!r}, expected {want!r}")
    return found


def write_policy(tmp_path: Path, text: str) -> str:
    path = tmp_path / "bank.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


# --- the shipped profiles ------------------------------------------------------------------


def test_the_shipped_cn_card_file_equals_the_code_defaults_field_by_field() -> None:
    loaded = load_policy("cn-card")

    assert differences(loaded, Policy()) == []
    assert loaded.name == "cn-card"


def test_the_shipped_cn_card_file_spells_out_every_number_a_bank_may_change() -> None:
    # A bank copies cn-card.toml to make its own: a default the file leaves out would be
    # invisible to it. Left out on purpose: optional limits whose default is "none" (TOML
    # has no null) and the role table, which is not a number of POLICY.md.
    raw = tomllib.loads((PROFILES / "cn-card.toml").read_text("utf-8"), parse_float=Decimal)
    allowed_gaps = {
        "contact.max_calls_per_7_days",
        "contact.third_party_calls_per_contact_total",
        "authority.override_roles",
        "outsourcing.term_calendar",  # not a bank's choice: refused in a file (test below)
    }
    defaults = Policy()
    missing = []
    for section_name in Policy.model_fields:
        section = getattr(defaults, section_name)
        if not isinstance(section, BaseModel):
            continue
        for field in type(section).model_fields:
            dotted = f"{section_name}.{field}"
            if dotted not in allowed_gaps and field not in raw.get(section_name, {}):
                missing.append(dotted)

    assert missing == []


def test_us_reg_f_has_the_numbers_of_regulation_f() -> None:
    policy = load_policy("us-reg-f")

    assert policy.name == "us-reg-f"
    # 1006.6(b)(1): calls only 08:00-21:00 local time.
    assert (policy.contact.window_start, policy.contact.window_end) == (time(8, 0), time(21, 0))
    # 1006.14(b)(2): at most 7 call attempts in 7 days, none for 7 days after a conversation.
    assert policy.contact.max_calls_per_7_days == 7
    assert policy.contact.quiet_days_after_conversation == 7
    # 1006.10: third parties only to locate the debtor, once per person.
    assert policy.contact.third_party_calls_per_contact_total == 1
    # 1006.100: records kept 3 years.
    assert policy.retention.years_after_close == 3


def test_us_reg_f_keeps_the_cn_card_ladder_where_regulation_f_is_silent() -> None:
    policy = load_policy("us-reg-f")

    assert policy.stages.stage_by_bucket == {
        0: "reminder",
        1: "phone",
        2: "phone",
        3: "letter",
        4: "outsourcing",
    }
    assert policy.outsourcing.term_days == 90
    assert policy.delinquency.charge_off_dpd == 180


def test_the_shipped_profiles_are_packaged_with_the_code() -> None:
    # `pip install .` (the Dockerfile does) copies only declared package data: a profile
    # missing from it makes `load_policy("cn-card")` fail in the container.
    config = tomllib.loads(PYPROJECT.read_text("utf-8"))
    patterns = config["tool"]["setuptools"].get("package-data", {}).get("arrears", [])

    for profile in SHIPPED:
        inside = f"policies/{profile}.toml"
        assert any(fnmatch.fnmatch(inside, p) for p in patterns), (
            f"{inside} is not declared in [tool.setuptools.package-data] arrears = {patterns}"
        )


# --- a bank's own file ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "[cycle]\nlate_fee_rate = 0.03\n",
            Policy(cycle=CyclePolicy(late_fee_rate=Decimal("0.03"))),
            id="a-rate",
        ),
        pytest.param(
            "[outsourcing.rates]\nfirst = 0.22\n",
            Policy(
                outsourcing=OutsourcingPolicy(
                    rates={
                        "early": Decimal("0.15"),
                        "first": Decimal("0.22"),
                        "second": Decimal("0.25"),
                        "third": Decimal("0.30"),
                        "long_aged": Decimal("0.35"),
                    }
                )
            ),
            id="one-hand-commission-rate",
        ),
        pytest.param(
            "[authority.waiver_limits]\nsupervisor = 0.10\n",
            Policy(
                authority=AuthorityPolicy(
                    waiver_limits={
                        "collector": Decimal("0"),
                        "supervisor": Decimal("0.10"),
                        "manager": Decimal("0.50"),
                        "auditor": Decimal("0"),
                    }
                )
            ),
            id="one-role-waiver-limit",
        ),
    ],
)
def test_a_bank_file_overriding_one_number_loads_with_everything_else_default(
    tmp_path: Path, text: str, expected: Policy
) -> None:
    loaded = load_policy(write_policy(tmp_path, text))

    assert differences(loaded, expected) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("[cycle]\ndaily_interest_rate = 0.0005\n", Decimal("0.0005"), id="rate"),
        # More digits than a binary float holds: any detour through float loses some.
        pytest.param(
            "[cycle]\ndaily_interest_rate = 0.00033333333333333333333\n",
            Decimal("0.00033333333333333333333"),
            id="long-rate",
        ),
    ],
)
def test_rates_are_read_exactly_as_decimals(tmp_path: Path, text: str, expected: Decimal) -> None:
    rate = load_policy(write_policy(tmp_path, text)).cycle.daily_interest_rate

    assert type(rate) is Decimal
    assert rate == expected
    assert str(rate) == str(expected)


def test_amounts_are_read_exactly_as_decimals(tmp_path: Path) -> None:
    threshold = load_policy(
        write_policy(tmp_path, "[legal]\nthreshold = 12345678901234567.89\n")
    ).legal.threshold

    assert type(threshold) is Decimal
    assert str(threshold) == "12345678901234567.89"


@pytest.mark.parametrize("profile", SHIPPED)
def test_no_number_of_a_shipped_profile_is_a_float(profile: str) -> None:
    floats: list[str] = []

    def walk(value: object, where: str) -> None:
        if isinstance(value, float):
            floats.append(where)
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(getattr(value, name), f"{where}.{name}")
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{where}.{key}")

    walk(load_policy(profile), profile)

    assert floats == []


# --- refused files -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "must_say"),
    [
        pytest.param(
            "[cycle]\nlate_fee_percent = 0.03\n",
            ["late_fee_percent", r"not permitted|unknown|not allowed"],
            id="unknown-field",
        ),
        pytest.param(
            "[contacts]\nwindow_start = 09:00:00\n",
            ["contacts", r"not permitted|unknown|not allowed"],
            id="unknown-section",
        ),
        pytest.param(
            "[cycle]\nlate_fee_rate = -0.01\n",
            ["late_fee_rate", r"greater than or equal to 0|>= ?0|negative|between 0 and 1"],
            id="negative-late-fee-rate",
        ),
        pytest.param(
            "[cycle]\ndaily_interest_rate = -0.0005\n",
            ["daily_interest_rate", r"greater than or equal to 0|>= ?0|negative|between 0 and 1"],
            id="negative-interest-rate",
        ),
        pytest.param(
            "[outsourcing.rates]\nearly = 0.15\nfirst = -0.20\nsecond = 0.25\n"
            "third = 0.30\nlong_aged = 0.35\n",
            ["first", r"greater than or equal to 0|>= ?0|negative|between 0 and 1"],
            id="negative-commission-rate",
        ),
        pytest.param(
            "[authority.waiver_limits]\ncollector = 0\nsupervisor = -0.20\nmanager = 0.50\n"
            "auditor = 0\n",
            ["supervisor", r"greater than or equal to 0|>= ?0|negative|between 0 and 1"],
            id="negative-waiver-limit",
        ),
        pytest.param(
            "[contact]\nwindow_start = 22:00:00\nwindow_end = 08:00:00\n",
            ["window_start", "window_end"],
            id="window-start-after-end",
        ),
        pytest.param(
            '[stages.stage_by_bucket]\n0 = "reminder"\n1 = "phone"\n3 = "letter"\n',
            ["stage_by_bucket", r"gap"],
            id="stage-by-bucket-gap",
        ),
        pytest.param(
            "[cycle\nlate_fee_rate = 0.03\n",
            [r"TOML", r"line 1"],
            id="bad-toml-syntax",
        ),
        pytest.param(
            '[cycle]\nbank_timezone = "Mars/Olympus"\n',
            ["bank_timezone", r"(?i)time ?zone|IANA"],
            id="unknown-time-zone",
        ),
    ],
)
def test_an_invalid_policy_file_is_refused_naming_the_field_and_the_reason(
    tmp_path: Path, text: str, must_say: list[str]
) -> None:
    path = write_policy(tmp_path, text)

    with pytest.raises(PolicyFileError) as refused:
        load_policy(path)

    message = str(refused.value)
    assert refused.value.exit_code == 2
    assert "bank.toml" in message
    assert "\n" not in message
    for pattern in must_say:
        assert re.search(pattern, message), (pattern, message)


def test_a_missing_policy_file_is_refused_with_exit_code_2(tmp_path: Path) -> None:
    with pytest.raises(PolicyFileError) as refused:
        load_policy(str(tmp_path / "no-such-policy.toml"))

    assert refused.value.exit_code == 2
    assert "no-such-policy.toml" in str(refused.value)


def test_a_policy_file_may_not_choose_how_placement_terms_are_counted() -> None:
    # The count in the start's zone is kept only for cases recorded before 2026-11-25.
    with pytest.raises(PolicyFileError, match=r"outsourcing\.term_calendar: not a policy"):
        parse_policy('[outsourcing]\nterm_calendar = "start_zone"\n', "policy file x.toml")


def test_how_terms_are_counted_is_never_written_into_a_policys_json() -> None:
    # Workflow inputs and histories carry the policy as JSON: it stays as it was before
    # the field existed, so the previous release's workers can still read it.
    legacy = Policy(outsourcing=OutsourcingPolicy(term_calendar="start_zone"))
    for policy in (Policy(), legacy):
        assert "term_calendar" not in policy.model_dump_json()
    assert Policy.model_validate_json(legacy.model_dump_json()) == Policy()


def test_parse_policy_names_its_source_in_the_refusal() -> None:
    with pytest.raises(PolicyFileError) as refused:
        parse_policy("[cycle]\nlate_fee_rate = -1\n", "policy file /etc/bank/policy.toml")

    assert str(refused.value).startswith("policy file /etc/bank/policy.toml")
    assert refused.value.exit_code == 2


# --- champion / challenger -----------------------------------------------------------------

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_shipped_challenger_is_cn_card_with_m1_calls_from_500() -> None:
    # Its file says what it changes and why: anything else differing would muddle the
    # comparison of the arms.
    loaded = load_policy("cn-card-b")

    assert differences(loaded, Policy()) == [
        "name: loaded 'cn-card-b', expected 'cn-card'",
        "contact.m1_call_threshold: loaded Decimal('500.00'), expected Decimal('2000.00')",
    ]


def test_no_shipped_profile_runs_a_test_unless_a_bank_asks_for_one() -> None:
    for profile in SHIPPED:
        arms = load_arms(profile)
        assert (arms.champion.challenger, arms.challenger) == (None, None), profile
        assert arms.draw("ACC-000001") == "champion"


def test_the_example_turns_on_cn_card_b_for_a_fifth_of_the_cases() -> None:
    arms = load_arms(str(EXAMPLES / "cn-card-with-challenger.toml"))

    test = ChallengerPolicy(profile="cn-card-b", split=Decimal("0.2"))
    assert differences(arms.champion, Policy(challenger=test)) == []
    assert arms.challenger is not None and arms.challenger.name == "cn-card-b"
    assert arms.policy_for("challenger") is arms.challenger
    assert arms.policy_for("champion") is arms.champion


def test_a_challenger_path_is_read_beside_the_file_that_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "b.toml").write_text('name = "bank-b"\n[legal]\nthreshold = 1.00\n', "utf-8")
    champion = write_policy(tmp_path, '[challenger]\nprofile = "b.toml"\nsplit = 0.5\n')
    monkeypatch.chdir(tmp_path.parent)  # not the files' folder

    arms = load_arms(champion)

    assert arms.challenger is not None
    assert arms.challenger.legal.threshold == Decimal("1.00")


@pytest.mark.parametrize(
    ("challenger", "champion_extra", "must_say"),
    [
        pytest.param(None, "", "no-such.toml", id="missing"),
        pytest.param(
            '[challenger]\nprofile = "cn-card-b"\nsplit = 0.1\n', "", "of its own", id="chained"
        ),
        pytest.param('name = "cn-card"\n', "", "same name", id="same-name"),
        pytest.param(
            'name = "b"\n[cycle]\nbank_timezone = "Asia/Tokyo"\n',
            "",
            "Asia/Tokyo.*Asia/Shanghai",
            id="other-time-zone",
        ),
        pytest.param(
            'name = "b"\n[money]\ncurrency = "USD"\n', "", "USD.*CNY", id="other-currency"
        ),
        pytest.param('name = "b"\n[cycle]\nlate_fee_rate = -1\n', "", "late_fee_rate", id="bad"),
    ],
)
def test_a_challenger_that_cannot_run_beside_its_champion_is_refused(
    tmp_path: Path, challenger: str | None, champion_extra: str, must_say: str
) -> None:
    name = "no-such.toml"
    if challenger is not None:
        name = "b.toml"
        (tmp_path / name).write_text(challenger, "utf-8")
    champion = write_policy(
        tmp_path, f'[challenger]\nprofile = "{name}"\nsplit = 0.2\n{champion_extra}'
    )

    with pytest.raises(PolicyFileError) as refused:
        load_policy(champion)

    message = str(refused.value)
    assert refused.value.exit_code == 2
    assert "bank.toml" in message and "challenger" in message and "\n" not in message
    assert re.search(must_say, message), message


@pytest.mark.parametrize("split", ["-0.1", "1.5"])
def test_a_split_outside_0_to_1_is_refused(tmp_path: Path, split: str) -> None:
    champion = write_policy(tmp_path, f'[challenger]\nprofile = "cn-card-b"\nsplit = {split}\n')

    with pytest.raises(PolicyFileError, match=r"challenger\.split"):
        load_policy(champion)
