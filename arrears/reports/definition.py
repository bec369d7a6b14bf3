"""What a report is: one SQL statement over the case event store, and how to read it.

One definition serves the live book and the simulator: the statement reads only the
tables `case_events` (case_id, seq, type, at, payload) and `case_snapshots` (the case's
standing after each append, see migration 0011), which the live event store writes and
the simulator loads into a scratch database by COPY. So a figure means the same thing
wherever it is printed.

Parameters every statement takes, in this order (it may ignore some, but must mention
each so asyncpg can type them: e.g. `$5::text IS NOT NULL`):
  $1 timestamptz  start of the period: the bank's midnight opening `--from`
  $2 timestamptz  end of the period (exclusive): the bank's midnight after `--to`
  $3 text         the policy profile to keep, or NULL for every profile
  $4 text         the arm to keep ("champion" / "challenger"), or NULL for both
  $5 text         the bank's IANA time zone (month ends and days are the bank's)
Times come from the events' business time (`at`), never from when a row was written,
so a report of a past period gives the same answer when run again later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ColumnKind = Literal["text", "int", "money", "share", "date"]

#: The cases a report looks at: every case opened under the chosen policy profile and
#: arm. A case counts in the arm it was opened in (intention to treat): a case moved by
#: a supervisor later still counts where it started, so the arms stay comparable.
SCOPE = """scope AS MATERIALIZED (
    SELECT case_id FROM case_events
    WHERE type = 'case_opened'
      AND ($3::text IS NULL OR payload->>'policy' = $3::text)
      AND ($4::text IS NULL OR coalesce(payload->>'arm', 'champion') = $4::text)
)"""


@dataclass(frozen=True)
class Column:
    name: str
    kind: ColumnKind


@dataclass(frozen=True)
class ReportDefinition:
    """One report kind.

    `reads` names the event types the statement reads, so the simulator loads only
    those; `totals` names the columns summed into the report's totals (exactly: ints
    and Decimals)."""

    kind: str
    title: str
    sql: str
    columns: tuple[Column, ...]
    reads: frozenset[str]
    reads_snapshots: bool = False
    totals: tuple[str, ...] = ()
