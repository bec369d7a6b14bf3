"""Policy profiles: the shipped files (`cn-card`, `us-reg-f`) or a bank's own TOML file.

A profile file names only what differs from the defaults in `domain.policy`; numbers are
read as exact decimals. An invalid file is refused at load with the field and the reason.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from arrears.errors import UsageError
from domain.policy import Policy

SHIPPED = ("cn-card", "us-reg-f")


class PolicyFileError(UsageError):
    """A policy file that cannot be used (exit code 2)."""


def load_policy(name_or_path: str) -> Policy:
    """A shipped profile by name, or a TOML file by path."""
    if name_or_path in SHIPPED:
        text = (resources.files("arrears.policies") / f"{name_or_path}.toml").read_text("utf-8")
        return parse_policy(text, f"profile {name_or_path}")
    path = Path(name_or_path)
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise PolicyFileError(
            f"policy {name_or_path!r} is neither a shipped profile ({', '.join(SHIPPED)}) "
            f"nor a readable file: {getattr(err, 'strerror', None) or err}"
        ) from None
    return parse_policy(text, f"policy file {path}")


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
