"""Policy profiles: the shipped files (`cn-card`, `us-reg-f`, and `cn-card-b`, an example
challenger of cn-card) or a bank's own TOML file.

A profile file names only what differs from the defaults in `domain.policy`; numbers are
read as exact decimals. An invalid file is refused at load with the field and the reason.
A profile may name a challenger (`[challenger] profile = ..., split = ...`): it is loaded
and checked with it, so a test that cannot run is refused before anything starts.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from arrears.errors import UsageError
from domain.arms import CHAMPION, Arm, assign_arm
from domain.policy import Policy

SHIPPED = ("cn-card", "us-reg-f", "cn-card-b")


class PolicyFileError(UsageError):
    """A policy file that cannot be used (exit code 2)."""


@dataclass(frozen=True)
class Arms:
    """A profile and, when it names one, its challenger: the profile each new case is
    opened under (`policy_for(draw(account_id))`)."""

    champion: Policy
    challenger: Policy | None = None

    def draw(self, account_id: str) -> Arm:
        """The account's arm: salted with the challenger's profile as the champion's file
        names it, so the simulator (`--challenger` with the same name) draws the same."""
        test = self.champion.challenger
        if test is None or self.challenger is None:
            return CHAMPION
        return assign_arm(account_id, test.profile, test.split)

    def other_than(self, arm: Arm) -> Policy | None:
        """The other arm's profile (a `move_arm` override moves a case to it); None
        without a test."""
        if self.challenger is None:
            return None
        return self.champion if arm != CHAMPION else self.challenger

    def policy_for(self, arm: Arm) -> Policy:
        if arm == CHAMPION:
            return self.champion
        if self.challenger is None:
            raise PolicyFileError(f"profile {self.champion.name} names no challenger")
        return self.challenger


def load_policy(name_or_path: str) -> Policy:
    """A shipped profile by name, or a TOML file by path (its challenger checked too)."""
    return load_arms(name_or_path).champion


def load_arms(name_or_path: str) -> Arms:
    """The profile and the challenger it names. The challenger must load, name no
    challenger of its own (one test at a time, no chains), have a name of its own (reports
    tell the arms' cases apart by it) and keep the bank's time zone and currency (the
    arms are compared day by day and amount by amount)."""
    champion, source, folder = _read_profile(name_or_path, Path.cwd())
    test = champion.challenger
    if test is None:
        return Arms(champion)
    where = f"{source}: challenger.profile {test.profile!r}"
    try:
        challenger, _, _ = _read_profile(test.profile, folder)
    except PolicyFileError as err:
        raise PolicyFileError(f"{where}: {err}") from None
    problem = _unfit_challenger(champion, challenger)
    if problem:
        raise PolicyFileError(f"{where} {problem}")
    return Arms(champion, challenger)


def _unfit_challenger(champion: Policy, challenger: Policy) -> str | None:
    if challenger.challenger is not None:
        return "names a challenger of its own (one test at a time)"
    if challenger.name == champion.name:
        return f"has the same name {champion.name!r} (reports tell the arms apart by it)"
    zones = (challenger.cycle.bank_timezone, champion.cycle.bank_timezone)
    if zones[0] != zones[1]:
        return f"uses bank time zone {zones[0]}, not {zones[1]}"
    currencies = (challenger.money.currency, champion.money.currency)
    if currencies[0] != currencies[1]:
        return f"uses currency {currencies[0]}, not {currencies[1]}"
    return None


def _read_profile(name_or_path: str, folder: Path) -> tuple[Policy, str, Path]:
    """The profile, how to name it in a refusal, and the folder a relative challenger
    path in it is read from (the file's own: a bank ships the two files side by side)."""
    if name_or_path in SHIPPED:
        text = (resources.files("arrears.policies") / f"{name_or_path}.toml").read_text("utf-8")
        return parse_policy(text, f"profile {name_or_path}"), f"profile {name_or_path}", folder
    path = folder / name_or_path
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise PolicyFileError(
            f"policy {name_or_path!r} is neither a shipped profile ({', '.join(SHIPPED)}) "
            f"nor a readable file: {getattr(err, 'strerror', None) or err}"
        ) from None
    source = f"policy file {name_or_path}"
    return parse_policy(text, source), source, path.parent


def parse_policy(text: str, source: str) -> Policy:
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as err:
        raise PolicyFileError(f"{source}: not valid TOML: {err}") from None
    if "term_calendar" in data.get("outsourcing", {}):
        # Set only by the case workflow for cases recorded before terms were counted on
        # the bank's calendar (`OutsourcingPolicy.term_calendar`): not a bank's choice.
        raise PolicyFileError(
            f"{source}: outsourcing.term_calendar: not a policy setting (terms are counted "
            "on the bank's calendar)"
        )
    try:
        return Policy.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(file)"
        more = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
        raise PolicyFileError(f"{source}: {field}: {first['msg']}{more}") from None
