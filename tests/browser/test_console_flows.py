"""The console in a browser, as the people who use it work: each flow in English and in
Simplified Chinese (the `person` fixture), against the real stack and `arrears console`.

Assertions look at what does not change with the language: data-testid attributes, form
field names (the CLI's option names), links to a case, the <html lang>, and the event
store itself. Each flow also saves screenshots of its pages for the README.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.async_api import Locator, Page, expect

from domain.localtime import local_date
from domain.policy import Policy
from tests.browser.conftest import SignIn, Site

pytestmark = [pytest.mark.browser, pytest.mark.integration]

#: The worklist of promises due today and broken (`/worklists/{name}`).
BROKEN_PROMISES = "promises_broken"


def override_form(page: Page, kind: str) -> Locator:
    """The case page's form for one override kind."""
    return page.get_by_test_id(f"override-{kind}")


def timeline_types(page: Page) -> Locator:
    """The event types on the case's timeline (newest first), as `data-event-type`."""
    return page.get_by_test_id("timeline").locator("[data-event-type]")


async def shown_event_types(page: Page) -> list[str]:
    rows = timeline_types(page)
    return [
        str(await rows.nth(i).get_attribute("data-event-type")) for i in range(await rows.count())
    ]


async def business_today_plus(site: Site, case_id: str, days: int) -> str:
    """A date `days` ahead of the case's own business day (its clock may run fast)."""
    view = await site.stack.view(case_id)
    today = local_date(view.business_now, Policy().cycle.bank_timezone)
    return (today + timedelta(days=days)).isoformat()


async def test_a_supervisor_works_a_broken_promise_into_an_installment_plan_and_signs_out(
    person: SignIn, site: Site
) -> None:
    supervisor = await person("supervisor")
    case_id = site.cases.broken_promise[supervisor.language]
    page = supervisor.page
    await expect(page).to_have_url(re.compile(r"/worklists$"))  # the supervisor's first screen
    await page.get_by_test_id(f"worklist-{BROKEN_PROMISES}").click()
    await expect(page).to_have_url(re.compile(rf"/worklists/{BROKEN_PROMISES}"))
    row = page.locator(f'a[href="/cases/{case_id}"]')
    await expect(row).to_be_visible()
    await supervisor.screenshot("worklist")
    await row.click()
    await expect(page).to_have_url(re.compile(rf"/cases/{case_id}$"))
    assert "promise_broken" in await shown_event_types(page)

    form = override_form(page, "installment_plan")
    await form.locator('[name="installments"]').fill("6")
    await form.locator('[name="first_due"]').fill(await business_today_plus(site, case_id, 14))
    await form.locator('[name="reason"]').fill("agreed on the phone after the broken promise")
    await form.locator('button[type="submit"]').click()

    caused = page.get_by_test_id("override-events")
    await expect(caused.locator('[data-event-type="plan_agreed"]')).to_be_visible()
    timeline = page.get_by_test_id("timeline")
    await expect(timeline.locator('[data-event-type="plan_agreed"]')).to_have_count(1)
    stored = await site.event_types(case_id)
    assert "plan_agreed" in stored and stored.count("override_applied") == 2  # promise, plan
    await supervisor.screenshot("case", chinese_too=True)

    await supervisor.sign_out()
    await supervisor.screenshot("sign-in")
    await supervisor.open(f"/cases/{case_id}")  # the session is over: back to sign-in
    await expect(page).to_have_url(re.compile(r"/login$"))


async def test_a_collector_asking_a_settlement_beyond_authority_sees_why_and_nothing_changes(
    person: SignIn, site: Site
) -> None:
    collector = await person("collector")
    case_id = site.cases.frozen
    before = await site.event_count(case_id)
    await collector.open(f"/cases/{case_id}")
    await expect(collector.page.get_by_test_id("contact-data")).to_contain_text(
        site.cases.frozen_mobile
    )  # staff see the debtor's number in full
    shown_before = await shown_event_types(collector.page)

    form = override_form(collector.page, "settlement")
    # A collector may waive nothing (POLICY §6): settling for half the balance waives half.
    await form.locator('[name="amount"]').fill(str(Decimal("6000.00")))
    await form.locator('[name="reason"]').fill("offered to settle for half")
    await form.locator('button[type="submit"]').click()

    refusal = collector.page.get_by_test_id("override-error")
    await expect(refusal).to_be_visible()
    await expect(refusal).to_have_attribute("data-rule", "waiver_limit")
    assert await shown_event_types(collector.page) == shown_before
    assert await site.event_count(case_id) == before
    await collector.screenshot("case-refused")


async def test_an_auditor_sees_masked_contact_data_and_audits_the_case(
    person: SignIn, site: Site
) -> None:
    auditor = await person("auditor")
    page = auditor.page
    await expect(page).to_have_url(re.compile(r"/audit$"))  # the auditor's first screen
    await expect(page.get_by_test_id("override-log")).to_be_visible()

    await auditor.open(f"/cases/{site.cases.frozen}")
    contact = page.get_by_test_id("contact-data")
    await expect(contact).to_be_visible()
    mobile = site.cases.frozen_mobile
    await expect(contact).to_contain_text(mobile[-4:])
    assert mobile not in await page.content()  # not on screen, not hidden in the markup
    for kind in ("settlement", "installment_plan", "promise_to_pay"):
        await expect(override_form(page, kind)).to_have_count(0)  # auditors give none

    await page.get_by_test_id("audit-case").click()
    result = page.get_by_test_id("audit-result")
    await expect(result).to_be_visible(timeout=60_000)
    await expect(result).to_have_attribute("data-ok", "true")

    await auditor.open("/audit")  # the auditor's own look at the case is on the record
    views = page.get_by_test_id("access-log").locator(f'a[href="/cases/{site.cases.frozen}"]')
    await expect(views.first).to_be_visible()
    await auditor.screenshot("audit")


async def test_a_manager_lands_on_the_book(person: SignIn, site: Site) -> None:
    manager = await person("manager")
    await expect(manager.page).to_have_url(re.compile(r"/book$"))
    await expect(manager.page.get_by_test_id("book")).to_be_visible()
    await manager.screenshot("book")
