"""The case workflow: a thin shell around the domain decider.

It computes its next wake-up from the state, waits for it (or for a message), feeds time,
payments and overrides into `decide`, runs the contact attempts the plan calls for as
activities, and appends every event to the event store. It continues as new after each
statement date, so no run's history grows without bound, carrying its state.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.event_store import CONFLICT_FAILURE, AppendEvents
    from domain.case import decide
    from domain.commands import AdvanceTime, Command, MoveArm, Override, ReceivePayment
    from domain.errors import check
    from domain.events import (
        ArmChanged,
        Event,
        LegalReferred,
        Placed,
        Recalled,
        StatementIssued,
    )
    from domain.evolve import evolve, fold
    from domain.loop import (
        Input,
        Move,
        RunCalendar,
        Stop,
        TakeInput,
        WaitUntil,
        decide_scripted,
        next_attempt,
        next_move,
    )
    from domain.overrides import check_override
    from domain.policy import Policy
    from domain.simulation import event_json
    from domain.state import CaseState
    from workflows import case_calls as calls
    from workflows.case_io import (
        CaseInput,
        CaseResult,
        CaseView,
        NextAction,
        OverrideMemory,
        OverrideRequest,
        OverrideResult,
        PaymentSignal,
        RetryAppend,
        StoreConflict,
    )
    from workflows.case_views import (
        ARM,
        ATTENTION,
        attribute_updates,
        attribute_values,
        case_summary,
        next_action_of,
        refusals_as_rejections,
    )

Decider = Callable[[CaseState, Command, datetime, Policy], list[Event]]

#: Workflow patch: placement terms counted on the bank's calendar (2026-11-25).
TERMS_ON_THE_BANK_CALENDAR = "placement-terms-on-the-bank-calendar"
#: Workflow patch: inputs accepted before the case ended are applied before the run
#: returns (2026-12-04). Before, a payment queued behind the curing one was dropped.
DRAIN_BEFORE_END = "drain-inputs-before-the-run-ends"


def with_terms_counted_in_start_zone(policy: Policy) -> Policy:
    outsourcing = policy.outsourcing.model_copy(update={"term_calendar": "start_zone"})
    return policy.model_copy(update={"outsourcing": outsourcing})


#: A wake-up this close (business time) is due now: timers fire a hair early or late.
DUE_TOLERANCE = timedelta(seconds=1)


@workflow.defn(name="Case")
class CaseWorkflow:
    @workflow.init
    def __init__(self, input: CaseInput) -> None:
        self._input = input
        self._case_id = input.case_id
        self._policy = input.policy
        if not workflow.patched(TERMS_ON_THE_BANK_CALENDAR):
            # A run recorded before placement terms were counted on the bank's calendar
            # replays with the count it ran with (`OutsourcingPolicy.term_calendar`).
            # Asked here, before any handler decides; a new run gets the rule, and the
            # policy it carries on is the input's, untouched.
            self._policy = with_terms_counted_in_start_zone(input.policy)
        # The clock is fixed here, not in `run`: an update can arrive in the very first
        # activation (with the start), and its validator needs business time.
        self._clock = input.clock
        if self._clock.started is None:
            start = workflow.now()
            self._clock = self._clock.model_copy(
                update={"started": start, "origin": self._clock.origin or start}
            )
        self._state = input.state or CaseState()
        self._pending: list[Input] = list(input.pending)
        self._overrides = OverrideMemory(input.overrides_done)
        self._conflict: StoreConflict | None = None
        self._script: list[Input] = list(input.script)
        self._lock = asyncio.Lock()
        self._statement_passed = False
        self._attributes: tuple[Any, ...] | None = None

    # --- time --------------------------------------------------------------------------

    def _business_now(self) -> Any:
        now = self._clock.business(workflow.now())
        return max(now, self._state.as_of) if self._state.as_of else now

    # --- the loop ----------------------------------------------------------------------

    @workflow.run
    async def run(self, input: CaseInput) -> CaseResult:
        if input.after_close:
            # Records what came in and ends: it never runs the case's steps, so a case
            # whose workflow an operator terminated gets its payment, not a restart.
            await self._load_recorded_case()
            await self._finish()
            return self._result()
        if not self._state.opened:
            assert input.open is not None, "the first run needs the placement to open the case"
            async with self._lock:
                await self._apply(input.open, self._clock.business(workflow.now()))
        while not self._state.closed:
            move = await self._step()
            if isinstance(move, Stop):
                break
            if isinstance(move, WaitUntil):
                if self._time_to_roll_over():
                    await self._continue_as_new()
                await self._wait(move.at)
            # A case catching up after an outage has work due for a long time: it must
            # still roll over, or one run's history would grow without bound.
            elif workflow.patched("continue-as-new-while-busy") and self._time_to_roll_over():
                await self._continue_as_new()
        await self._finish()
        return self._result()

    def _result(self) -> CaseResult:
        return CaseResult(
            case_id=self._case_id, outcome=self._state.outcome or "open", last_seq=self._state.seq
        )

    async def _finish(self) -> None:
        """Record every input accepted before the run ends: a payment that arrived while
        the curing one was applied is money received (on an ended case it is held as
        unapplied credit). Then let running handlers finish, and look again: a signal
        may have come in meanwhile."""
        while True:
            if self._pending and self._drains():
                async with self._lock:
                    while self._pending:
                        await self._apply(self._pending.pop(0).command, self._business_now())
            await workflow.wait_condition(workflow.all_handlers_finished)
            if not (self._pending and self._drains()):
                return

    def _drains(self) -> bool:
        """Runs recorded before the patch ended with inputs still queued; replays keep that."""
        return self._input.after_close or workflow.patched(DRAIN_BEFORE_END)

    async def _load_recorded_case(self) -> None:
        """A run for an input to an ended case starts from its recorded events."""
        events = await calls.load_events(self._case_id)
        if not events:
            raise ApplicationError(
                f"{self._case_id} has no recorded events to continue from",
                type="NoSuchCase",
                non_retryable=True,
            )
        self._state = fold(events)
        other = self._input.other_arm
        if other is not None and self._state.policy == other.name:
            # A case of the other arm (opened in it, or moved there): its late payment is
            # decided under its own profile, not the one the sender configured first.
            self._follow_other_arm()

    async def _step(self) -> Move:
        """Carry out the case loop's next move (`domain.loop.next_move`) if it is an input
        or a wake-up; a wait or the end is the caller's to carry out."""
        async with self._lock:
            move = next_move(
                self._state,
                self._policy,
                self._business_now(),
                self._script,
                queued=bool(self._pending),
                until=self._input.until,
                tolerance=DUE_TOLERANCE,
            )
            if isinstance(move, TakeInput):
                if move.scripted:
                    await self._apply(self._script.pop(0).command, move.at, decide_scripted)
                else:
                    await self._apply(self._pending.pop(0).command, move.at)
            elif isinstance(move, RunCalendar):
                await self._wake(move.at)
            return move

    def _time_to_roll_over(self) -> bool:
        """After a statement date (about monthly) or when the server suggests it."""
        return self._statement_passed or workflow.info().is_continue_as_new_suggested()

    async def _continue_as_new(self) -> None:
        """Carry the state, the clock and any payments not yet applied into a new run."""
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(self._carry())

    async def _wait(self, until: datetime | None) -> None:
        """Sleep until the next step is due (`until`, business time), or an input comes."""
        timeout = None
        if until is not None:
            timeout = max(
                self._clock.real_delay(self._business_now(), until), timedelta(milliseconds=1)
            )
        seen = self._state.seq
        with contextlib.suppress(TimeoutError):
            # An override applied meanwhile changes the plan: wake up and look again. One
            # that closed the case while `_step` waited for the lock has already moved
            # `seq` past `seen`: the case is closed, so stop waiting for anything.
            await workflow.wait_condition(
                lambda: bool(self._pending) or self._state.seq != seen or self._state.closed,
                timeout=timeout,
            )

    async def _wake(self, at: datetime) -> None:
        """A wake-up: the calendar rules due at `at`, then each contact attempt
        `next_attempt` names, as an activity, its outcome recorded at `at` too."""
        await self._apply(AdvanceTime(), at)
        made = 0
        while (planned := next_attempt(self._state, at, made, self._policy)) is not None:
            report = await calls.attempt_contact(self._case_id, self._state.seq + 1, planned)
            await self._apply(report, at)
            made += 1

    async def _apply(
        self, command: Command, at: Any, decider: Decider = decide, policy: Policy | None = None
    ) -> list[Event]:
        events = decider(self._state, command, at, policy or self._policy)
        if not events:
            return events
        for event in events:
            self._state = evolve(self._state, event)
        if any(isinstance(e, ArmChanged) for e in events):
            self._follow_other_arm()
        self._statement_passed |= any(isinstance(e, StatementIssued) for e in events)
        await self._append(
            AppendEvents(
                case_id=self._case_id,
                events=events,
                summary=case_summary(self._state, self._policy),
            )
        )
        for event in events:
            if isinstance(event, Placed | Recalled | LegalReferred):
                await calls.notify_partner(self._case_id, event)
        self._publish_search_attributes()
        return events

    def _follow_other_arm(self) -> None:
        """After `move_arm` (or loading a recorded case of the other arm): the case
        follows the other arm's profile from now on, and keeps its own as the other (a
        move back is another recorded move)."""
        other = self._input.other_arm
        assert other is not None, "the validator refuses a move without another arm"
        self._input = self._input.model_copy(
            update={"policy": other, "other_arm": self._input.policy}
        )
        self._policy = other
        if self._input.search_attributes:
            workflow.upsert_search_attributes([ARM.value_set(self._state.arm)])

    async def _apply_override(self, override: Override) -> list[Event]:
        now = self._business_now()
        if not isinstance(override, MoveArm):
            return await self._apply(override, now)
        # Rules due by now run under the profile followed until now; the move itself is
        # decided with the profile moved to, which `arm_changed` names.
        caught_up = await self._apply(AdvanceTime(), now)
        return caught_up + await self._apply(override, now, policy=self._input.other_arm)

    def _publish_search_attributes(self) -> None:
        values = attribute_values(self._state, self._policy)
        if values == self._attributes or not self._input.search_attributes:
            return
        self._attributes = values
        workflow.upsert_search_attributes(attribute_updates(values))

    async def _append(self, request: AppendEvents) -> None:
        """Append to the event store. A conflict (the store holds other events under these
        seqs) is not retried: the case stops, says so (query `state`, search attribute
        `ArrearsAttention`, an error log line) and waits until a supervisor has the store
        looked at and sends `retry_append`. Payments meanwhile wait in `_pending`."""
        while True:
            try:
                await calls.append_events(request)
                return
            except ActivityError as err:
                cause = err.cause
                if not (isinstance(cause, ApplicationError) and cause.type == CONFLICT_FAILURE):
                    raise
                self._conflict = StoreConflict(
                    at=workflow.now(), seqs=[e.seq for e in request.events], message=cause.message
                )
            workflow.logger.error(
                "event store conflict: the case waits for a supervisor",
                extra={"case_id": self._case_id, "seqs": self._conflict.seqs},
            )
            self._flag_attention("store_conflict")
            await workflow.wait_condition(lambda: self._conflict is None)
            self._flag_attention(None)

    def _flag_attention(self, why: str | None) -> None:
        if self._input.search_attributes:
            workflow.upsert_search_attributes(
                [ATTENTION.value_set(why) if why else ATTENTION.value_unset()]
            )

    def _carry(self) -> CaseInput:
        return self._input.model_copy(
            update={
                "clock": self._clock,
                "open": None,
                "state": self._state,
                "pending": self._pending,
                "script": self._script,
                "overrides_done": self._overrides.carried(),
                "runs": self._input.runs + 1,
            }
        )

    # --- read models for Temporal: search attributes and queries -------------------------

    @workflow.query(name="state")
    def view(self) -> CaseView:
        return CaseView(
            case_id=self._case_id,
            business_now=self._business_now(),
            state=self._state,
            next_action=self.next_action(),
            conflict=self._conflict,
        )

    @workflow.query(name="next_action")
    def next_action(self) -> NextAction:
        return next_action_of(self._state, self._policy)

    # --- messages ----------------------------------------------------------------------

    @workflow.signal(name="payment")
    def payment(self, payment: PaymentSignal) -> None:
        """From the payments feed; one reference is one payment, however often it comes."""
        known = set(self._state.payment_references) | {
            i.command.reference for i in self._pending if isinstance(i.command, ReceivePayment)
        }
        if payment.reference in known:
            workflow.logger.info("duplicate payment ignored", extra={"case_id": self._case_id})
            return
        command = ReceivePayment(
            reference=payment.reference, amount=payment.amount, paid_on=payment.paid_on
        )
        self._pending.append(Input(at=self._business_now(), command=command))

    @workflow.update(name="override")
    async def override(self, request: OverrideRequest) -> OverrideResult:
        # An update that came with the start waits for the case to open first.
        await workflow.wait_condition(lambda: self._state.opened)
        async with self._lock:
            # Looked up under the lock: the same id sent twice at once waits here for the
            # first to finish, then gets its answer.
            if (done := self._overrides.answer(request)) is not None:
                return done
            with refusals_as_rejections():
                events = await self._apply_override(request.override)
            result = OverrideResult(
                events=[event_json(e, self._policy.cycle.bank_timezone) for e in events]
            )
            self._overrides.remember(request, result)
        return result

    @override.validator
    def validate_override(self, request: OverrideRequest) -> None:
        """Rejects an invalid override before anything reaches history: the domain checks
        run against the state as of now (calendar rules due by now applied in a dry run).
        An id already applied passes: the handler answers it with the first result."""
        if self._overrides.answer(request) is not None:
            return
        now = self._business_now()
        with refusals_as_rejections():
            check(
                self._conflict is None,
                "store_conflict",
                "the case is stopped on an event store conflict and waits for a supervisor",
            )
            state = self._state
            if not state.opened and self._input.open is not None:
                state = fold(decide(state, self._input.open, now, self._policy), state)
            caught_up = fold(decide(state, AdvanceTime(), now, self._policy), state)
            check_override(caught_up, request.override, now, self._policy)
            check(
                not isinstance(request.override, MoveArm) or self._input.other_arm is not None,
                "no_other_arm",
                "the case is in no champion / challenger test: there is no other arm",
            )

    @workflow.update(name="retry_append")
    async def retry_append(self, request: RetryAppend) -> None:
        """A supervisor had the store looked at: the stopped append is tried again (and
        stops the case again if the conflict is still there)."""
        workflow.logger.info(
            "retrying the append after a conflict",
            extra={"case_id": self._case_id, "actor": request.actor.id},
        )
        self._conflict = None

    @retry_append.validator
    def validate_retry_append(self, request: RetryAppend) -> None:
        with refusals_as_rejections():
            check(
                self._conflict is not None, "no_conflict", "the case is not stopped on a conflict"
            )
            check(
                request.actor.role in ("supervisor", "manager"),
                "retry_authority",
                "only a supervisor or a manager may restart a case stopped on a conflict",
                role=request.actor.role,
            )
