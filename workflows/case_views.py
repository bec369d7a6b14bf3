"""What the case workflow shows of itself: the `cases` read model's row, its search
attributes, its next action and how it refuses a message, worked out from the state
alone (no workflow calls, so a reader finds them here and tests can call them directly)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from temporalio.common import SearchAttributeKey, SearchAttributeUpdate
from temporalio.exceptions import ApplicationError

from arrears.store.read_models import CaseSummary
from domain.case import next_wakeup
from domain.contact import due
from domain.delinquency import bucket_label, days_past_due, oldest_past_due
from domain.errors import DomainError
from domain.localtime import local_date
from domain.policy import Policy
from domain.state import CaseState
from workflows.case_io import NextAction

STAGE = SearchAttributeKey.for_keyword("ArrearsStage")
BUCKET = SearchAttributeKey.for_keyword("ArrearsBucket")
DPD = SearchAttributeKey.for_int("ArrearsDpd")
AGENCY = SearchAttributeKey.for_keyword("ArrearsAgency")
OUTCOME = SearchAttributeKey.for_keyword("ArrearsOutcome")
#: The case's arm of a champion / challenger test: set by the importer at the start.
ARM = SearchAttributeKey.for_keyword("ArrearsArm")
#: Set ("store_conflict") while a case waits for a supervisor; unset otherwise.
ATTENTION = SearchAttributeKey.for_keyword("ArrearsAttention")


def dpd_now(s: CaseState, policy: Policy) -> int:
    """DPD as of the latest event (the state's own field changes only with the bucket)."""
    if s.as_of is None:
        return 0
    today = local_date(s.as_of, policy.cycle.bank_timezone)
    return days_past_due(oldest_past_due(s.dues, today), today)


def case_summary(s: CaseState, policy: Policy) -> CaseSummary:
    """The `cases` row, written with every append."""
    assert s.account is not None and s.opened_at is not None and s.as_of is not None
    return CaseSummary(
        account_id=s.account.account_id,
        policy=s.policy,
        stage=s.stage,
        bucket=bucket_label(s.bucket, policy.delinquency.top_bucket),
        dpd=dpd_now(s, policy),
        principal=s.principal,
        interest=s.interest,
        fees=s.fees,
        agency=s.placement.agency if s.placement else None,
        hand=s.placement.hand if s.placement else None,
        holds=list(s.holds),
        charged_off=s.charged_off,
        outcome=s.outcome,
        opened_at=s.opened_at,
        as_of=s.as_of,
        arm=s.arm,
    )


def attribute_values(s: CaseState, policy: Policy) -> tuple[Any, ...]:
    """Stage, bucket, DPD, agency and outcome, as published (compared to skip upserts)."""
    return (
        s.stage,
        bucket_label(s.bucket, policy.delinquency.top_bucket),
        dpd_now(s, policy),
        s.placement.agency if s.placement else None,
        s.outcome or "open",
    )


def attribute_updates(values: tuple[Any, ...]) -> list[SearchAttributeUpdate[Any]]:
    stage, bucket, dpd, agency, outcome = values
    return [
        STAGE.value_set(stage),
        BUCKET.value_set(bucket),
        DPD.value_set(dpd),
        AGENCY.value_set(agency) if agency else AGENCY.value_unset(),
        OUTCOME.value_set(outcome),
    ]


def next_action_of(s: CaseState, policy: Policy) -> NextAction:
    """When the case next wakes and why (the `next_action` query)."""
    planned = next_wakeup(s, policy)
    if planned is None:
        return NextAction(at=None, what="nothing planned")
    attempts = due(s, planned, policy)
    what = f"{attempts[0].channel} to {attempts[0].target}" if attempts else "calendar rules"
    return NextAction(at=planned, what=what)


@contextlib.contextmanager
def refusals_as_rejections() -> Iterator[None]:
    """A rule's refusal reaches the sender as an `OverrideRejected` failure naming the rule
    and its values; not retryable, since asking again gets the same answer."""
    try:
        yield
    except DomainError as err:
        raise ApplicationError(
            str(err), err.rule, type="OverrideRejected", non_retryable=True
        ) from None
