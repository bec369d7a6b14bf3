"""The case page on the real stack: a Temporal dev server, a worker in this process writing
the real event store, and the console over the same fresh PostgreSQL database.

Cases start on a business clock at 10:00 bank time on 2026-03-02 running at 24x real
time: after the contact attempt made when a case opens nothing is due before 08:00 the
next business day, so a case changes only when a test changes it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from activities.contact import SimulatedProvider
from arrears.cases.override import send_override
from arrears.settings import Settings
from arrears.store.events import EventStore
from arrears.workers import case_activities
from domain.commands import MoveArm
from domain.events import Actor
from domain.intake import open_case
from domain.localtime import zone
from domain.placement import personal_fields
from domain.policy import Policy
from tests.arrears.console.conftest import Console, csrf_token, user_id
from tests.stored_cases import keep_placement
from tests.support import free_port, wait_until
from tests.workflows.conftest import row
from workflows.case import CaseWorkflow
from workflows.case_io import BusinessClock, CaseInput, CaseView

pytestmark = pytest.mark.integration

ORIGIN = datetime(2026, 3, 2, 10, 0, tzinfo=zone("Asia/Shanghai"))
DAY_SECONDS = 3600.0
DEBTOR_NAME = "Zhang Sanfeng"
MOBILE = "+8613912345678"


@pytest.fixture
async def stack(temporal: Client, console: Console, pool: asyncpg.Pool) -> AsyncIterator[str]:
    """A worker on a task queue of this test's own, writing this test's database; the
    console's Temporal client is the dev server's. Yields the task queue."""
    queue = f"console-{uuid.uuid4().hex[:8]}"
    console.services.client = temporal
    activities = case_activities(EventStore(pool), SimulatedProvider())
    async with Worker(temporal, task_queue=queue, workflows=[CaseWorkflow], activities=activities):
        yield queue


@pytest.fixture
async def case_id(stack: str, temporal: Client, pool: asyncpg.Pool) -> str:
    """An open case of this test's own, settled."""
    return await start_case(temporal, pool, stack)


async def view(client: Client, case_id: str) -> CaseView:
    found: CaseView = await client.get_workflow_handle(case_id).query("state", result_type=CaseView)
    return found


async def start_case(
    client: Client, pool: asyncpg.Pool, queue: str, other_arm: Policy | None = None
) -> str:
    """A placed M0 case (`tests.workflows.conftest.row`; its placement record kept as the
    importer keeps it), opened and settled with the event store caught up; with
    `other_arm`, a champion case of a champion / challenger test."""
    placement = row(account_id=f"CP{uuid.uuid4().hex[:10]}", debtor_name=DEBTOR_NAME, mobile=MOBILE)
    data = placement.model_dump(mode="json")
    await keep_placement(
        pool, placement.case_id, placement.account_id,
        {k: v for k, v in data.items() if k in personal_fields},
        {k: v for k, v in data.items() if k not in personal_fields},
        source_file="test", source_line=1,
    )  # fmt: skip
    case_input = CaseInput(
        case_id=placement.case_id,
        policy=Policy(),
        clock=BusinessClock(origin=ORIGIN, day_seconds=DAY_SECONDS),
        open=open_case(placement),
        other_arm=other_arm,
    )
    await client.start_workflow(
        CaseWorkflow.run, case_input, id=placement.case_id, task_queue=queue
    )
    await wait_until(lambda: settled(client, pool, placement.case_id), "the case to open")
    return placement.case_id


async def settled(client: Client, pool: asyncpg.Pool, case_id: str) -> bool:
    """Opened, nothing due for the next business hour, and the event store caught up."""
    found = await view(client, case_id)
    at = found.next_action.at
    if not found.state.opened or (at is not None and at < found.business_now + timedelta(hours=1)):
        return False
    stored = await pool.fetchval("SELECT last_seq FROM cases WHERE case_id = $1", case_id)
    return bool(stored == found.state.seq)


