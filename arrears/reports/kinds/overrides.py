"""`overrides`: supervisors' overrides in the period by actor, role and kind, applied
and rejected (`override_applied` / `override_rejected` events with business time in
the period; the actor's id and role as the event records them, never a name).

A live override refused by the case workflow's validator leaves no event (DECISIONS.md,
"Overrides refused"): on the live book `rejected` counts only what reached a history as
`override_rejected`, which today are the simulator's refused overrides.
"""

from __future__ import annotations

from arrears.reports.definition import SCOPE, Column, ReportDefinition

SQL = f"""WITH {SCOPE}
SELECT e.payload->'actor'->>'id' AS actor,
       e.payload->'actor'->>'role' AS role,
       e.payload->>'override' AS override,
       count(*) FILTER (WHERE e.type = 'override_applied') AS applied,
       count(*) FILTER (WHERE e.type = 'override_rejected') AS rejected
FROM case_events e
JOIN scope s ON s.case_id = e.case_id
WHERE e.type IN ('override_applied', 'override_rejected')
  AND e.at >= $1 AND e.at < $2
  AND $5::text IS NOT NULL
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3"""

DEFINITION = ReportDefinition(
    kind="overrides",
    title="Overrides by actor, role and kind",
    sql=SQL,
    columns=(
        Column("actor", "text"),
        Column("role", "text"),
        Column("override", "text"),
        Column("applied", "int"),
        Column("rejected", "int"),
    ),
    reads=frozenset({"case_opened", "override_applied", "override_rejected"}),
    totals=("applied", "rejected"),
)
