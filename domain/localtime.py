"""Local dates and times: cycle dates are in the bank's zone, contacts in the debtor's.

Time zones come from the standard library's `zoneinfo`; nothing here reads a clock.

Instants that the rules *compare* are kept in UTC (`utc_*` below, and every event's time):
comparing two datetimes of different zones asks the zone for its offset each time, about
twenty times the cost of comparing two UTC times, and the stepping loop compares the
schedule, the contact plan and the contact records with the business time some hundred
times per simulated month. The bank-local forms stay where an instant is handed to a rule
(see `domain.cycle.Scheduled`), so the change altered no answer.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

# `zone` and `days` are module caches shared by every case of a worker: a zone name or a
# day count in, an immutable `ZoneInfo` or `timedelta` out, bounded by `maxsize`. They
# hold no case's state, so nothing passes from one case to another.


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    """The zone called `name` (`ZoneInfo` caches too, but its lookup costs more)."""
    return ZoneInfo(name)


@lru_cache(maxsize=512)
def days(n: int) -> timedelta:
    """`timedelta(days=n)`, made once per count: building one costs more than looking it
    up, and the rules add the policy's day counts at every step."""
    return timedelta(days=n)


def local_date(moment: datetime, tz: str) -> date:
    """The calendar date of `moment` in zone `tz`."""
    return moment.astimezone(zone(tz)).date()


# `start_of_day` and `end_of_day` are asked for the same few dates again and again (each
# case's next statement, due date and charge-off date, every time its schedule is read).
# They are pure functions of a date and a zone name, both hashable and compared exactly,
# and return an immutable datetime: remembering answers cannot change one. Shared by
# every case of a worker: keys and answers are plain values, no case's state, so
# nothing passes from one case to another; bounded by `maxsize`.


@lru_cache(maxsize=4096)
def start_of_day(day: date, tz: str) -> datetime:
    """Midnight at the start of `day` in zone `tz` (an aware datetime)."""
    return datetime.combine(day, time(0, 0), tzinfo=zone(tz))


@lru_cache(maxsize=4096)
def end_of_day(day: date, tz: str) -> datetime:
    """The first moment after `day` in zone `tz`: a due date is met by paying before it."""
    return start_of_day(day + timedelta(days=1), tz)


def at_local(day: date, clock: time, tz: str) -> datetime:
    return datetime.combine(day, clock, tzinfo=zone(tz))


# The same instants in UTC, for comparing. Remembered as the local forms are, and for the
# same reason (`at_local` too: a case's calls are planned at the window's start on a few
# days, asked for at every step).


@lru_cache(maxsize=4096)
def utc_start_of_day(day: date, tz: str) -> datetime:
    return start_of_day(day, tz).astimezone(UTC)


@lru_cache(maxsize=4096)
def utc_end_of_day(day: date, tz: str) -> datetime:
    return end_of_day(day, tz).astimezone(UTC)


@lru_cache(maxsize=8192)
def utc_at_local(day: date, clock: time, tz: str) -> datetime:
    return at_local(day, clock, tz).astimezone(UTC)
