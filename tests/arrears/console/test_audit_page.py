"""The Audit page: overrides across cases, filtered, paged and exported; the access log."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from arrears.people.access_log import record_view
from arrears.people.users import get_user
from domain.events import Actor, OverrideApplied, OverrideRejected
from tests.arrears.console.conftest import Console, user_id
from tests.book_cases import NOW, Story, store_all

SUPERVISOR = Actor(id="s-7", role="supervisor")
COLLECTOR = Actor(id="c-3", role="collector")


def _table(html: str, testid: str) -> str:
    """One table of the page (the filter form lists every kind, so look only here)."""
    start = html.index(f'data-testid="{testid}"')
    return html[start : html.index("</table>", start)]


async def _book(console: Console) -> None:
    """Three overrides on two cases, on two bank days (Shanghai = UTC+8)."""
    first = Story("A-1").then(
        OverrideApplied, NOW - timedelta(days=2), override="pause", actor=SUPERVISOR,
        reason="customer in hospital", args={},
    )  # fmt: skip
    second = (
        Story("A-2")
        .then(OverrideRejected, NOW - timedelta(days=1), override="settlement", actor=COLLECTOR,
              reason="=HYPERLINK(\"x\")", rule="authority", message="a collector may not")
        .then(OverrideApplied, NOW, override="promise_to_pay", actor=SUPERVISOR,
              reason="will pay friday", args={"amount": "100.00"})
    )  # fmt: skip
    await store_all(console.services.pool, first, second)


async def test_auditors_and_managers_see_every_override_and_may_filter_by_actor_and_kind(
    console: Console,
) -> None:
    await _book(console)
    client = await console.signed_in("auditor")
    everything = await client.get("/audit")
    assert everything.status_code == 200
    assert _table(everything.text, "override-log").count("<tr>") == 1 + 3  # header + rows
    by_actor = _table((await client.get("/audit", params={"actor": "c-3"})).text, "override-log")
    assert "settlement" in by_actor and "promise_to_pay" not in by_actor
    by_kind = _table((await client.get("/audit", params={"kind": "pause"})).text, "override-log")
    assert "customer in hospital" in by_kind and "will pay friday" not in by_kind


async def test_the_date_filter_takes_whole_days_in_the_banks_zone(console: Console) -> None:
    await _book(console)
    client = await console.signed_in("manager")
    today = (NOW + timedelta(hours=8)).date()  # the bank's day (Asia/Shanghai)
    page = await client.get("/audit", params={"since": str(today), "until": str(today)})
    shown = _table(page.text, "override-log")
    assert "will pay friday" in shown and "customer in hospital" not in shown


async def test_a_bad_filter_is_named_on_the_page(console: Console) -> None:
    client = await console.signed_in("auditor")
    page = await client.get("/audit", params={"since": "yesterday"})
    assert page.status_code == 200 and "YYYY-MM-DD" in page.text


async def test_the_export_is_csv_of_the_filtered_overrides_and_defuses_formulas(
    console: Console,
) -> None:
    await _book(console)
    client = await console.signed_in("auditor")
    response = await client.get("/audit/overrides.csv", params={"actor": "c-3"})
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(r["case_id"], r["kind"], r["applied"]) for r in rows] == [
        ("case-A-2", "settlement", "false")
    ]
    assert rows[0]["reason"].startswith("'=")  # a spreadsheet shows it, never runs it


async def test_every_view_of_personal_data_is_on_the_access_log(console: Console) -> None:
    async with console.services.pool.acquire() as conn:
        viewer = await get_user(conn, user_id("collector"))
        assert viewer is not None
        await record_view(conn, viewer, "case-A-9", "contact data", console.clock())
    client = await console.signed_in("auditor")
    page = await client.get("/audit")
    log = _table(page.text, "access-log")
    assert "case-A-9" in log and user_id("collector") in log
    export = await client.get("/audit/views.csv")
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert [(r["user_id"], r["case_id"]) for r in rows] == [(user_id("collector"), "case-A-9")]


async def test_collectors_and_supervisors_may_not_open_the_audit_page_or_its_exports(
    console: Console,
) -> None:
    for role in ("collector", "supervisor"):
        client = await console.signed_in(role)
        for path in ("/audit", "/audit/overrides.csv", "/audit/views.csv"):
            assert (await client.get(path)).status_code == 403, (role, path)
