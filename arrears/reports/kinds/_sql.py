"""SQL pieces the report kinds share (each kind is still one statement)."""

from __future__ import annotations

from domain.policy import STAGES

#: Stages in the ladder's order, buckets by their number ('M4+' after 'M3').
STAGE_ORDER = "array_position(ARRAY[{}]::text[], {{}})".format(", ".join(f"'{s}'" for s in STAGES))


def stage_order(expr: str) -> str:
    return STAGE_ORDER.format(expr)


def bucket_order(expr: str) -> str:
    return f"substring({expr} from '[0-9]+')::int"


#: The standing of every case in scope at an instant `{at}`: its latest snapshot with
#: a business time before it (a case not yet opened then has none). Looked up case by
#: case through the snapshots' primary key (case_id first): sorting every snapshot of
#: the book to keep one per case took three times as long on a 10,000-case year.
def standing_at(at: str) -> str:
    return f"""SELECT s.*, s.principal + s.interest + s.fees AS balance
        FROM scope CROSS JOIN LATERAL (
            SELECT * FROM case_snapshots s
            WHERE s.case_id = scope.case_id AND s.as_of < {at}
            ORDER BY s.as_of DESC, s.last_seq DESC LIMIT 1
        ) s"""


def month_ends() -> str:
    """`months`: each calendar month (bank zone $5) whose last day is in the period, with
    the instants it starts (the month end before) and ends ($1, $2 bound the period)."""
    return """months AS (
    SELECT to_char(m, 'YYYY-MM') AS month, m AT TIME ZONE $5::text AS start_at,
           (m + interval '1 month') AT TIME ZONE $5::text AS end_at
    FROM generate_series(date_trunc('month', $1::timestamptz AT TIME ZONE $5::text),
                         $2::timestamptz AT TIME ZONE $5::text, interval '1 month') m
    WHERE (m + interval '1 month') AT TIME ZONE $5::text <= $2::timestamptz
)"""
