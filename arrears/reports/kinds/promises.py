"""`promises`: promises to pay and installment plans, month by month (the bank's months).

Each figure counts the events of its kind whose business time falls in the month (and
in the period): a promise made in May and kept in June counts as made in May and kept
in June. `promised` is the amount of the promises made; `due_amount` and `paid` are
the amount and what was paid against it of the promises that came due (kept or broken)
in the month: "promised vs paid" is `paid` / `due_amount`, since a promise made at the
end of the period has no answer yet. `kept_rate` = kept / (kept + broken), empty when
no promise came due. Plans: started (`plan_agreed`), completed, broken.

One row per bank month the period touches, months without events included, so a chart
has no gaps. `totals` sums the counts and amounts over the months (the period's kept
rate is totals.kept / (totals.kept + totals.broken)).
"""

from __future__ import annotations

from arrears.reports.definition import SCOPE, Column, ReportDefinition

COUNTS = ("made", "kept", "broken", "plans_started", "plans_completed", "plans_broken")
AMOUNTS = ("promised", "due_amount", "paid")

SQL = f"""WITH {SCOPE},
months AS (
    SELECT generate_series(
        date_trunc('month', $1 AT TIME ZONE $5::text),
        $2 AT TIME ZONE $5::text - interval '1 microsecond',
        interval '1 month'
    ) AS month
),
per_month AS (
    SELECT date_trunc('month', e.at AT TIME ZONE $5::text) AS month,
           count(*) FILTER (WHERE e.type = 'promise_made') AS made,
           sum((e.payload->>'amount')::numeric) FILTER (WHERE e.type = 'promise_made')
               AS promised,
           count(*) FILTER (WHERE e.type = 'promise_kept') AS kept,
           count(*) FILTER (WHERE e.type = 'promise_broken') AS broken,
           sum((e.payload->>'amount')::numeric)
               FILTER (WHERE e.type IN ('promise_kept', 'promise_broken')) AS due_amount,
           sum((e.payload->>'paid')::numeric)
               FILTER (WHERE e.type IN ('promise_kept', 'promise_broken')) AS paid,
           count(*) FILTER (WHERE e.type = 'plan_agreed') AS plans_started,
           count(*) FILTER (WHERE e.type = 'plan_completed') AS plans_completed,
           count(*) FILTER (WHERE e.type = 'plan_broken') AS plans_broken
    FROM case_events e
    JOIN scope s ON s.case_id = e.case_id
    WHERE e.type IN ('promise_made', 'promise_kept', 'promise_broken',
                     'plan_agreed', 'plan_completed', 'plan_broken')
      AND e.at >= $1 AND e.at < $2
    GROUP BY 1
)
SELECT to_char(m.month, 'YYYY-MM') AS month,
       coalesce(p.made, 0) AS made,
       coalesce(p.promised, 0) AS promised,
       coalesce(p.kept, 0) AS kept,
       coalesce(p.broken, 0) AS broken,
       round(p.kept::numeric / nullif(p.kept + p.broken, 0), 4) AS kept_rate,
       coalesce(p.due_amount, 0) AS due_amount,
       coalesce(p.paid, 0) AS paid,
       coalesce(p.plans_started, 0) AS plans_started,
       coalesce(p.plans_completed, 0) AS plans_completed,
       coalesce(p.plans_broken, 0) AS plans_broken
FROM months m
LEFT JOIN per_month p ON p.month = m.month
ORDER BY m.month"""

DEFINITION = ReportDefinition(
    kind="promises",
    title="Promises to pay and installment plans by month",
    sql=SQL,
    columns=(
        Column("month", "text"),
        Column("made", "int"),
        Column("promised", "money"),
        Column("kept", "int"),
        Column("broken", "int"),
        Column("kept_rate", "share"),
        Column("due_amount", "money"),
        Column("paid", "money"),
        Column("plans_started", "int"),
        Column("plans_completed", "int"),
        Column("plans_broken", "int"),
    ),
    reads=frozenset(
        {
            "case_opened",
            "promise_made",
            "promise_kept",
            "promise_broken",
            "plan_agreed",
            "plan_completed",
            "plan_broken",
        }
    ),
    totals=COUNTS + AMOUNTS,
)
