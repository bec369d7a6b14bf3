"""Running a report: a query (kind, bank days, scope) against one connection, and the
result rendered as a table, CSV or JSON.

`run_report` turns the bank days into the period's two instants in the bank's zone and
runs the kind's one SQL statement (arrears/reports/definition.py); it reads nothing else,
so the same call serves the live book and a scratch database of simulated events.
Figures stay exact (Decimal money and shares, int counts) until they are rendered.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from arrears.errors import UsageError
from arrears.reports.definition import ColumnKind, ReportDefinition
from arrears.store.db import Conn

Format = Literal["table", "csv", "json"]
FORMATS: tuple[Format, ...] = ("table", "csv", "json")
Value = str | int | Decimal | date | None

#: Memory each sort or hash of a report may use before it spills to disk, for the report's
#: transaction only. The server's default (4 MB) made the 100,000-case contacts report
#: write its per-case grouping (about 60 MB) to disk in nine batches and sort the result
#: on disk again (bench/README.md, "Report speed"); a report is one statement of a few
#: such steps, run by a person or the simulator, not hundreds at once.
REPORT_WORK_MEM = "64MB"

_CENT = Decimal("0.01")
_SHARE = Decimal("0.0001")


class ReportQuery(BaseModel):
    """What to report: `date_from` .. `date_to` are bank days, both included."""

    model_config = ConfigDict(frozen=True)

    kind: str
    date_from: date
    date_to: date
    policy: str | None = None
    arm: str | None = None
    bank_timezone: str
    generated_at: datetime

    def period(self) -> tuple[datetime, datetime]:
        """The bank's midnight opening `date_from` and the one after `date_to` ($1, $2)."""
        zone = ZoneInfo(self.bank_timezone)
        start = datetime.combine(self.date_from, time(), zone)
        end = datetime.combine(self.date_to + timedelta(days=1), time(), zone)
        return start, end


class Report(BaseModel):
    """A computed report: `rows` are keyed by the definition's column names."""

    model_config = ConfigDict(frozen=True)

    report: str
    title: str
    date_from: date
    date_to: date
    generated_at: datetime
    policy: str | None
    arm: str | None
    columns: tuple[tuple[str, str], ...]  # (name, ColumnKind)
    rows: list[dict[str, Value]]
    totals: dict[str, int | Decimal]

    def as_json(self) -> dict[str, Any]:
        """The issue's JSON shape; money two-decimal strings, shares four-decimal strings."""
        kinds = dict(self.columns)
        return {
            "report": self.report,
            "from": self.date_from.isoformat(),
            "to": self.date_to.isoformat(),
            "generated_at": self.generated_at.isoformat(),
            "policy": self.policy,
            "arm": self.arm,
            "rows": [{k: _json_value(v, kinds[k]) for k, v in row.items()} for row in self.rows],
            "totals": {k: _json_value(v, kinds[k]) for k, v in self.totals.items()},
        }


def definition_of(kind: str) -> ReportDefinition:
    """The kind's definition, or a usage error naming the known kinds."""
    from arrears.reports.kinds import KINDS

    if kind not in KINDS:
        raise UsageError(f"unknown report {kind!r}: use {', '.join(sorted(KINDS))}")
    return KINDS[kind]


async def run_report(conn: Conn, query: ReportQuery) -> Report:
    """The kind's statement over `conn` (a connection, or one from a pool)."""
    definition = definition_of(query.kind)
    start, end = query.period()
    async with conn.transaction():
        await conn.execute(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'")
        records = await conn.fetch(
            definition.sql, start, end, query.policy, query.arm, query.bank_timezone
        )
    kinds = {c.name: c.kind for c in definition.columns}
    rows = [{name: _exact(r[name], kinds[name]) for name in kinds} for r in records]
    totals: dict[str, int | Decimal] = {}
    for name in definition.totals:
        zero: int | Decimal = 0 if kinds[name] == "int" else Decimal("0.00")
        totals[name] = sum((v for r in rows if isinstance(v := r[name], int | Decimal)), zero)
    return Report(
        report=definition.kind, title=definition.title, date_from=query.date_from,
        date_to=query.date_to, generated_at=query.generated_at, policy=query.policy,
        arm=query.arm, columns=tuple((c.name, c.kind) for c in definition.columns), rows=rows,
        totals=totals,
    )  # fmt: skip


def _exact(value: Any, kind: ColumnKind) -> Value:
    """The value in its kind's Python type (asyncpg gives numeric as Decimal already)."""
    if value is None:
        return None
    match kind:
        case "int":
            return int(value)
        case "money" | "share":
            return Decimal(value)
        case "date":
            return value if isinstance(value, date) else date.fromisoformat(str(value))
        case _:
            return str(value)


def _text(value: Value, kind: str) -> str:
    """A value as printed in tables and CSV (None: empty)."""
    if value is None:
        return ""
    if kind == "money":
        return str(Decimal(value).quantize(_CENT, ROUND_HALF_EVEN))  # type: ignore[arg-type]
    if kind == "share":
        return str(Decimal(value).quantize(_SHARE, ROUND_HALF_EVEN))  # type: ignore[arg-type]
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _json_value(value: Value, kind: str) -> str | int | None:
    if value is None or (kind == "int" and isinstance(value, int)):
        return value
    return _text(value, kind)


def render(report: Report, fmt: Format) -> str:
    if fmt == "json":
        return json.dumps(report.as_json(), ensure_ascii=False, indent=2) + "\n"
    names = [name for name, _ in report.columns]
    kinds = dict(report.columns)
    lines = [[_text(row.get(n), kinds[n]) for n in names] for row in report.rows]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(names)
        writer.writerows(lines)
        return out.getvalue()
    return _table(report, names, kinds, lines)


def _table(report: Report, names: list[str], kinds: dict[str, str], lines: list[list[str]]) -> str:
    scope = f"policy {report.policy or 'all'}, arm {report.arm or 'all'}"
    head = f"{report.title}: {report.date_from} .. {report.date_to} ({scope})"
    body = [names, *lines]
    if report.totals:
        totals = [_text(report.totals.get(n), kinds[n]) for n in names]
        body.append(["total", *totals[1:]])
    widths = [max(len(line[i]) for line in body) for i in range(len(names))]
    numeric = [kinds[n] in ("int", "money", "share") for n in names]
    out = [head]
    for line in body:
        cells = zip(line, widths, numeric, strict=True)
        out.append("  ".join(c.rjust(w) if num else c.ljust(w) for c, w, num in cells).rstrip())
    if not lines:
        out.append("(no rows)")
    return "\n".join(out) + "\n"
