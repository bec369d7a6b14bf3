"""Fixtures of the simulated-book tests: a small placement file and its run."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from arrears.intake.sample import write_sample
from arrears.simulate.book_rows import BookRun


@pytest.fixture
def book(tmp_path: Path) -> BookRun:
    """Forty fictitious accounts placed on 2026-03-01, simulated for four months."""
    start = date(2026, 3, 1)
    path = write_sample(tmp_path / "placements.csv", 40, as_of=start)
    return BookRun(path, months=4, seed=3, start=start, policy="cn-card")
