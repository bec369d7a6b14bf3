"""What the supervisors' commands (`override`, `payments`, `status`) share: naming a case,
and turning Temporal's errors into the exit codes of CONTRACTS.md section 3.

A case is named by its account id or by its workflow id (`case-<account_id>`); neither
carries personal data. A workflow that does not exist is "no such case" (exit 1), a
server that cannot be reached or a case that no worker answers is exit 3.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client, RPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from arrears.errors import ArrearsError, ServiceUnavailable, UsageError
from arrears.store.db import Conn, create_pool
from domain.placement import case_id_for, parse_case_id

CASE_PREFIX = "case-"
#: How long one call to the Temporal frontend may take before the command gives up.
RPC_TIMEOUT = timedelta(seconds=30)
#: A worker's long poll lasts about a minute: one not seen for longer has probably gone.
POLLER_FRESH = timedelta(seconds=90)


class NoSuchCase(ArrearsError):
    """The case has no workflow (exit code 1: the command ran and found a problem)."""

    def __init__(self, case_id: str) -> None:
        super().__init__(f"no such case: {case_id}")
        self.case_id = case_id


def resolve_case_id(case: str) -> str:
    """A case id as given (`case-<account_id>`, or `case-<account_id>.<n>` for a later
    delinquency episode), or the first episode's case id of an account id; exit 2 if
    neither. `latest_episode` turns an account id into its latest episode."""
    given = case.strip()
    try:
        if given.startswith(CASE_PREFIX):
            parse_case_id(given)
            return given
        return case_id_for(given)
    except ValueError as err:
        raise UsageError(f"CASE is neither an account id nor a case id: {err}") from None


async def latest_episode_in(conn: Conn, case: str, case_id: str) -> str:
    """The case a person means: an account id names its latest delinquency episode (the
    placement records say which); a case id names itself."""
    if case.strip().startswith(CASE_PREFIX):
        return case_id
    latest = await conn.fetchval(
        "SELECT case_id FROM placement_records WHERE account_id = $1 ORDER BY episode DESC LIMIT 1",
        parse_case_id(case_id)[0],
    )
    return str(latest) if latest is not None else case_id


async def latest_episode(case: str, case_id: str, db_url: str) -> str:
    """`latest_episode_in` for a command that has no pool of its own."""
    if case.strip().startswith(CASE_PREFIX):
        return case_id
    pool = await create_pool(db_url, max_size=1)
    try:
        async with pool.acquire() as conn:
            return await latest_episode_in(conn, case, case_id)
    finally:
        await pool.close()


def is_not_found(err: RPCError) -> bool:
    return err.status == RPCStatusCode.NOT_FOUND


def is_closed(err: RPCError) -> bool:
    """The server's answer to a signal or update sent to a workflow that has ended."""
    return is_not_found(err) and "already completed" in err.message


@contextmanager
def temporal_errors(case_id: str | None = None, address: str = "Temporal") -> Iterator[None]:
    """Map the RPC errors every command can meet: not found, unreachable, too slow."""
    try:
        yield
    except RPCTimeoutOrCancelledError:
        raise ServiceUnavailable(
            f"{address} did not answer within {RPC_TIMEOUT.seconds} s"
            + (f" for {case_id}: is a worker running (`arrears worker`)?" if case_id else "")
        ) from None
    except RPCError as err:
        if case_id is not None and is_not_found(err) and not is_closed(err):
            raise NoSuchCase(case_id) from None
        if "no poller seen" in err.message:
            raise ServiceUnavailable(
                f"no worker answered{f' for {case_id}' if case_id else ''}: {err.message}"
            ) from None
        if err.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            raise ServiceUnavailable(f"{address} is unreachable: {err.message}") from None
        raise ArrearsError(f"Temporal refused the request: {err.message}") from None


async def require_worker(client: Client, task_queue: str, consequence: str) -> None:
    """Exit 3 unless a worker has polled `task_queue` lately: a query or an update would
    otherwise wait for one, and an update left waiting is applied whenever one starts."""
    with temporal_errors():
        response = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=client.namespace,
                task_queue=TaskQueue(name=task_queue),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            ),
            timeout=RPC_TIMEOUT,
        )
    now = datetime.now(UTC)
    if not any(
        now - poller.last_access_time.ToDatetime().replace(tzinfo=UTC) < POLLER_FRESH
        for poller in response.pollers
    ):
        raise ServiceUnavailable(
            f"no worker polls task queue {task_queue!r}: start `arrears worker` ({consequence})"
        )
