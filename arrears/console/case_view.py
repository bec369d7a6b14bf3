"""What the case page shows, gathered: the case as its workflow has it (the same reading
as `arrears status CASE`: `arrears.cases.status.read_case`), or as PostgreSQL's `cases`
projection has it when the workflow cannot answer; the timeline from the event store;
contact attempts; overrides; the debtor's contact data for this viewer.

Everything here is read; the one write is the access-log line for a view of personal
data (`record_view`), made in the same place the data is read so no path shows it
unrecorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

import asyncpg

from arrears.cases.client import NoSuchCase, latest_episode_in, resolve_case_id
from arrears.cases.override import KINDS, arguments, event_fields, new_request_id
from arrears.cases.status import CaseReading, read_case
from arrears.console.i18n import N_
from arrears.console.personal import ContactData, contact_data, masked_for
from arrears.console.services import Services
from arrears.errors import ArrearsError, ServiceUnavailable
from arrears.people.access_log import record_view
from arrears.people.users import User
from arrears.store.db import Conn
from arrears.store.override_log import OverrideFilter, OverrideRow, override_rows
from domain.billing import add_months
from domain.localtime import zone
from domain.state import CaseState

#: Events per page of the timeline, newest first.
PAGE_SIZE: Final = 20
#: Contact attempts shown, newest first (a case makes a few a week).
CONTACTS_SHOWN: Final = 50

#: Override kinds as forms name them (translated where shown).
KIND_NAMES: Final = {
    "promise_to_pay": N_("Promise to pay"),
    "installment_plan": N_("Installment plan"),
    "waiver": N_("Waiver"),
    "settlement": N_("Settlement"),
    "pause": N_("Pause"),
    "resume": N_("Resume"),
    "cease_contact": N_("Cease contact"),
    "dispute_open": N_("Open a dispute"),
    "dispute_resolve": N_("Resolve the dispute"),
    "escalate": N_("Escalate"),
    "early_placement": N_("Early placement"),
    "package_placement": N_("Package placement"),
    "recall": N_("Recall"),
    "legal_milestone": N_("Legal milestone"),
    "close": N_("Close the case"),
}
#: Form fields (named like the CLI's options) and their labels.
FIELD_NAMES: Final = {
    "amount": N_("Amount"),
    "date": N_("Date"),
    "installments": N_("Installments"),
    "first_due": N_("First due"),
    "until": N_("Until"),
    "to_stage": N_("To stage"),
    "agency": N_("Agency"),
    "rate": N_("Rate"),
    "milestone": N_("Milestone"),
    "outcome": N_("Outcome"),
    "reason": N_("Reason"),
}
_DATE_FIELDS: Final = frozenset({"date", "first_due", "until"})
#: The stages as the page names them (`domain.policy.STAGES`, translated where shown).
STAGE_NAMES: Final = (
    N_("reminder"), N_("phone"), N_("letter"), N_("visit"), N_("outsourcing"), N_("legal"),
)  # fmt: skip

#: The arms of a champion / challenger test (`domain.arms`), translated where shown.
ARM_NAMES: Final = (N_("champion"), N_("challenger"))


_GONE: Final = N_("Temporal no longer has this case's workflow.")


class NotACase(ArrearsError):
    """Neither the workflow, the projection nor a placement record knows this case (404)."""


@dataclass(frozen=True)
class Standing:
    """Where the case stands, from whichever source answered (fields the projection does
    not keep are None there)."""

    stage: str
    bucket: str
    dpd: int
    principal: Decimal
    interest: Decimal
    fees: Decimal
    holds: tuple[str, ...]
    outcome: str | None
    agency: str | None = None
    hand: str | None = None
    #: The profile the case follows now and its arm of a champion / challenger test (a
    #: supervisor's `move_arm` changes both; reports count the arm it was opened in).
    policy: str | None = None
    arm: str | None = None
    term_ends: datetime | None = None
    pause_until: datetime | None = None
    next_at: datetime | None = None
    next_what: str | None = None
    business_now: datetime | None = None
    state: CaseState | None = None  # the promise / plan / settlement, when read live

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest + self.fees


@dataclass(frozen=True)
class Installment:
    number: int
    due: date
    amount: Decimal
    paid: bool


@dataclass(frozen=True)
class OverrideForm:
    kind: str
    fields: tuple[str, ...]  # without `reason`, which every form has
    required: frozenset[str]
    request_id: str

    def input_type(self, name: str) -> str:
        return "date" if name in _DATE_FIELDS else "text"


@dataclass
class CasePage:
    case_id: str
    standing: Standing | None
    #: Why the page shows PostgreSQL's copy, or that the case is closed (translated).
    note: str | None = None
    note_detail: str | None = None
    workflow_status: str | None = None
    timeline: list[dict[str, Any]] = field(default_factory=list)
    page: int = 1
    pages: int = 1
    contacts: list[asyncpg.Record] = field(default_factory=list)
    overrides: list[OverrideRow] = field(default_factory=list)
    personal: ContactData | None = None
    debtor_zone: str | None = None
    #: Overrides are offered unless the workflow is known to have ended or gone (when
    #: Temporal is away, the form is shown and sending it says so).
    steerable: bool = True


async def resolve(pool: asyncpg.Pool, given: str) -> str:
    """The case a person means, as `arrears status` resolves it: a case id names itself,
    an account id its latest delinquency episode (`UsageError` if it is neither)."""
    case_id = resolve_case_id(given)
    async with pool.acquire() as conn:
        return await latest_episode_in(conn, given, case_id)


def standing_of(reading: CaseReading) -> Standing:
    s = reading.view.state
    return Standing(
        stage=s.stage, bucket=str(reading.attributes["bucket"]),
        dpd=int(reading.attributes["dpd"] if reading.attributes["dpd"] is not None else s.dpd),
        principal=s.principal, interest=s.interest, fees=s.fees, holds=tuple(s.holds),
        outcome=s.outcome,
        agency=s.placement.agency if s.placement else None,
        hand=s.placement.hand if s.placement else None, policy=s.policy, arm=s.arm,
        term_ends=s.placement.term_ends if s.placement else None,
        pause_until=s.pause_until, next_at=reading.view.next_action.at,
        next_what=reading.view.next_action.what, business_now=reading.view.business_now,
        state=s,
    )  # fmt: skip


def projected_standing(row: asyncpg.Record) -> Standing:
    return Standing(
        stage=row["stage"], bucket=row["bucket"], dpd=row["dpd"], principal=row["principal"],
        interest=row["interest"], fees=row["fees"], holds=tuple(row["holds"]),
        outcome=row["outcome"], agency=row["agency"], hand=row["hand"], policy=row["policy"],
        arm=row["arm"],
    )  # fmt: skip


def schedule(state: CaseState) -> list[Installment]:
    """The installment plan's due dates: monthly from the first (as the case counts them,
    `domain.cycle`), the paid ones first."""
    plan = state.plan
    if plan is None:
        return []
    return [
        Installment(
            number=n,
            due=add_months(plan.first_due, n - 1),
            amount=plan.installment_amount,
            paid=n <= plan.installments_paid,
        )
        for n in range(1, plan.installments + 1)
    ]


def override_forms(services: Services, role: str) -> list[OverrideForm]:
    """One form per override kind the policy lets this role give (POLICY §6), each with a
    fresh request id so that a form submitted twice is applied once."""
    roles = services.policy.authority.override_roles
    return [
        OverrideForm(
            kind=kind,
            fields=tuple(arguments(kind)),
            required=frozenset(n for n in arguments(kind) if model.model_fields[n].is_required()),
            request_id=new_request_id(),
        )
        for kind, model in KINDS.items()
        # `move_arm` (champion / challenger) is given with `arrears override` only: a rare
        # decision about an experiment, not part of working a case.
        if role in roles.get(kind, ()) and kind in KIND_NAMES
    ]


def local_time(at: datetime, timezone: str) -> str:
    """A moment on the debtor's clock (the contact hours of POLICY §5 are theirs)."""
    return at.astimezone(zone(timezone)).strftime("%Y-%m-%d %H:%M")


