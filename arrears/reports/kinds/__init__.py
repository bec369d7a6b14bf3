"""Every report kind by name: `arrears report KIND` and the simulator's `--report KIND`
look them up here. One module per kind holds its `DEFINITION`."""

from __future__ import annotations

from arrears.reports.definition import ReportDefinition
from arrears.reports.kinds import (
    book,
    commissions,
    contacts,
    cure,
    overrides,
    promises,
    recovery,
    roll_rates,
)

KINDS: dict[str, ReportDefinition] = {
    d.kind: d
    for d in (
        book.DEFINITION,
        roll_rates.DEFINITION,
        cure.DEFINITION,
        recovery.DEFINITION,
        commissions.DEFINITION,
        contacts.DEFINITION,
        promises.DEFINITION,
        overrides.DEFINITION,
    )
}