async def history(pool: asyncpg.Pool, case_id: str) -> list[tuple[int, str]]:
    rows = await pool.fetch(
        "SELECT seq, type FROM case_events WHERE case_id = $1 ORDER BY seq", case_id
    )
    return [(r["seq"], r["type"]) for r in rows]


def form_of(html: str, kind: str) -> dict[str, str]:
    """The hidden fields (csrf_token, request_id) of the override form for `kind`."""
    found = re.search(rf'data-kind="{kind}">(.*?)</form>', html, re.S)
    assert found, f"the page has no {kind} form"
    return dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', found.group(1)))


def refusal(response: httpx.Response) -> str:
    """The reason shown for an override that was not applied (422)."""
    assert response.status_code == 422, response.text
    error = re.search(r'data-testid="override-error">([^<]*)<', response.text)
    assert error, "no reason shown"
    return error.group(1)


def kinds_offered(html: str) -> set[str]:
    return set(re.findall(r'data-kind="(\w+)"', html))


async def give(client: httpx.AsyncClient, case_id: str, kind: str, **fields: str) -> httpx.Response:
    page = await client.get(f"/cases/{case_id}")
    return await client.post(
        f"/cases/{case_id}/overrides/{kind}", data={**form_of(page.text, kind), **fields}
    )


