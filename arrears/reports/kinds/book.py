"""`book`: the open cases at the end of the period by stage x bucket, with their balance.

A case counts when its latest snapshot before the end of the period (business time) has
no outcome: a charged-off case still being collected is open. Its stage, bucket and
balance are that snapshot's."""

from __future__ import annotations

from arrears.reports.definition import SCOPE, Column, ReportDefinition
from arrears.reports.kinds._sql import bucket_order, stage_order, standing_at

SQL = f"""WITH {SCOPE},
standing AS ({standing_at("$2::timestamptz")})
SELECT stage, bucket, count(*)::int AS cases, sum(principal) AS principal,
       sum(interest) AS interest, sum(fees) AS fees, sum(balance) AS total
FROM standing
WHERE outcome IS NULL AND $1::timestamptz IS NOT NULL AND $5::text IS NOT NULL
GROUP BY stage, bucket
ORDER BY {stage_order("stage")}, {bucket_order("bucket")}, bucket"""

DEFINITION = ReportDefinition(
    kind="book",
    title="Open cases at the end of the period by stage and bucket",
    sql=SQL,
    columns=(
        Column("stage", "text"),
        Column("bucket", "text"),
        Column("cases", "int"),
        Column("principal", "money"),
        Column("interest", "money"),
        Column("fees", "money"),
        Column("total", "money"),
    ),
    reads=frozenset({"case_opened"}),
    reads_snapshots=True,
    totals=("cases", "principal", "interest", "fees", "total"),
)
