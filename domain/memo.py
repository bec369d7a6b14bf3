"""A one-entry memo for pure functions of immutable values, keyed on their identity.

The stepping loop asks the same questions of the same state several times: the wake-up
time (`next_wakeup`: the schedule and the contact plan), then the calendar rules due
(`run_due`: the schedule again), then the attempts due (`due`: the plan again). Each
answer depends on its arguments alone, and a `CaseState` is frozen (every change makes
a new one, `domain.evolve`), so the answer for the very same objects cannot change.

Safe because:
- a hit needs every argument to be the *same object* (`is`), never merely equal, and the
  entry holds those objects, so their ids cannot be reused by other objects meanwhile;
- the arguments are immutable (frozen `CaseState` and `Policy`, `datetime`, `None`);
- the remembered answer is immutable (callers get a tuple; wrap it in a list to hand out);
- the entry is one tuple, replaced whole: threads sharing the module (workflow tasks in
  one worker) at worst miss each other's entry, they never see half of one.
It changes no answer, only how often it is computed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from operator import is_
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def remember_last(fn: Callable[P, R]) -> Callable[P, R]:
    """`fn`, answering again without recomputing when called with the very same
    (identical) positional arguments as last time. `fn` must be pure and its result
    immutable. A call with keyword arguments is computed and not remembered."""
    last: list[tuple[tuple[Any, ...], R] | None] = [None]

    @wraps(fn)
    def remembered(*args: P.args, **kwargs: P.kwargs) -> R:
        if kwargs:
            return fn(*args, **kwargs)
        entry = last[0]
        if entry is not None and len(entry[0]) == len(args) and all(map(is_, entry[0], args)):
            return entry[1]
        answer = fn(*args, **kwargs)
        last[0] = (args, answer)
        return answer

    return remembered