def timeline_fields(payload: Mapping[str, Any]) -> str:
    """An event's fields as `arrears override` prints them (its time has a column)."""
    return event_fields(payload, skip=("seq", "type", "at"))


async def _live(services: Services, case_id: str) -> tuple[CaseReading | None, str | None, str]:
    """The workflow's reading, or why there is none (a note, translated where shown)."""
    try:
        client = await services.temporal()
        return await read_case(client, case_id, services.policy), None, ""
    except NoSuchCase:
        return None, _GONE, ""
    except ServiceUnavailable as err:
        return None, N_("Temporal cannot be reached or no worker answers."), str(err)
    except ArrearsError as err:
        return None, N_("The case's workflow could not answer."), str(err)


async def gather(services: Services, case_id: str, page: int, viewer: User) -> CasePage:
    """Everything the page shows; `NotACase` if nothing knows the case."""
    reading, note, detail = await _live(services, case_id)
    async with services.pool.acquire() as conn:
        projected = await conn.fetchrow(
            "SELECT stage, bucket, dpd, principal, interest, fees, holds, outcome, agency,"
            " hand, policy, arm FROM cases WHERE case_id = $1",
            case_id,
        )
        placement = await conn.fetchrow(
            "SELECT facts->>'timezone' AS zone FROM placement_records WHERE case_id = $1",
            case_id,
        )
        if reading is None and projected is None and placement is None:
            raise NotACase(f"no such case: {case_id}")
        shown = CasePage(case_id=case_id, standing=None, note=note, note_detail=detail)
        if reading is not None:
            shown.standing = standing_of(reading)
            shown.workflow_status = reading.workflow_status
            if reading.workflow_status != "running":
                shown.steerable = False
                shown.note = N_("This case's workflow has ended: this is its last state.")
        elif projected is not None:
            shown.standing = projected_standing(projected)
        shown.steerable = shown.steerable and note != _GONE
        await _read_history(conn, shown, page)
        if placement is not None:
            shown.debtor_zone = placement["zone"]
            personal = await services.vault.read(conn, case_id)  # this case only
            shown.personal = contact_data(personal, masked=masked_for(viewer.role))
            if shown.personal is not None:
                await record_view(conn, viewer, case_id, shown.personal.logged_as, services.now())
    return shown


async def _read_history(conn: Conn, shown: CasePage, page: int) -> None:
    """The timeline's page (newest first), the last contact attempts, every override."""
    case_id = shown.case_id
    count = await conn.fetchval("SELECT count(*) FROM case_events WHERE case_id = $1", case_id)
    shown.pages = max(1, -(-int(count) // PAGE_SIZE))
    shown.page = min(max(1, page), shown.pages)
    rows = await conn.fetch(
        "SELECT seq, type, at, payload FROM case_events WHERE case_id = $1"
        " ORDER BY seq DESC LIMIT $2 OFFSET $3",
        case_id, PAGE_SIZE, (shown.page - 1) * PAGE_SIZE,
    )  # fmt: skip
    shown.timeline = [
        {"seq": r["seq"], "type": r["type"], "at": r["at"], "fields": timeline_fields(r["payload"])}
        for r in rows
    ]
    shown.contacts = await conn.fetch(
        "SELECT seq, attempted_at, channel, target, line, outcome, recording_ref"
        " FROM contact_attempts WHERE case_id = $1 ORDER BY seq DESC LIMIT $2",
        case_id, CONTACTS_SHOWN,
    )  # fmt: skip
    shown.overrides = await override_rows(conn, OverrideFilter(case_id=case_id))
