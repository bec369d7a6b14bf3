"""Where the worker's business metrics are taken: interceptors around activities and the
case workflow's `override` update, so no workflow or activity code changes for them.

- Activities: every failed attempt counts as an activity failure (its type, and the
  failure's: an `ApplicationError`'s type, else the exception's class). A successful
  `append_events` counts the events the store recorded *for the first time* (its answer
  says how many were new), so a retried append is not counted twice.
- The `override` update: an override refused by the validator never reaches history or
  the store, so it is counted here (result `rejected`). The validator does not run when
  a workflow replays; the handler does, so its refusals are counted only when not
  replaying. Applied and requested overrides are counted from their stored events.
"""

from __future__ import annotations

from typing import Any

from temporalio import activity, client, workflow
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    HandleUpdateInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from activities.event_store import AppendEvents
from arrears.metrics.business import BusinessMetrics
from arrears.store.events import Appended

#: The activity whose successes are the stored events, and the update of overrides.
APPEND_ACTIVITY = "append_events"
OVERRIDE_UPDATE = "override"
#: The failure type of an override refused by a rule (`workflows.case_views`).
OVERRIDE_REJECTED = "OverrideRejected"


def failure_type(err: BaseException) -> str:
    if isinstance(err, ApplicationError) and err.type:
        return err.type
    return type(err).__name__


def newly_stored(request: AppendEvents, answer: Appended) -> list[Any]:
    """The events of an append the store had not recorded before: the last `appended`
    seqs up to `last_seq` (the others were already stored by an earlier attempt)."""
    first_new = answer.last_seq - answer.appended
    return [e for e in request.events if first_new < e.seq <= answer.last_seq]


class _ActivityMetrics(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, metrics: BusinessMetrics) -> None:
        super().__init__(next)
        self._metrics = metrics

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        name = activity.info().activity_type
        try:
            result = await super().execute_activity(input)
        except Exception as err:
            self._metrics.activity_failed(name, failure_type(err))
            raise
        if name == APPEND_ACTIVITY and isinstance(result, Appended) and input.args:
            request = input.args[0]
            if isinstance(request, AppendEvents):
                self._metrics.stored(newly_stored(request, result))
        return result


def _override_kind(input: HandleUpdateInput) -> str:
    request = input.args[0] if input.args else None
    kind = getattr(getattr(request, "override", None), "kind", None)
    return kind if isinstance(kind, str) else "unknown"


def _workflow_metrics(metrics: BusinessMetrics) -> type[WorkflowInboundInterceptor]:
    """A workflow interceptor class bound to `metrics` (the SDK instantiates the class)."""

    class WorkflowMetrics(WorkflowInboundInterceptor):
        def handle_update_validator(self, input: HandleUpdateInput) -> None:
            try:
                super().handle_update_validator(input)
            except ApplicationError as err:
                self._count_refusal(input, err)
                raise

        async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
            try:
                return await super().handle_update_handler(input)
            except ApplicationError as err:
                if not workflow.unsafe.is_replaying():
                    self._count_refusal(input, err)
                raise

        @staticmethod
        def _count_refusal(input: HandleUpdateInput, err: ApplicationError) -> None:
            if input.update == OVERRIDE_UPDATE and err.type == OVERRIDE_REJECTED:
                metrics.override(_override_kind(input), "rejected")

    return WorkflowMetrics


class MetricsInterceptor(client.Interceptor, Interceptor):
    """The worker interceptor recording `BusinessMetrics`. Also a (pass-through) client
    interceptor: set on the worker's client, every worker built from it takes it."""

    def __init__(self, metrics: BusinessMetrics) -> None:
        self._metrics = metrics
        self._workflow_class = _workflow_metrics(metrics)

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ActivityMetrics(next, self._metrics)

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        return self._workflow_class
