"""`roll-rates`: how the open cases at one month end stood at the next.

For each calendar month (bank zone) whose last day is in the period: every case in
scope open at the end of the month before (its latest snapshot before that instant has
no outcome) is counted FROM its bucket then TO its bucket at this month's end, or TO
its outcome when it closed meanwhile (cured, settled, closed, written_off). Counted by
cases and by balance, the balance being the case's at the FROM month end. Each
(month, from_bucket) row's shares sum to 1. A case opened during the month has no FROM
bucket and is not in that month's matrix."""

from __future__ import annotations

from arrears.reports.definition import SCOPE, Column, ReportDefinition
from arrears.reports.kinds._sql import bucket_order, month_ends

#: Where a row goes: buckets by number, then the outcomes in this order.
_TO_ORDER = (
    "coalesce(substring(to_state from '^M([0-9]+)')::int,"
    " 100 + array_position(ARRAY['cured', 'settled', 'closed', 'written_off'], to_state))"
)

SQL = f"""WITH {SCOPE},
{month_ends()},
-- The month ends in order, as one array, and each month's name under the index of the
-- end it starts at: `width_bucket(t, ends)` is how many ends are at or before `t` (a
-- binary search). Read as scalar subqueries (computed once), not joined: a joined array
-- rides along in every row the windows below keep.
ends AS (
    SELECT array_agg(start_at ORDER BY start_at) || max(end_at) AS at,
           array_agg(month ORDER BY start_at) AS month
    FROM months
),
-- Each snapshot holds from its business time until the case's next one, so it is the
-- case's standing at the ends after its start up to its end: the indices first_held ..
-- last_held. One pass over the snapshots in the order of the index of migration 0013
-- (case, business time), so neither window below sorts; the spans holding at no end
-- (most of them: a case has several snapshots a month) are dropped before the second.
-- The scope is joined after that: a join before the windows costs as much as the pass.
spans AS (
    SELECT s.case_id, s.as_of, s.last_seq, s.bucket, s.outcome, s.principal, s.interest,
           s.fees, width_bucket(s.as_of, (SELECT at FROM ends)) + 1 AS first_held,
           coalesce(width_bucket(lead(s.as_of) OVER w, (SELECT at FROM ends)),
                    (SELECT cardinality(at) FROM ends)) AS last_held
    FROM case_snapshots s
    WHERE s.as_of < $2::timestamptz
    WINDOW w AS (PARTITION BY s.case_id ORDER BY s.as_of, s.last_seq)
),
-- The case's next standing that holds at an end: its standing at the end after this
-- span's last one.
held AS (
    SELECT sp.*, lead(coalesce(sp.outcome, sp.bucket)) OVER w AS next_state
    FROM (SELECT * FROM spans WHERE last_held >= first_held) sp
    WINDOW w AS (PARTITION BY sp.case_id ORDER BY sp.as_of, sp.last_seq)
),
-- A move FROM each end k the span holds at (open then) TO end k + 1: this span again
-- while it holds, else the next one.
moves AS (
    SELECT ends.month[k] AS month, h.bucket AS from_bucket,
           CASE WHEN k < h.last_held THEN h.bucket ELSE h.next_state END AS to_state,
           h.principal + h.interest + h.fees AS balance
    FROM held h JOIN scope USING (case_id) CROSS JOIN ends
    CROSS JOIN generate_series(h.first_held, least(h.last_held, cardinality(ends.at) - 1)) k
    WHERE h.outcome IS NULL
),
cells AS (
    SELECT month, from_bucket, to_state, count(*)::int AS cases, sum(balance) AS balance
    FROM moves GROUP BY month, from_bucket, to_state
)
SELECT month, from_bucket, to_state AS to_bucket, cases, balance,
       cases::numeric / sum(cases) OVER w AS cases_share,
       balance / nullif(sum(balance) OVER w, 0) AS balance_share
FROM cells
WINDOW w AS (PARTITION BY month, from_bucket)
ORDER BY month, {bucket_order("from_bucket")}, from_bucket, {_TO_ORDER}, to_state"""

DEFINITION = ReportDefinition(
    kind="roll-rates",
    title="Roll rates: each month end's bucket to the next month end's bucket or outcome",
    sql=SQL,
    columns=(
        Column("month", "text"),
        Column("from_bucket", "text"),
        Column("to_bucket", "text"),
        Column("cases", "int"),
        Column("balance", "money"),
        Column("cases_share", "share"),
        Column("balance_share", "share"),
    ),
    reads=frozenset({"case_opened"}),
    reads_snapshots=True,
)
