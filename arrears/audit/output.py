"""What `arrears audit` prints: a summary of the book and only the cases with problems,
timelines when asked for (`--timeline`, or one named case), in four formats.

- `table` (default): a rich table per shown timeline, then the summary line and each
  problem case with its findings, on stdout.
- `json`: one JSON document, a list with an object per case; `jsonl`: one such object
  per line, printed as each case is done; `csv`: the shown timelines' events. For these
  three the summary goes to stderr, so stdout stays data.
"""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

from arrears.audit.case import CaseReport

FORMATS = ("table", "json", "jsonl", "csv")


def document(report: CaseReport) -> dict[str, Any]:
    """A case as JSON: its verdict, every finding, the in-flight events with their ages."""
    shown: dict[str, Any] = {
        "case_id": report.case_id,
        "verdict": report.verdict,
        "verified": report.verdict != "problems",
        "problems": [f.detail for f in report.problems],
        "findings": [f.model_dump(exclude_none=True) for f in report.findings],
        "in_flight": [
            {"seq": f.seq, "age_seconds": round(f.age_seconds or 0.0, 1)} for f in report.in_flight
        ],
    }
    if report.timeline is not None:
        shown["timeline"] = report.timeline
    return shown


@dataclass
class Summary:
    """The counts of the summary line."""

    cases: int = 0
    verified: int = 0
    in_flight: int = 0
    in_flight_events: int = 0
    oldest: float = 0.0
    problems: list[CaseReport] = field(default_factory=list)

    def add(self, report: CaseReport) -> None:
        self.cases += 1
        if report.verdict == "problems":
            self.problems.append(report)
        elif report.verdict == "in_flight":
            self.in_flight += 1
        else:
            self.verified += 1
        ages = [f.age_seconds or 0.0 for f in report.in_flight]
        self.in_flight_events += len(ages)
        self.oldest = max([self.oldest, *ages])

    def line(self) -> str:
        flight = f"{self.in_flight} in flight"
        if self.in_flight_events:
            events = "event" if self.in_flight_events == 1 else "events"
            flight += f" ({self.in_flight_events} {events}, oldest {self.oldest:.0f} s)"
        return (
            f"audited {self.cases} cases: {self.verified} verified, {flight}, "
            f"{len(self.problems)} with problems"
        )


class AuditPrinter:
    """Takes each case's report as it is done; `finish` prints what comes at the end."""

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self.summary = Summary()
        self._reports: list[CaseReport] = []
        self._console = Console(soft_wrap=True)  # a finding is one line, never cut

    def add(self, report: CaseReport) -> None:
        self.summary.add(report)
        if self.fmt == "jsonl":
            print(json.dumps(document(report), ensure_ascii=False), flush=True)
        elif self.fmt == "json" or report.timeline is not None:
            self._reports.append(report)

    def finish(self) -> None:
        if self.fmt == "json":
            print(json.dumps([document(r) for r in self._reports], ensure_ascii=False, indent=2))
        elif self.fmt == "csv":
            _csv(self._reports)
        elif self.fmt == "table":
            for report in self._reports:
                self._console.print(_timeline_table(report))
                self._findings(report)
        if self.fmt != "table":
            print(f"arrears: {self.summary.line()}", file=sys.stderr)
            for report in self.summary.problems:
                for problem in report.problems:
                    print(f"arrears: {report.case_id}: {problem.detail}", file=sys.stderr)
            return
        self._console.print(self.summary.line(), highlight=False)
        for report in self.summary.problems:
            if report.timeline is None:  # else its findings are under its timeline
                self._console.print(f"[red]{report.case_id}[/]: problems", highlight=False)
                self._findings(report)

    def _findings(self, report: CaseReport) -> None:
        for finding in report.findings:
            self._console.print(f"  {finding.kind}: {finding.detail}", highlight=False)


def _csv(reports: list[CaseReport]) -> None:
    writer = csv.writer(sys.stdout)
    writer.writerow(("case_id", "seq", "at", "type", "details"))
    for report in reports:
        for event in (report.timeline or {}).get("events", []):
            details = {k: v for k, v in event.items() if k not in ("seq", "at", "type")}
            writer.writerow(
                (
                    report.case_id,
                    event["seq"],
                    event["at"],
                    event["type"],
                    json.dumps(details, ensure_ascii=False),
                )
            )


def _timeline_table(report: CaseReport) -> Table:
    table = Table(title=f"{report.case_id}: {report.verdict.replace('_', ' ')}")
    for column in ("seq", "at", "type", "details"):
        table.add_column(column)
    for event in (report.timeline or {}).get("events", []):
        shown = ", ".join(
            f"{k}={v}"
            for k, v in event.items()
            if k not in ("seq", "at", "type", "account") and v not in (None, [], {})
        )
        table.add_row(str(event["seq"]), event["at"], event["type"], shown[:120])
    return table
