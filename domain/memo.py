"""One-entry memos for pure functions of immutable values, keyed on their identity:
`remember_last` (a function's last answer) and `LastStep` (the last step of one kind).

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
- arguments are compared by identity only, one by one, never hashed or compared equal.
It changes no answer, only how often it is computed.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

F = TypeVar("F", bound=Callable[..., Any])

_NOTHING = object()  # stands for the arguments before the first call: no argument is it


def remember_last(fn: F, *, carried: Callable[[Any, Any], bool] | None = None) -> F:
    """`fn`, answering again without recomputing when called with the very same
    (identical) arguments as last time. `fn` must be pure, its result immutable, and its
    parameters two or three plain positional ones (the wrapper takes them positionally
    only). The two shapes are written out because the loop asks some forty times per
    simulated month: a general `*args` wrapper cost three times as much per call.

    `carried(known, new)`, for two parameters only, may say that the answer for the
    first argument `known` is also the answer for `new` (the second being the same
    object): the caller knows `new` was made from `known` by a change `fn` does not read
    (`domain.cycle`: a contact attempt leaves the schedule as it was)."""
    parameters = list(inspect.signature(fn).parameters.values())
    plain = all(
        p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
        for p in parameters
    )
    if not plain or len(parameters) not in (2, 3):
        raise TypeError(f"remember_last needs two or three plain parameters: {fn.__name__}")
    if len(parameters) == 2:
        last2: list[tuple[Any, Any, Any]] = [(_NOTHING, _NOTHING, None)]

        @wraps(fn)
        def remembered2(a: Any, b: Any, /) -> Any:
            known, known_b, answer = last2[0]
            if known_b is b:
                if known is a:
                    return answer
                if carried is not None and carried(known, a):
                    last2[0] = (a, b, answer)
                    return answer
            answer = fn(a, b)
            last2[0] = (a, b, answer)
            return answer

        return cast(F, remembered2)

    if carried is not None:
        raise TypeError(
            f"remember_last carries answers over for two parameters only: {fn.__name__}"
        )
    last3: list[tuple[Any, Any, Any, Any]] = [(_NOTHING, _NOTHING, _NOTHING, None)]

    @wraps(fn)
    def remembered3(a: Any, b: Any, c: Any, /) -> Any:
        entry = last3[0]
        if entry[0] is a and entry[1] is b and entry[2] is c:
            return entry[3]
        answer = fn(a, b, c)
        last3[0] = (a, b, c, answer)
        return answer

    return cast(F, remembered3)


class LastStep:
    """The last step of one kind a function took, as (the value before, the value after),
    so that another can ask whether `after` was made from `before` by such a step
    (`domain.evolve` records every contact attempt; `domain.cycle` then hands the schedule
    on, since an attempt changes nothing a calendar rule reads).

    One instance is module state, shared by every case a worker runs. It cannot leak
    between cases:
    - `made` is true only for the very same two objects (`is`), never for equal ones:
      another case's states are other objects, so an entry left by one case can only
      make another miss, never answer for it;
    - it holds one entry, replaced whole (one tuple assignment): bounded to two objects,
      and threads sharing it at worst miss each other's entry, never see half of one;
    - it holds both objects, so neither can be freed and its id reused meanwhile.
    A miss only costs the computation the caller would have made anyway."""

    __slots__ = ("_entry",)

    def __init__(self) -> None:
        self._entry: tuple[object, object] = (_NOTHING, _NOTHING)

    def record(self, before: object, after: object) -> None:
        """Remember that `after` was made from `before` by this kind of step."""
        self._entry = (before, after)

    def made(self, before: object, after: object) -> bool:
        """Whether `after` is the very object the last recorded step made of `before`."""
        entry = self._entry
        return entry[0] is before and entry[1] is after
