"""`arrears override CASE ACTION` and `arrears retry-append CASE`: their arguments and
options; what is sent, and every check of the values, is `arrears.cases.override`."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError

from arrears.errors import UsageError
from domain.events import Actor
from workflows.case_io import RetryAppend


def retry_append_command(
    case: Annotated[str, typer.Argument(help="Account id, or case id (case-<account_id>).")],
    actor: Annotated[str, typer.Option(help="Id of a supervisor or manager user.")],
    role: Annotated[str, typer.Option(help="supervisor or manager.")],
    reason: Annotated[str, typer.Option(help="What was found in the store, and done.")],
) -> None:
    """Restart a case stopped on an event store conflict (`arrears status` shows it), once
    the store has been looked at: the stopped append is tried again."""
    from arrears.cases.override import run_retry_append

    try:
        request = RetryAppend(
            actor=Actor.model_validate({"id": actor.strip(), "role": role.strip().lower()}),
            reason=reason.strip(),
        )
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        raise UsageError(f"--{first['loc'][-1]}: {first['msg']}") from None
    print(run_retry_append(case, request), flush=True)


_CaseArg = Annotated[str, typer.Argument(help="Account id, or case id (case-<account_id>).")]
_Text = str | None


def override_command(
    case: _CaseArg,
    action: Annotated[
        str,
        typer.Argument(
            help="promise-to-pay, installment-plan, waiver, settlement, pause, resume, "
            "cease-contact, dispute-open, dispute-resolve, escalate, early-placement, "
            "package-placement, recall, legal-milestone, close or move-arm."
        ),
    ],
    actor: Annotated[_Text, typer.Option(help="Id of the user who gives it.")] = None,
    role: Annotated[_Text, typer.Option(help="collector, supervisor, manager or auditor.")] = None,
    reason: Annotated[_Text, typer.Option(help="Why (recorded with the override).")] = None,
    amount: Annotated[_Text, typer.Option(help="promise-to-pay, waiver, settlement.")] = None,
    on: Annotated[_Text, typer.Option("--date", help="promise-to-pay: YYYY-MM-DD.")] = None,
    installments: Annotated[_Text, typer.Option(help="installment-plan: 2-60.")] = None,
    first_due: Annotated[_Text, typer.Option(help="installment-plan: YYYY-MM-DD.")] = None,
    until: Annotated[_Text, typer.Option(help="pause: last day (optional).")] = None,
    to_stage: Annotated[_Text, typer.Option(help="escalate: phone ... legal.")] = None,
    agency: Annotated[_Text, typer.Option(help="early- or package-placement.")] = None,
    rate: Annotated[_Text, typer.Option(help="package-placement: e.g. 0.40.")] = None,
    milestone: Annotated[_Text, typer.Option(help="legal-milestone: e.g. suit_filed.")] = None,
    outcome: Annotated[_Text, typer.Option(help="close: closed or written_off.")] = None,
    arm: Annotated[
        _Text, typer.Option(help="move-arm: champion or challenger (the case's test).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    request_id: Annotated[
        _Text, typer.Option("--id", help="Sent again with the same id: applied once.")
    ] = None,
) -> None:
    """Send a supervisor override to a running case; print the events it caused. `--actor`
    must be an active user (`arrears users`) whose role covers `--role`."""
    from arrears.cases.override import run_override

    options = {
        "amount": amount,
        "date": on,
        "installments": installments,
        "first_due": first_due,
        "until": until,
        "to_stage": to_stage,
        "agency": agency,
        "rate": rate,
        "milestone": milestone,
        "outcome": outcome,
        "arm": arm,
    }
    for line in run_override(
        case, action, actor=actor, role=role, reason=reason, options=options, as_json=as_json,
        request_id=request_id,
    ):  # fmt: skip
        print(line, flush=True)
