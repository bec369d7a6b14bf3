"""The demo desk's promises must be ones the case accepts (POLICY §6), whatever the
draw and whichever business hour the case's clock shows, or the demo's promises
report would count nothing but refusals."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from arrears.serve.demo_desk import demo_promise
from tests.domain.conftest import open_case, send, types


@pytest.mark.parametrize("hour", [0, 12, 20])  # 20:00 UTC is already tomorrow in Shanghai
def test_every_promise_the_demo_desk_takes_is_accepted_by_the_case(hour: int) -> None:
    rng = random.Random(hour)
    for _ in range(40):
        run = open_case(principal="1234.57")
        at = datetime(2026, 3, 2, hour, tzinfo=UTC)
        promise = demo_promise(run.state.total, at.date(), rng)
        assert promise is not None
        assert types(send(run, promise, at)) == ["override_applied", "promise_made"]
        assert Decimal(0) < promise.amount <= run.state.total


def test_a_case_with_nothing_owed_gets_no_promise() -> None:
    assert demo_promise(Decimal("0.01") / 2, date(2026, 3, 2), random.Random(1)) is None
