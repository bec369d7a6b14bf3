"""`arrears override CASE ACTION`: a supervisor's override, sent as the case's `override`
update (README "The case workflow"; POLICY §6).

The command line is checked here first, so that a malformed value is one line and exit 2
before anything is sent: an action that is not an override kind, an option the action
does not take, a missing option, an amount with a fraction of a cent, a date that is not
YYYY-MM-DD, a role, stage, milestone or outcome that does not exist. Then the actor: an
active user (`arrears users`) whose stored role covers the one claimed (a manager may act
as a supervisor, not the reverse), else exit 2 and nothing is sent. What only the case
can judge (authority, limits, the case's state) is judged by the workflow's update
validator: a refusal is `arrears: rejected: <rule>: <message>` and exit 1, and leaves no
trace in the case. On success the events the override caused are printed, one a line.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, get_args

from pydantic import BaseModel, ValidationError
from temporalio.client import (
    Client,
    RPCTimeoutOrCancelledError,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from arrears.cases.client import (
    RPC_TIMEOUT,
    is_closed,
    latest_episode,
    require_worker,
    resolve_case_id,
    temporal_errors,
)
from arrears.errors import ArrearsError, ServiceUnavailable, UsageError
from arrears.people.commands import on_database
from arrears.people.users import check_actor
from arrears.settings import Settings
from domain.commands import Override
from domain.events import Actor
from domain.money import parse_amount
from workflows.case_io import OverrideRequest, OverrideResult, RetryAppend
from workflows.case_views import OUTCOME

#: The whole override, validator and handler, must be answered within this time; without
#: a worker Temporal would hold the request until one starts.
UPDATE_TIMEOUT = 30.0


def _override_models() -> dict[str, type[BaseModel]]:
    union = get_args(Override)[0]
    return {model.model_fields["kind"].default: model for model in get_args(union)}


#: Every override kind (POLICY §6) and its command model.
KINDS: dict[str, type[BaseModel]] = _override_models()
_COMMON = frozenset({"kind", "actor", "reason"})
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_WHOLE = re.compile(r"[0-9]{1,4}")


class OverrideRefused(ArrearsError):
    """The case refused the override (exit code 1); nothing was changed."""

    def __init__(self, rule_and_message: str) -> None:
        super().__init__(f"rejected: {rule_and_message}")


def option(field: str) -> str:
    return "--" + field.replace("_", "-")


def action_name(kind: str) -> str:
    return kind.replace("_", "-")


def arguments(kind: str) -> list[str]:
    """The fields an override kind takes besides actor, role and reason."""
    return [name for name in KINDS[kind].model_fields if name not in _COMMON]


def usage_of(kind: str) -> str:
    model = KINDS[kind]
    parts = []
    for name in arguments(kind):
        shown = f"{option(name)} {name.upper()}"
        parts.append(shown if model.model_fields[name].is_required() else f"[{shown}]")
    return " ".join([action_name(kind), *parts])


def _kind_of(action: str) -> str:
    kind = action.strip().lower().replace("-", "_")
    if kind not in KINDS:
        raise UsageError(
            f"unknown action {action!r}: use one of {', '.join(map(action_name, KINDS))}"
        )
    return kind


def _parse(field: str, raw: str) -> Any:
    """A command-line value for `field`, read exactly; exit 2 naming the option if not."""
    value = raw.strip()
    if field == "amount":
        try:
            amount = parse_amount(value)
        except ValueError as err:
            raise UsageError(f"{option(field)}: {err}") from None
        if amount <= 0:
            raise UsageError(f"{option(field)}: {raw!r} is not more than zero")
        return amount
    if field in ("date", "first_due", "until"):
        try:
            if not _ISO_DATE.fullmatch(value):
                raise ValueError
            return date.fromisoformat(value)
        except ValueError:
            raise UsageError(f"{option(field)}: {raw!r} is not a date (YYYY-MM-DD)") from None
    if field == "installments":
        if not _WHOLE.fullmatch(value):
            raise UsageError(f"{option(field)}: {raw!r} is not a whole number")
        return int(value)
    if field == "rate":
        try:
            rate = Decimal(value)
        except InvalidOperation:
            rate = Decimal("NaN")
        if not rate.is_finite():
            raise UsageError(f"{option(field)}: {raw!r} is not a number (a share, e.g. 0.40)")
        return rate
    return value


def build_override(
    action: str,
    actor: str | None,
    role: str | None,
    reason: str | None,
    options: Mapping[str, str | None],
) -> Any:
    """The override command the arguments describe, or `UsageError` (exit 2) saying why not."""
    kind = _kind_of(action)
    model = KINDS[kind]
    takes = arguments(kind)
    given = {name: value for name, value in options.items() if value is not None}
    for name in given:
        if name not in takes:
            raise UsageError(
                f"{option(name)} does not apply to {action_name(kind)}: usage {usage_of(kind)}"
            )
    for name, value in (("actor", actor), ("role", role), ("reason", reason)):
        if value is None or not value.strip():
            raise UsageError(f"{option(name)} is required (every override names who and why)")
    for name in takes:
        if model.model_fields[name].is_required() and name not in given:
            raise UsageError(f"{action_name(kind)} needs {option(name)}: {usage_of(kind)}")
    assert actor is not None and role is not None and reason is not None
    data: dict[str, Any] = {
        "kind": kind,
        "actor": {"id": actor.strip(), "role": role.strip().lower()},
        "reason": reason.strip(),
        **{name: _parse(name, value) for name, value in given.items()},
    }
    try:
        return model.model_validate(data)
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        loc = [str(p) for p in first["loc"]]
        field = "actor" if loc == ["actor", "id"] else loc[-1] if loc else kind
        raise UsageError(f"{option(field)}: {first['msg'][:1].lower()}{first['msg'][1:]}") from None


async def require_actor(db_url: str, actor: Actor) -> None:
    """The override's actor is an active user who may act in the claimed role; exit 2
    saying why not (asked before Temporal, so nothing is sent)."""
    await on_database(lambda conn: check_actor(conn, actor.id, actor.role), db_url)


def new_request_id() -> str:
    """One id per override a person gives (per invocation): the update's id in Temporal
    and `OverrideRequest.id` in the case, so that sent twice it is applied once."""
    return f"override-{uuid.uuid4().hex}"


async def send_override(
    client: Client,
    case_id: str,
    override: Any,
    *,
    timeout: float = UPDATE_TIMEOUT,
    request_id: str | None = None,
) -> OverrideResult:
    """Send the update; map a refusal to `OverrideRefused` and a silent case to exit 3."""
    request_id = request_id or new_request_id()
    handle = client.get_workflow_handle(case_id)
    with temporal_errors(case_id):
        description = await handle.describe(rpc_timeout=RPC_TIMEOUT)
    if description.status != WorkflowExecutionStatus.RUNNING:
        raise OverrideRefused(_ended(description))
    await require_worker(client, description.task_queue, "nothing was sent")
    with temporal_errors(case_id):
        try:
            result: OverrideResult = await asyncio.wait_for(
                handle.execute_update(
                    "override",
                    OverrideRequest(override=override, id=request_id),
                    id=request_id,
                    result_type=OverrideResult,
                    rpc_timeout=timedelta(seconds=timeout + 5),
                ),
                timeout,
            )
        except WorkflowUpdateFailedError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type == "OverrideRejected":
                raise OverrideRefused(cause.message) from None
            raise ArrearsError(f"the override failed in {case_id}: {cause or err}") from None
        except RPCError as err:
            if is_closed(err):  # it ended a moment ago
                description = await handle.describe(rpc_timeout=RPC_TIMEOUT)
                raise OverrideRefused(_ended(description)) from None
            raise
        except (TimeoutError, RPCTimeoutOrCancelledError):
            raise ServiceUnavailable(
                f"no worker answered {case_id} within {timeout:.0f} s: is `arrears worker` "
                "running, or far behind? The override may still be applied; send it again "
                f"with --id {request_id} to have it applied once"
            ) from None
    return result


def _ended(description: WorkflowExecutionDescription) -> str:
    """Why a case whose workflow has ended takes no override, in the validator's words."""
    if description.status == WorkflowExecutionStatus.COMPLETED:
        outcome = description.typed_search_attributes.get(OUTCOME)
        return "case_open: the case is closed" + (f" (outcome={outcome})" if outcome else "")
    status = description.status.name.lower() if description.status else "ended"
    return f"case_open: the case's workflow has {status}"


