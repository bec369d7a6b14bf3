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
events AS (
    SELECT date_trunc('month', e.at AT TIME ZONE $5::text) AS month,
           e.type,
           (e.payload->>'amount')::numeric AS amount,
           (e.payload->>'paid')::numeric AS paid
    FROM case_events e
    JOIN scope s ON s.case_id = e.case_id
    WHERE e.type IN ('promise_made', 'promise_kept', 'promise_broken',
                     'plan_agreed', 'plan_completed', 'plan_broken')
      AND e.at >= $1 AND e.at < $2
)
SELECT to_char(m.month, 'YYYY-MM') AS month,
       count(e.type) FILTER (WHERE e.type = 'promise_made') AS made,
       coalesce(sum(e.amount) FILTER (WHERE e.type = 'promise_made'), 0) AS promised,
       count(e.type) FILTER (WHERE e.type = 'promise_kept') AS kept,
       count(e.type) FILTER (WHERE e.type = 'promise_broken') AS broken,
       round(count(e.type) FILTER (WHERE e.type = 'promise_kept')::numeric
             / nullif(count(e.type) FILTER (WHERE e.type IN ('promise_kept', 'promise_broken')),
                      0), 4) AS kept_rate,
       coalesce(sum(e.amount) FILTER (WHERE e.type IN ('promise_kept', 'promise_broken')), 0)
           AS due_amount,
       coalesce(sum(e.paid) FILTER (WHERE e.type IN ('promise_kept', 'promise_broken')), 0)
           AS paid,
       count(e.type) FILTER (WHERE e.type = 'plan_agreed') AS plans_started,
       count(e.type) FILTER (WHERE e.type = 'plan_completed') AS plans_completed,
       count(e.type) FILTER (WHERE e.type = 'plan_broken') AS plans_broken
FROM months m
LEFT JOIN events e ON e.month = m.month
GROUP BY m.month
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
