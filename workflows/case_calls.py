"""The case workflow's activity calls, each with its timeout and retry policy.

Kept apart from `workflows/case.py` so that the workflow reads as the case loop, and so
that every call the case makes to the outside world is listed in one place.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.contact import ContactActivities, ContactRequest
    from activities.event_store import AppendEvents, EventStoreActivities, LoadEvents
    from activities.partners import PartnerActivities, PartnerNotice
    from domain.commands import RecordContactAttempt
    from domain.contact import PlannedContact
    from domain.events import Event
    from domain.loop import attempt_key, attempt_made

# A worker that dies mid-activity is noticed when these run out, then the activity is
# retried elsewhere: short enough not to stall a case, long enough for a slow provider.
STORE_TIMEOUT = timedelta(seconds=10)
CONTACT_TIMEOUT = timedelta(seconds=30)
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))


async def load_events(case_id: str) -> list[Event]:
    """The case's recorded events (for a run that starts after the case ended)."""
    stored = await workflow.execute_activity_method(
        EventStoreActivities.load_events,
        LoadEvents(case_id=case_id),
        start_to_close_timeout=STORE_TIMEOUT,
        retry_policy=RETRY,
    )
    return stored.events


async def append_events(request: AppendEvents) -> None:
    """Append to the event store (a conflict fails at once: `EventStoreActivities`)."""
    await workflow.execute_activity_method(
        EventStoreActivities.append_events,
        request,
        start_to_close_timeout=STORE_TIMEOUT,
        retry_policy=RETRY,
    )


async def notify_partner(case_id: str, event: Event) -> None:
    """Tell the agency or the court of a placement, a recall or a referral."""
    await workflow.execute_activity_method(
        PartnerActivities.notify_partner,
        PartnerNotice(case_id=case_id, event=event),
        start_to_close_timeout=STORE_TIMEOUT,
        retry_policy=RETRY,
    )


async def attempt_contact(case_id: str, seq: int, planned: PlannedContact) -> RecordContactAttempt:
    """Make the `planned` attempt through the provider, which will be event `seq` of the
    case (its idempotency key), and return the command that records its outcome."""
    result = await workflow.execute_activity_method(
        ContactActivities.attempt_contact,
        ContactRequest(
            case_id=case_id,
            attempt_key=attempt_key(case_id, seq),
            channel=planned.channel,
            target=planned.target,
            planned_at=planned.planned_at,
            line=planned.line,
            contact_index=planned.contact_index,
        ),
        start_to_close_timeout=CONTACT_TIMEOUT,
        retry_policy=RETRY,
    )
    return attempt_made(
        planned, result.outcome, result.collector_ids, result.recording_ref, result.provider_ref
    )