def _flat(prefix: str, value: Any) -> list[tuple[str, str]]:
    if value is None or value == [] or value == {}:
        return []
    if isinstance(value, dict):
        if set(value) == {"id", "role"}:  # an actor: id and role, never a name
            return [(prefix, f"{value['id']} ({value['role']})")]
        pairs: list[tuple[str, str]] = []
        for key, inner in value.items():
            pairs += _flat(key if prefix == "args" else f"{prefix}.{key}", inner)
        return pairs
    if isinstance(value, list | tuple):
        return [(prefix, ",".join(str(v) for v in value))]
    return [(prefix, str(value))]


def event_fields(event: Mapping[str, Any], skip: tuple[str, ...] = ("seq", "type")) -> str:
    """An event's fields as `key=value` pairs, nested ones flattened.

    The override's free-text reason is not repeated (the supervisor just typed it, and
    free text is where personal data slips in); everything else in an event is ids,
    amounts, dates and names from the policy's vocabulary.
    """
    pairs: list[tuple[str, str]] = []
    for key, value in event.items():
        if key in skip or (key == "reason" and event.get("type") == "override_applied"):
            continue
        pairs += _flat(key, value)
    return " ".join(f"{k}={v}" for k, v in pairs)


def event_line(event: Mapping[str, Any]) -> str:
    """`seq type key=value ...`: one event of an override's result on one line."""
    fields = event_fields(event)
    return f"{event.get('seq', '?'):>5}  {event.get('type', '?'):<22} {fields}".rstrip()


