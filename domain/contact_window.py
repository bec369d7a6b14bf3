"""The contact window (POLICY §5: 08:00-22:00 in the debtor's local time) and the
instants the contact rules compare.

Asked about at every step, by the plan (`domain.contact_plan`: where a proposal moves)
and by the guards (`domain.contact_rules`: whether an attempt may happen now).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from domain.localtime import days, utc_at_local, zone
from domain.policy import ContactPolicy

WEEK = timedelta(days=7)


# --- instants ------------------------------------------------------------------------------
#
# Durations ("within 7 days", "a week after") are measured between instants, in UTC.
# Python subtracts two datetimes of the *same* zone by their wall clocks, so across a
# daylight-saving change the answer would depend on how a time was written (in the
# debtor's zone live, with a fixed offset once read back from the event store), and a
# rebuilt case could decide differently from the live one.


def utc(moment: datetime) -> datetime:
    """`moment` as an instant in UTC, the form every comparison of the contact rules takes."""
    return moment.astimezone(UTC)


def elapsed(later: datetime, earlier: datetime) -> timedelta:
    """The time between two instants, whatever zones they are written in."""
    return utc(later) - utc(earlier)


# --- the contact window -------------------------------------------------------------


def in_window(moment: datetime, tz: str, policy: ContactPolicy) -> bool:
    """POLICY §5: 08:00-22:00 in the debtor's local time (start included, end excluded)."""
    return window_position(moment, tz, policy.window_start, policy.window_end)[0] is None


def window_open_at(moment: datetime, tz: str, policy: ContactPolicy) -> datetime:
    """The first moment at or after `moment` inside the contact window.

    Outside the window an attempt waits: before the start it moves to today's start,
    after the end to tomorrow's.
    """
    return window_open_and_day(moment, tz, policy)[0]


def window_open_and_day(moment: datetime, tz: str, policy: ContactPolicy) -> tuple[datetime, date]:
    """`window_open_at`, and the debtor's local day of the moment it answers."""
    moved, day, _ = window_position(moment, tz, policy.window_start, policy.window_end)
    return (moment, day) if moved is None else (moved, day)


# Shared by every case in a worker: a pure function of an instant, a zone name and two
# times (hashable, compared exactly), answering an immutable tuple, bounded to 8192
# entries. No case's state is in the key, so nothing of one case can reach another.
@lru_cache(maxsize=8192)
def window_position(
    moment: datetime, tz: str, start: time, end: time
) -> tuple[datetime | None, date, date]:
    """Where `moment` lies against the window, from one conversion to the debtor's zone:
    (None if inside it, else the window's next opening; the local day of that answer;
    the local day of `moment`).

    Remembered by instant: the plan and the guards ask about the same few moments at
    every step (the business time, the times the tracks propose), and a conversion
    costs about four times a lookup. An equal instant gives an equal answer whatever
    zone it is written in; `moment` itself is never remembered as the answer."""
    local = moment.astimezone(zone(tz))
    clock = local.time()  # the local wall clock: `timetz()` sans zone
    today = local.date()
    if start <= clock < end:
        return None, today, today
    day = today + days(1) if clock >= end else today
    return utc_at_local(day, start, tz), day, today
