"""What the operator asked `arrears audit` for: one value every audit mode reads (the CLI,
`--jobs` processes, `--on-workers`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from arrears.audit.findings import STUCK_AFTER
from arrears.errors import UsageError

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smh]?)$")


def parse_duration(text: str) -> timedelta:
    """`90s`, `15m`, `2h` or a number of seconds; anything else is bad usage."""
    found = _DURATION.match(text.strip())
    if not found:
        raise UsageError(f"--stuck-after {text!r} is not a duration such as 90s, 15m or 2h")
    unit = {"": 1, "s": 1, "m": 60, "h": 3600}[found.group(2)]
    return timedelta(seconds=float(found.group(1)) * unit)


@dataclass(frozen=True)
class AuditRequest:
    """What the operator asked `arrears audit` for."""

    cases: Sequence[str] = ()
    all_cases: bool = False
    query: str | None = None
    history: bool = False
    reconcile: bool = False
    fmt: str = "table"
    timeline: bool = False
    jobs: int = 1
    stuck_after: timedelta = STUCK_AFTER
    on_workers: bool = False

    def timelines(self, cases: int) -> bool:
        """Timelines are printed when asked for, or for a single named case."""
        return self.timeline or (cases == 1 and not self.all_cases and not self.query)
