"""The case page, `/cases/{case_id}`: the case in front of a person, the overrides their
role may give, and "Audit this case".

An override from here is the CLI's override with the signed-in person as its actor: the
form's fields are the CLI's options, checked by the same `build_override` and sent by the
same `send_override`; the case's own validator then judges authority and limits. A
refusal is shown beside its form (422) and nothing changes; the request id rendered into
the form makes a double submit one override.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from arrears.audit.runner import AuditOptions, Auditor
from arrears.cases.override import build_override, event_line, send_override
from arrears.console.auth import allowed, checked_form, services_of
from arrears.console.case_view import (
    FIELD_NAMES,
    KIND_NAMES,
    NotACase,
    gather,
    local_time,
    override_forms,
    resolve,
    schedule,
)
from arrears.console.i18n import N_
from arrears.console.permissions import may
from arrears.console.rendering import render
from arrears.errors import ArrearsError, ServiceUnavailable, UsageError
from arrears.people.sessions import SignedIn

router = APIRouter()

#: The form fields read as override options: the CLI's option names.
OPTIONS: Final = tuple(name for name in FIELD_NAMES if name != "reason")
_MAX_REQUEST_ID = 128

CaseViewer = Annotated[SignedIn, Depends(allowed("case"))]
Overrider = Annotated[SignedIn, Depends(allowed("override"))]
CaseAuditor = Annotated[SignedIn, Depends(allowed("case_audit"))]


async def _page(
    request: Request,
    who: SignedIn,
    given: str,
    page: int = 1,
    *,
    extra: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    services = services_of(request)
    try:
        case_id = await resolve(services.pool, given)
        shown = await gather(services, case_id, page, who.user)
    except (UsageError, NotACase):
        return render(request, "error.html", {"message": N_("No such case."), "detail": None},
                      status_code=404)  # fmt: skip
    state = shown.standing.state if shown.standing else None
    role = who.user.role
    context = {
        "case": shown,
        "installments": schedule(state) if state is not None else [],
        "forms": override_forms(services, role)
        if may(role, "override") and shown.steerable
        else [],
        "kind_names": KIND_NAMES,
        "field_names": FIELD_NAMES,
        "may_audit": may(role, "case_audit"),
        "local_time": local_time,
        "form_errors": {},
        "form_values": {},
        "applied": None,
        "audit": None,
        **(extra or {}),
    }
    return render(request, "case.html", context, status_code=status_code)


@router.get("/cases/{case_id}")
async def case_page(request: Request, case_id: str, who: CaseViewer, page: int = 1) -> Response:
    return await _page(request, who, case_id, page)


@router.post("/cases/{case_id}/overrides/{kind}")
async def give_override(request: Request, case_id: str, kind: str, who: Overrider) -> Response:
    """The override of `kind`, given by the signed-in person with their stored role."""
    form = await checked_form(request, who)
    services = services_of(request)
    values = {name: str(form.get(name, "")) for name in (*OPTIONS, "reason")}
    options = {name: values[name] or None for name in OPTIONS}
    request_id = str(form.get("request_id", "")).strip()
    shown_kind = kind.replace("-", "_")
    try:
        if not 1 <= len(request_id) <= _MAX_REQUEST_ID:
            raise UsageError("the form has no request id: open the case again")
        command = build_override(kind, who.user.id, who.user.role, values["reason"], options)
        resolved = await resolve(services.pool, case_id)
        result = await send_override(
            await services.temporal(), resolved, command, request_id=request_id
        )
    except ServiceUnavailable:
        raise
    except ArrearsError as err:  # bad input, a refusal, no such case: nothing changed
        return await _page(
            request, who, case_id,
            extra={"form_errors": {shown_kind: str(err)}, "form_values": {shown_kind: values}},
            status_code=422,
        )  # fmt: skip
    applied = {"kind": command.kind, "events": [event_line(e) for e in result.events]}
    return await _page(request, who, case_id, extra={"applied": applied})


@router.post("/cases/{case_id}/audit")
async def audit_case(request: Request, case_id: str, who: CaseAuditor) -> Response:
    """Replay + reconciliation of this case, as `arrears audit CASE` runs it."""
    await checked_form(request, who)
    services = services_of(request)
    try:
        resolved = await resolve(services.pool, case_id)
    except UsageError:
        return render(request, "error.html", {"message": N_("No such case."), "detail": None},
                      status_code=404)  # fmt: skip
    auditor = Auditor(await services.temporal(), services.pool, AuditOptions())
    report = await auditor.audit(resolved)
    return await _page(request, who, case_id, extra={"audit": report})
