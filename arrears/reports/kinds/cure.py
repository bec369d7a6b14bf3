"""`cure`: of the cases that entered each bucket in the period, the share cured within
30, 60 and 90 days.

An entry is a `bucket_changed` event with its business time in the period, counted
under the bucket entered; a case's first bucket counts (the domain records it as a
change from M0 when the case opens), and a case entering the same bucket twice counts
twice. Cured means the case closed with outcome `cured`: the domain closes a case as
soon as every past-due minimum is paid (domain/payments.py), so "back to current" and
"cured" are the same event. Days are bank days. A cure counts only up to the end of the
period, so a past period's figures do not change later; hence an entry is judged for N
days only when N bank days after it are in the period (`eligible_N`), and `share_N` is
`cured_N / eligible_N`."""

from __future__ import annotations

from arrears.reports.definition import SCOPE, Column, ReportDefinition
from arrears.reports.kinds._sql import bucket_order

WINDOWS = (30, 60, 90)


def _window(n: int) -> str:
    eligible = f"entered_on + {n} < last_day"
    return f"""count(*) FILTER (WHERE {eligible})::int AS eligible_{n},
       count(*) FILTER (WHERE {eligible} AND cured_on - entered_on <= {n})::int AS cured_{n},
       count(*) FILTER (WHERE {eligible} AND cured_on - entered_on <= {n})::numeric
           / nullif(count(*) FILTER (WHERE {eligible}), 0) AS share_{n}"""


_WINDOWS_SQL = ",\n       ".join(_window(n) for n in WINDOWS)

SQL = f"""WITH {SCOPE},
entries AS (
    SELECT e.case_id, e.payload->>'bucket' AS bucket, e.at,
           (e.at AT TIME ZONE $5::text)::date AS entered_on,
           ($2::timestamptz AT TIME ZONE $5::text)::date AS last_day
    FROM case_events e JOIN scope USING (case_id)
    WHERE e.type = 'bucket_changed' AND e.at >= $1::timestamptz AND e.at < $2::timestamptz
),
cures AS (
    SELECT c.case_id, c.at, (c.at AT TIME ZONE $5::text)::date AS cured_on
    FROM case_events c JOIN scope USING (case_id)
    WHERE c.type = 'case_closed' AND c.payload->>'outcome' = 'cured'
      AND c.at >= $1::timestamptz AND c.at < $2::timestamptz
),
judged AS (
    SELECT en.bucket, en.entered_on, en.last_day, cu.cured_on
    FROM entries en LEFT JOIN cures cu ON cu.case_id = en.case_id AND cu.at >= en.at
)
SELECT bucket, count(*)::int AS entered,
       {_WINDOWS_SQL}
FROM judged
GROUP BY bucket
ORDER BY {bucket_order("bucket")}, bucket"""

DEFINITION = ReportDefinition(
    kind="cure",
    title="Cure: of the cases entering each bucket, the share cured within 30/60/90 days",
    sql=SQL,
    columns=(
        Column("bucket", "text"),
        Column("entered", "int"),
        *(
            column
            for n in WINDOWS
            for column in (
                Column(f"eligible_{n}", "int"),
                Column(f"cured_{n}", "int"),
                Column(f"share_{n}", "share"),
            )
        ),
    ),
    reads=frozenset({"case_opened", "bucket_changed", "case_closed"}),
    totals=("entered", *(f"{k}_{n}" for n in WINDOWS for k in ("eligible", "cured"))),
)