async def _run(
    settings: Settings,
    given: str,
    case_id: str,
    override: Any,
    as_json: bool,
    request_id: str | None,
) -> list[str]:
    from arrears.stack.temporal import connect

    await require_actor(settings.db_url, override.actor)
    client = await connect(settings)
    case_id = await latest_episode(given, case_id, settings.db_url)
    result = await send_override(client, case_id, override, request_id=request_id)
    if as_json:
        return [json.dumps({"case_id": case_id, "events": result.events}, default=str)]
    return [f"{case_id}: {override.kind} applied", *map(event_line, result.events)]


def run_override(
    case: str,
    action: str,
    *,
    actor: str | None,
    role: str | None,
    reason: str | None,
    options: Mapping[str, str | None],
    as_json: bool = False,
    request_id: str | None = None,
) -> list[str]:
    """The lines to print for `arrears override`; raises an `ArrearsError` otherwise."""
    override = build_override(action, actor, role, reason, options)
    case_id = resolve_case_id(case)
    if request_id is not None and not 1 <= len(request_id.strip()) <= 128:
        raise UsageError("--id: must be 1 to 128 characters")
    return asyncio.run(
        _run(Settings(), case, case_id, override, as_json, request_id and request_id.strip())
    )


async def _retry_append(case_id: str, request: RetryAppend) -> None:
    from arrears.stack.temporal import connect

    settings = Settings()
    await require_actor(settings.db_url, request.actor)
    client = await connect(settings)
    handle = client.get_workflow_handle(case_id)
    with temporal_errors(case_id):
        description = await handle.describe(rpc_timeout=RPC_TIMEOUT)
        await require_worker(client, description.task_queue, "nothing was sent")
        try:
            await handle.execute_update(
                "retry_append", request, rpc_timeout=timedelta(seconds=UPDATE_TIMEOUT)
            )
        except WorkflowUpdateFailedError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type == "OverrideRejected":
                raise OverrideRefused(cause.message) from None
            raise ArrearsError(f"the retry failed in {case_id}: {cause or err}") from None


def run_retry_append(case: str, request: RetryAppend) -> str:
    """The line to print for `arrears retry-append`; raises an `ArrearsError` otherwise."""
    case_id = resolve_case_id(case)
    asyncio.run(_retry_append(case_id, request))
    return f"{case_id}: the append is being retried"
