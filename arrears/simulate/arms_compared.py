"""Champion and challenger side by side: one report per arm, and their difference.

Rows of the two arms are matched by their text and date columns (stage, bucket, month
...); every number column is shown for the champion, the challenger and the difference
(challenger minus champion). Shares differ in percentage points (0.2500 against 0.2000
is 5.00 points), since a difference of two shares is not itself a share. A row one arm
lacks counts as zero there. Counts and amounts of arms of different sizes are not
comparable as such: the shares are (an 80/20 split makes the champion's totals about
four times the challenger's).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, cast

from arrears.reports.run import Format, Report, Value, render
from domain.portfolio import PortfolioReport

NUMBERS = ("int", "money", "share")
SIDES = ("champion", "challenger", "difference")


def _difference(champion: Value, challenger: Value, kind: str) -> tuple[int | Decimal, str]:
    """Challenger minus champion, and the kind it prints as: a difference of shares is in
    percentage points, printed with two decimals like money."""
    if kind == "int":
        return cast(int, challenger or 0) - cast(int, champion or 0), "int"
    d = Decimal(challenger or 0) - Decimal(champion or 0)  # type: ignore[arg-type]
    return (d * 100, "money") if kind == "share" else (d, kind)


def compared(champion: Report, challenger: Report) -> Report:
    """One report of both arms: the key (text and date) columns, then for every number
    column its champion, challenger and difference columns; one row per key present in
    either arm (in the report's order: `_merged_order`), zero where one arm lacks it,
    blank where both do (`_sides`); totals alike."""
    keys = [(n, k) for n, k in champion.columns if k not in NUMBERS]
    numbers = [(n, k) for n, k in champion.columns if k in NUMBERS]
    columns = list(keys)
    for name, kind in numbers:
        columns += [(f"{name} champion", kind), (f"{name} challenger", kind)]
        columns.append((f"{name} difference", _difference(0, 0, kind)[1]))

    def key(row: dict[str, Value]) -> tuple[Value, ...]:
        return tuple(row.get(n) for n, _ in keys)

    by_key: dict[tuple[Value, ...], list[dict[str, Value]]] = {}
    for side, report in enumerate((champion, challenger)):
        for row in report.rows:
            by_key.setdefault(key(row), [{}, {}])[side] = row
    rows = []
    for shown in _merged_order([key(r) for r in champion.rows], [key(r) for r in challenger.rows]):
        mine, theirs = by_key[shown]
        rows.append({**dict(zip((n for n, _ in keys), shown, strict=True)),
                     **_sides(numbers, mine, theirs)})  # fmt: skip
    totals: dict[str, int | Decimal] = {}
    for name, value in _sides(
        [(n, k) for n, k in numbers if n in champion.totals],
        dict(champion.totals),
        dict(challenger.totals),
    ).items():
        assert isinstance(value, int | Decimal)
        totals[name] = value
    return champion.model_copy(
        update={"arm": "champion | challenger | difference", "columns": tuple(columns),
                "rows": rows, "totals": totals}
    )  # fmt: skip


def _merged_order(
    first: list[tuple[Value, ...]], second: list[tuple[Value, ...]]
) -> list[tuple[Value, ...]]:
    """The keys of both arms' rows in the report's own order: the champion's, each key
    only the challenger has coming right before the key it precedes in the challenger's
    rows (a stage only the challenger reached in a month sits in that month, not after
    the vintages); at the end when no shared key follows it."""
    known = set(first)
    preceding: dict[tuple[Value, ...], list[tuple[Value, ...]]] = {}
    waiting: list[tuple[Value, ...]] = []
    for key in second:
        if key in known:
            preceding[key], waiting = waiting, []
        else:
            waiting.append(key)
    merged: list[tuple[Value, ...]] = []
    for key in first:
        merged += [*preceding.get(key, []), key]
    return merged + waiting


def _sides(
    numbers: list[tuple[str, str]], mine: dict[str, Any], theirs: dict[str, Any]
) -> dict[str, Value]:
    """A row's numbers for both arms and their difference. A figure blank in both arms
    (a stage row's agency columns, a share of nothing) stays blank; blank in one arm
    only, it counts as zero there."""
    line: dict[str, Value] = {}
    for name, kind in numbers:
        a, b = mine.get(name), theirs.get(name)
        if a is None and b is None:
            line[f"{name} champion"] = line[f"{name} challenger"] = None
            line[f"{name} difference"] = None
            continue
        zero: Value = 0 if kind == "int" else Decimal(0)
        line[f"{name} champion"] = zero if a is None else a
        line[f"{name} challenger"] = zero if b is None else b
        line[f"{name} difference"] = _difference(a, b, kind)[0]
    return line


def render_compared(champion: Report, challenger: Report, fmt: Format) -> str:
    """Table and CSV: the `compared` report (champion | challenger | difference columns).
    JSON: {"arms": {"champion": report, "challenger": report}, "difference": {"rows",
    "totals"}}, the difference rows holding the key columns and each number's difference
    under the number's own name (shares in percentage points)."""
    both = compared(champion, challenger)
    if fmt != "json":
        return render(both, fmt)
    shown = both.as_json()

    def differences(row: dict[str, Any]) -> dict[str, Any]:
        return {
            n.removesuffix(" difference"): v
            for n, v in row.items()
            if not n.endswith((" champion", " challenger"))
        }

    document = {
        "report": champion.report,
        "from": shown["from"],
        "to": shown["to"],
        "arms": {"champion": champion.as_json(), "challenger": challenger.as_json()},
        "difference": {
            "rows": [differences(row) for row in shown["rows"]],
            "totals": differences(shown["totals"]),
            "shares_in": "percentage points",
        },
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


#: Portfolio report fields that are shares (their differences are in points).
_PORTFOLIO_SHARES = frozenset({"cure_rate", "recovery_rate", "roll_rates"})


def portfolio_difference(champion: PortfolioReport, challenger: PortfolioReport) -> dict[str, Any]:
    """Challenger minus champion for every figure of the portfolio report but the month
    by month book (`months`, read per arm): counts as ints, amounts as two-decimal
    strings, shares in percentage points; a key one arm lacks counts as zero there."""
    mine, theirs = (
        champion.model_dump(exclude={"months"}),
        challenger.model_dump(exclude={"months"}),
    )

    def minus(a: Any, b: Any, name: str) -> Any:
        if isinstance(a, int) and isinstance(b, int):
            return b - a
        d = Decimal(b or 0) - Decimal(a or 0)
        return f"{d * 100:.2f}" if name in _PORTFOLIO_SHARES else f"{d:.2f}"

    out: dict[str, Any] = {}
    for name, a in mine.items():
        b = theirs[name]
        if isinstance(a, dict):
            zero = 0 if all(isinstance(v, int) for v in (*a.values(), *b.values())) else "0"
            out[name] = {
                k: minus(a.get(k, zero), b.get(k, zero), name) for k in sorted(a.keys() | b.keys())
            }
        else:
            out[name] = minus(a, b, name)
    return out
