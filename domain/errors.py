"""Domain errors: a broken rule, named, with the values that broke it."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A command that the rules refuse. `rule` names the rule; `values` say why."""

    def __init__(self, rule: str, message: str, **values: Any) -> None:
        self.rule = rule
        self.message = message
        self.values = values
        detail = ", ".join(f"{k}={v}" for k, v in values.items())
        super().__init__(f"{rule}: {message}" + (f" ({detail})" if detail else ""))

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled with its rule and values (a refusal in a `--jobs` worker process
        # reaches the parent whole): `Exception` would pickle only the message.
        return (_restore, (type(self), self.rule, self.message, self.values))


def _restore(
    cls: type[DomainError], rule: str, message: str, values: dict[str, Any]
) -> DomainError:
    return cls(rule, message, **values)


class OverrideRejected(DomainError):
    """An override refused by its `check_*` function; nothing was changed."""


def check(condition: bool, rule: str, message: str, **values: Any) -> None:
    """Raise `DomainError` unless `condition` holds."""
    if not condition:
        raise DomainError(rule, message, **values)