async def in_english(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """The viewer's own choice of English (the cn-card profile defaults to Chinese)."""
    page = await client.get("/cases/none")
    await client.post("/language", data={"language": "en", "csrf_token": csrf_token(page.text)})
    return client


# --- overrides -----------------------------------------------------------------------------


async def test_a_supervisors_installment_plan_is_applied_once_and_the_page_shows_its_events(
    console: Console, case_id: str, temporal: Client, pool: asyncpg.Pool
) -> None:
    supervisor = await in_english(await console.signed_in("supervisor"))
    page = await supervisor.get(f"/cases/{case_id}")
    fields = {
        **form_of(page.text, "installment_plan"),
        "installments": "6",
        "first_due": "2026-03-20",
        "reason": "agreed on the phone",
    }
    response = await supervisor.post(f"/cases/{case_id}/overrides/installment_plan", data=fields)
    again = await supervisor.post(f"/cases/{case_id}/overrides/installment_plan", data=fields)

    assert response.status_code == 200, response.text
    applied = re.search(r'data-testid="applied".*?</section>', response.text, re.S)
    assert applied and "override_applied" in applied.group(0)
    assert "plan_agreed" in applied.group(0)
    assert again.status_code == 200  # the same request id: answered, not applied twice
    state = (await view(temporal, case_id)).state
    assert state.plan is not None and state.plan.installments == 6
    await wait_until(lambda: settled(temporal, pool, case_id), "the store to catch up")
    types = [t for _, t in await history(pool, case_id)]
    assert types.count("plan_agreed") == 1
    shown = await supervisor.get(f"/cases/{case_id}")
    timeline = re.search(r'data-testid="timeline".*?</section>', shown.text, re.S)
    assert timeline and "plan_agreed" in timeline.group(0)
    assert 'data-testid="plan"' in shown.text
    log = await pool.fetchrow("SELECT actor_id, role FROM overrides WHERE case_id = $1", case_id)
    assert log is not None and (log["actor_id"], log["role"]) == ("t-supervisor", "supervisor")


async def test_a_collectors_settlement_beyond_authority_shows_the_reason_and_changes_nothing(
    console: Console, case_id: str, temporal: Client, pool: asyncpg.Pool
) -> None:
    before = await history(pool, case_id)
    collector = await console.signed_in("collector")
    response = await give(collector, case_id, "settlement", amount="5000.00", reason="asked")

    assert "rejected: waiver_limit" in refusal(response)
    assert (await view(temporal, case_id)).state.settlement is None
    assert await history(pool, case_id) == before


async def test_an_override_kind_the_role_may_not_give_is_not_offered_and_refused_if_posted(
    console: Console, case_id: str, temporal: Client, pool: asyncpg.Pool
) -> None:
    before = await history(pool, case_id)
    collector = await console.signed_in("collector")
    page = await collector.get(f"/cases/{case_id}")
    offered = kinds_offered(page.text)
    # the policy's collector kinds (POLICY §6), and none of a supervisor's
    assert offered == {"promise_to_pay", "waiver", "settlement", "cease_contact", "dispute_open"}
    supervisors = await (await console.signed_in("supervisor")).get(f"/cases/{case_id}")
    hidden = form_of(supervisors.text, "installment_plan")
    hidden["csrf_token"] = csrf_token(page.text)  # the collector's own session token
    response = await collector.post(
        f"/cases/{case_id}/overrides/installment_plan",
        data={**hidden, "installments": "6", "first_due": "2026-03-20", "reason": "tried"},
    )

    assert "rejected: authority" in refusal(response)
    assert (await view(temporal, case_id)).state.plan is None
    assert await history(pool, case_id) == before


async def test_auditors_get_no_override_forms_and_their_posts_are_refused(
    console: Console, case_id: str, temporal: Client, pool: asyncpg.Pool
) -> None:
    before = await history(pool, case_id)
    auditor = await console.signed_in("auditor")
    page = await auditor.get(f"/cases/{case_id}")
    response = await auditor.post(
        f"/cases/{case_id}/overrides/cease_contact",
        data={"csrf_token": csrf_token(page.text), "request_id": "r-1", "reason": "no"},
    )

    assert kinds_offered(page.text) == set()
    assert response.status_code == 403
    assert await history(pool, case_id) == before


async def test_an_override_without_the_csrf_token_is_refused_and_changes_nothing(
    console: Console, case_id: str, temporal: Client, pool: asyncpg.Pool
) -> None:
    before = await history(pool, case_id)
    supervisor = await console.signed_in("supervisor")
    page = await supervisor.get(f"/cases/{case_id}")
    fields = form_of(page.text, "pause")
    del fields["csrf_token"]
    response = await supervisor.post(
        f"/cases/{case_id}/overrides/pause",
        data={**fields, "until": "2026-03-10", "reason": "hospital"},
    )

    assert response.status_code == 403
    assert "pause" not in (await view(temporal, case_id)).state.holds
    assert await history(pool, case_id) == before


# --- personal data -------------------------------------------------------------------------


async def test_an_auditor_sees_masked_contact_data_and_every_view_is_logged(
    console: Console, case_id: str, temporal: Client, pool: asyncpg.Pool
) -> None:
    auditor = await console.signed_in("auditor")
    supervisor = await console.signed_in("supervisor")
    masked = await auditor.get(f"/cases/{case_id}")
    whole = await supervisor.get(f"/cases/{case_id}")

    assert "+*********5678" in masked.text and "Z***" in masked.text
    assert MOBILE not in masked.text and DEBTOR_NAME not in masked.text
    assert MOBILE in whole.text and DEBTOR_NAME in whole.text
    assert await access_log(pool, case_id) == [
        ("t-auditor", "auditor", "contact data (masked)"),
        ("t-supervisor", "supervisor", "contact data"),
    ]


async def access_log(pool: asyncpg.Pool, case_id: str) -> list[tuple[str, str, str]]:
    """Who was shown what of the case, oldest first, from the access log's table."""
    rows = await pool.fetch(
        "SELECT user_id, role, what FROM personal_data_views WHERE case_id = $1 ORDER BY id",
        case_id,
    )
    return [(r["user_id"], r["role"], r["what"]) for r in rows]


# --- the audit -----------------------------------------------------------------------------


async def test_an_auditor_audits_the_case_and_sees_it_clean(
    console: Console, case_id: str, temporal: Client, pool: asyncpg.Pool
) -> None:
    auditor = await in_english(await console.signed_in("auditor"))
    collector = await console.signed_in("collector")
    page = await auditor.get(f"/cases/{case_id}")
    response = await auditor.post(
        f"/cases/{case_id}/audit", data={"csrf_token": csrf_token(page.text)}
    )
    refused = await collector.post(
        f"/cases/{case_id}/audit",
        data={"csrf_token": csrf_token((await collector.get(f"/cases/{case_id}")).text)},
    )

    assert response.status_code == 200
    result = re.search(r'data-testid="audit-result".*?</section>', response.text, re.S)
    assert result and "Clean: the histories replay" in result.group(0)
    assert refused.status_code == 403


# --- the page without a workflow, paging, language ------------------------------------------


async def store_events(pool: asyncpg.Pool, case_id: str, count: int) -> None:
    """`count` contact attempts in the event store and the `cases` projection of a case
    whose workflow Temporal does not have (one hour apart from 2026-03-02 00:00 UTC)."""
    for seq in range(1, count + 1):
        at = datetime(2026, 3, 2, tzinfo=UTC) + timedelta(hours=seq)
        payload: dict[str, Any] = {"seq": seq, "type": "contact_attempted", "channel": "sms"}
        await pool.execute(
            "INSERT INTO case_events (case_id, seq, type, at, payload, prev_hash, hash)"
            " VALUES ($1, $2, 'contact_attempted', $3, $4, 'p', 'h')",
            case_id, seq, at, payload,
        )  # fmt: skip
    await pool.execute(
        "INSERT INTO cases (case_id, account_id, policy, stage, bucket, dpd, principal,"
        " interest, fees, balance, last_seq, opened_at, updated_at) VALUES ($1, 'PAGED',"
        " 'cn-card', 'letter', 'M2', 45, 900, 20, 5, 925, $2, now(), now())",
        case_id, count,
    )  # fmt: skip


def seqs_shown(html: str) -> list[int]:
    return [int(s) for s in re.findall(r'data-seq="(\d+)">', html)]


async def test_the_timeline_is_newest_first_and_paged_from_postgresql_when_temporal_has_no_case(
    console: Console, stack: str, pool: asyncpg.Pool
) -> None:
    await store_events(pool, "case-PAGED-1", 45)
    collector = await in_english(await console.signed_in("collector"))
    first = await collector.get("/cases/case-PAGED-1")
    third = await collector.get("/cases/case-PAGED-1", params={"page": 3})

    assert first.status_code == 200
    assert seqs_shown(first.text) == list(range(45, 25, -1))
    assert seqs_shown(third.text) == [5, 4, 3, 2, 1]
    assert "Temporal no longer has this case" in first.text
    assert 'data-testid="stage">letter<' in first.text
    # seq 1 at 01:00 UTC is 09:00 in the bank's zone (Asia/Shanghai)
    assert re.search(r'data-seq="1">.*?9:00:00', third.text, re.S)


async def test_an_unknown_case_is_not_found(console: Console, stack: str) -> None:
    collector = await console.signed_in("collector")
    assert (await collector.get("/cases/case-NOBODY")).status_code == 404
    assert (await collector.get("/cases/not a case")).status_code == 404


async def test_the_case_page_is_in_chinese_for_the_cn_card_profile(
    console: Console, case_id: str, temporal: Client, pool: asyncpg.Pool
) -> None:
    supervisor = await console.signed_in("supervisor")
    page = await supervisor.get(f"/cases/{case_id}")

    assert page.status_code == 200
    for label in ("案件现状", "阶段", "本金", "时间线", "联系记录", "分期计划"):
        assert label in page.text
    assert "¥9,240.00" in page.text
    assert "Where it stands" not in page.text


async def test_the_page_shows_the_profile_and_arm_the_case_follows_also_after_a_move(
    console: Console, stack: str, temporal: Client, pool: asyncpg.Pool
) -> None:
    case_id = await start_case(temporal, pool, stack, other_arm=Policy(name="cn-card-b"))
    supervisor = await in_english(await console.signed_in("supervisor"))
    before = await supervisor.get(f"/cases/{case_id}")
    move = MoveArm(actor=Actor(id=user_id("supervisor"), role="supervisor"), reason="test",
                   arm="challenger")  # fmt: skip
    await send_override(temporal, case_id, move)
    after = await supervisor.get(f"/cases/{case_id}")
    await supervisor.post("/language", data={"language": "zh_CN",
                                             "csrf_token": csrf_token(after.text)})  # fmt: skip
    in_chinese = await supervisor.get(f"/cases/{case_id}")

    assert 'data-testid="arm">cn-card / champion<' in before.text
    assert 'data-testid="arm">cn-card-b / challenger<' in after.text
    assert 'data-testid="arm">cn-card-b / 挑战组<' in in_chinese.text


async def test_a_case_shown_from_postgresql_shows_its_projected_profile_and_arm(
    console: Console, pool: asyncpg.Pool
) -> None:
    console.services.settings = Settings(temporal_port=free_port())  # nothing listens there
    await store_events(pool, "case-PAGED-1", 3)
    await pool.execute(
        "UPDATE cases SET arm = 'challenger', policy = 'cn-card-b' WHERE case_id = $1",
        "case-PAGED-1",
    )
    collector = await in_english(await console.signed_in("collector"))
    page = await collector.get("/cases/case-PAGED-1")

    assert 'data-testid="arm">cn-card-b / challenger<' in page.text


async def test_a_closed_case_shows_its_last_state_with_a_note(
    console: Console, case_id: str, temporal: Client
) -> None:
    manager = await in_english(await console.signed_in("manager"))
    closed = await give(manager, case_id, "close", outcome="written_off", reason="uncollectable")
    await temporal.get_workflow_handle(case_id).result()
    shown = await manager.get(f"/cases/{case_id}")

    assert closed.status_code == 200 and "case_closed" in closed.text
    assert "workflow has ended: this is its last state" in shown.text
    assert kinds_offered(shown.text) == set()  # a closed case takes no override
    assert re.search(r"<dt>Outcome</dt><dd>written_off</dd>", shown.text)


async def test_without_temporal_the_page_shows_postgresqls_copy_and_overrides_are_unavailable(
    console: Console, pool: asyncpg.Pool
) -> None:
    console.services.settings = Settings(temporal_port=free_port())  # nothing listens there
    await store_events(pool, "case-PAGED-1", 3)
    collector = await in_english(await console.signed_in("collector"))
    page = await collector.get("/cases/case-PAGED-1")
    response = await collector.post(
        "/cases/case-PAGED-1/overrides/cease_contact",
        data={**form_of(page.text, "cease_contact"), "reason": "asked to stop"},
    )

    assert page.status_code == 200
    assert "Temporal cannot be reached" in page.text
    assert seqs_shown(page.text) == [3, 2, 1]
    assert response.status_code == 503
    assert [seq for seq, _ in await history(pool, "case-PAGED-1")] == [1, 2, 3]


async def test_the_contact_attempts_show_channel_target_outcome_and_the_debtors_local_time(
    console: Console, case_id: str, pool: asyncpg.Pool
) -> None:
    attempts = await pool.fetch(
        "SELECT channel, target, outcome FROM contact_attempts WHERE case_id = $1"
        " ORDER BY seq DESC",
        case_id,
    )
    collector = await in_english(await console.signed_in("collector"))
    page = await collector.get(f"/cases/{case_id}")
    shown = re.search(r'data-testid="contacts".*?</section>', page.text, re.S)

    assert attempts and shown
    rows = re.findall(r"<tr><td>(.*?)</td><td>(\w+)</td><td>(\w+).*?</td><td>(\w+)</td>",
                      shown.group(0), re.S)  # fmt: skip
    assert [(r[1], r[2], r[3]) for r in rows] == [
        (a["channel"], a["target"], a["outcome"]) for a in attempts
    ]
    # opened at 10:00 in Shanghai, the debtor's zone too: the same clock time both ways
    assert all("debtor's time 2026-03-02 10:" in r[0] for r in rows)
