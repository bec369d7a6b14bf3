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
-- Each snapshot holds from its business time until the case's next one: one pass over
-- the snapshots, not one per month end.
spans AS (
    SELECT s.case_id, s.bucket, s.outcome, s.principal + s.interest + s.fees AS balance,
           s.as_of, lead(s.as_of) OVER (PARTITION BY s.case_id ORDER BY s.as_of, s.last_seq)
               AS until
    FROM case_snapshots s JOIN scope USING (case_id)
    WHERE s.as_of < $2::timestamptz
),
-- The month ends in order, as one array: `width_bucket(t, ends)` is how many of them
-- are at or before `t` (a binary search), so the ends a span holds at (after its start,
-- up to its end) are the indices between two of those counts; spans within one month,
-- most of them, hold at none and are dropped before any row is made.
ends AS (
    SELECT array_agg(end_at ORDER BY end_at) AS at
    FROM (SELECT start_at AS end_at FROM months UNION SELECT end_at FROM months) e
),
crossing AS (
    SELECT sp.*, width_bucket(sp.as_of, ends.at) AS first_before,
           coalesce(width_bucket(sp.until, ends.at), cardinality(ends.at)) AS last_held
    FROM spans sp, ends
),
standing AS (
    SELECT ends.at[k] AS end_at, c.case_id, c.bucket, c.outcome, c.balance
    FROM crossing c, ends, generate_series(c.first_before + 1, c.last_held) k
    WHERE c.last_held > c.first_before
),
moves AS (
    SELECT m.month, f.bucket AS from_bucket, coalesce(t.outcome, t.bucket) AS to_state,
           f.balance
    FROM months m
    JOIN standing f ON f.end_at = m.start_at AND f.outcome IS NULL
    JOIN standing t ON t.end_at = m.end_at AND t.case_id = f.case_id
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
