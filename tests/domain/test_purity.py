"""The domain is pure: no infrastructure imports, no clock, no unseeded randomness.

`decide` must give the same events for the same inputs in the live workflow (which
replays it), in `simulate` and in the auditor's rebuild. So `domain/` may not import
Temporal, the database driver or the logger, may not read the time (time comes in as
`now`), and draws random numbers only from an explicit seed (the portfolio model).
Each source file is parsed with `ast`; every import and every call is checked, whatever
alias it hides behind.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "domain"
SOURCES = sorted(DOMAIN.glob("*.py"))

FORBIDDEN_PACKAGES = ("temporalio", "asyncpg", "structlog")
#: The outer layers: the domain knows nothing of them.
OUTER_LAYERS = ("arrears", "workflows", "activities", "worker", "starter")
NONDETERMINISTIC_MODULES = ("secrets", "uuid")
#: (module, attribute) pairs that read a clock.
CLOCK_READS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "monotonic"),
    ("time", "monotonic_ns"),
    ("time", "perf_counter"),
    ("time", "perf_counter_ns"),
    ("time", "localtime"),
    ("time", "gmtime"),
    ("os", "urandom"),
}


def imported_modules(tree: ast.AST) -> list[str]:
    """Every module an `import` or `from ... import` statement names."""
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _aliases(tree: ast.AST) -> dict[str, str]:
    """Local name -> what it stands for: `dt` -> `datetime` for `import datetime as dt`,
    `now` -> `time.time` for `from time import time as now`, `datetime` -> `datetime`
    for `from datetime import datetime` (the class, whose `now` is the clock)."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module in ("datetime", "time", "os"):
            for alias in node.names:
                local = alias.asname or alias.name
                if node.module == "datetime":
                    names[local] = alias.name  # the classes `datetime` and `date`
                else:
                    names[local] = f"{node.module}.{alias.name}"
    return names


def clock_reads(tree: ast.AST) -> list[str]:
    """The calls in `tree` that read a clock, as `module.attribute` with line numbers."""
    names = _aliases(tree)
    found: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        target: tuple[str, str] | None = None
        if isinstance(func, ast.Attribute):
            owner = func.value
            if isinstance(owner, ast.Name):
                # datetime.now(), date.today(), time.time(), dt.datetime.now() below
                target = (names.get(owner.id, owner.id).split(".")[-1], func.attr)
            elif isinstance(owner, ast.Attribute):
                target = (owner.attr, func.attr)  # datetime.datetime.now()
        elif isinstance(func, ast.Name) and "." in names.get(func.id, ""):
            module, attr = names[func.id].rsplit(".", 1)  # from time import time; time()
            target = (module, attr)
        if target in CLOCK_READS:
            found.append(f"{target[0]}.{target[1]} (line {node.lineno})")
    return found


def unseeded_randomness(tree: ast.AST) -> list[str]:
    """Random numbers not drawn from an explicitly seeded `random.Random(seed)`: the
    module's global generator (`random.random()`, `from random import choice`) and
    `random.Random()` without a seed are seeded by the operating system."""
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "random":
            found += [f"from random import {a.name}" for a in node.names if a.name != "Random"]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "random"
            and (node.func.attr != "Random" or not (node.args or node.keywords))
        ):
            found.append(f"random.{node.func.attr}() (line {node.lineno})")
    return found


def top(module: str) -> str:
    return module.split(".")[0]


# --- the checker finds what it must find ------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "from datetime import datetime\nx = datetime.now()",
        "import datetime\nx = datetime.datetime.now()",
        "import datetime as dt\nx = dt.datetime.utcnow()",
        "from datetime import date\nx = date.today()",
        "from datetime import date as day\nx = day.today()",
        "import time\nx = time.time()",
        "from time import time\nx = time()",
        "from time import monotonic as tick\nx = tick()",
        "import time as t\nx = t.time_ns()",
    ],
)
def test_the_checker_sees_a_clock_read_however_it_is_written(source: str) -> None:
    assert clock_reads(ast.parse(source))


@pytest.mark.parametrize(
    "source",
    [
        "from datetime import datetime\nx = datetime(2026, 1, 1).astimezone()",
        "from datetime import date\nx = date.fromisoformat('2026-01-01')",
        "from domain.localtime import at_local\nx = at_local(d, t, z)",
        "now = 1\ndef f(now): return now",
    ],
)
def test_the_checker_lets_pure_date_arithmetic_through(source: str) -> None:
    assert clock_reads(ast.parse(source)) == []


@pytest.mark.parametrize(
    ("source", "unseeded"),
    [
        ("import random\nx = random.random()", True),
        ("import random\nrng = random.Random()", True),
        ("from random import choice", True),
        ("import random\nrng = random.Random(f'{seed}:{account}')", False),
    ],
)
def test_the_checker_tells_seeded_from_unseeded_randomness(source: str, unseeded: bool) -> None:
    assert bool(unseeded_randomness(ast.parse(source))) is unseeded


def test_the_checker_sees_imports_in_every_form() -> None:
    source = "import temporalio.workflow\nfrom asyncpg import connect\nimport structlog as log"
    assert {top(m) for m in imported_modules(ast.parse(source))} == set(FORBIDDEN_PACKAGES)


# --- the domain -------------------------------------------------------------------------------


def test_the_domain_has_sources_to_check() -> None:
    names = {p.name for p in SOURCES}
    assert {"case.py", "contact.py", "overrides.py", "policy.py", "evolve.py"} <= names


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_the_domain_imports_nothing_from_temporal_the_database_or_the_logger(path: Path) -> None:
    modules = imported_modules(ast.parse(path.read_text(encoding="utf-8")))
    assert [m for m in modules if top(m) in FORBIDDEN_PACKAGES] == []


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_the_domain_imports_nothing_from_the_layers_around_it(path: Path) -> None:
    modules = imported_modules(ast.parse(path.read_text(encoding="utf-8")))
    assert [m for m in modules if top(m) in OUTER_LAYERS] == []


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_the_domain_reads_no_clock(path: Path) -> None:
    assert clock_reads(ast.parse(path.read_text(encoding="utf-8"))) == []


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_the_domain_draws_random_numbers_only_from_a_seed(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert [m for m in imported_modules(tree) if top(m) in NONDETERMINISTIC_MODULES] == []
    assert unseeded_randomness(tree) == []
