"""The event store as Temporal activities: the case workflow appends its decided events
and loads an ended case's events through these. The store itself (append-only,
hash-chained, idempotent on `(case_id, seq)`) is `arrears/store/events.py`; this module
only turns its `EventConflict` into a failure the workflow does not retry.
"""

from __future__ import annotations

from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError

from arrears.store.events import Appended, Appender, EventConflict
from arrears.store.read_models import CaseSummary
from domain.events import Event

#: The failure type a conflict reaches the workflow as: not retried (retrying cannot make
#: the history and the store agree), so the case stops and asks for a supervisor.
CONFLICT_FAILURE = "EventConflict"


class AppendEvents(BaseModel):
    case_id: str
    events: list[Event]
    summary: CaseSummary


class LoadEvents(BaseModel):
    case_id: str


class StoredEvents(BaseModel):
    events: list[Event]


class EventStoreActivities:
    def __init__(self, store: Appender) -> None:
        self._store = store

    @activity.defn(name="append_events")
    async def append_events(self, request: AppendEvents) -> Appended:
        try:
            return await self._store.append(request.case_id, request.events, request.summary)
        except EventConflict as err:
            raise ApplicationError(str(err), type=CONFLICT_FAILURE, non_retryable=True) from None

    @activity.defn(name="load_events")
    async def load_events(self, request: LoadEvents) -> StoredEvents:
        """A case's recorded events, for a run that starts after the case ended (a late
        payment): it rebuilds the state from what is stored, not from a carried state."""
        return StoredEvents(events=await self._store.events(request.case_id))
