"""The console in a browser, as the people who use it work: each flow in English and in
Simplified Chinese (the `person` fixture), against the real stack and `arrears console`.

Assertions look at what does not change with the language: data-testid attributes, form
field names (the CLI's option names), links to a case, the <html lang>, and the event
store itself. Each flow also saves screenshots of its pages for the README.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.async_api import Locator, Page, expect

from domain.localtime import local_date
from domain.policy import Policy
from tests.browser.conftest import SignIn, Site, user_id

pytestmark = [pytest.mark.browser, pytest.mark.integration]

#: The worklist of promises due today and broken (`/worklists/{name}`).
BROKEN_PROMISES = "promises_broken"


async def open_override_form(page: Page, kind: str) -> Locator:
    """The case page's form for one override kind, unfolded (each is a <details>)."""
    await page.locator(f"details#override-{kind} > summary").click()
    form = page.locator(f'form[data-kind="{kind}"]')
    await expect(form).to_be_visible()
    return form


def timeline_rows(page: Page) -> Locator:
    return page.get_by_test_id("timeline").locator("tr[data-seq]")


async def shown_timeline(page: Page) -> list[str]:
    """The timeline's rows on the page (seq and event type; newest first)."""
    rows = timeline_rows(page)
    shown = []
    for i in range(await rows.count()):
        row = rows.nth(i)
        shown.append(
            f"{await row.get_attribute('data-seq')} {await row.locator('td').nth(2).inner_text()}"
        )
    return shown


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
    row = page.get_by_test_id("worklist").locator(f'a[href="/cases/{case_id}"]')
    await expect(row).to_be_visible()
    await supervisor.screenshot("worklist")
    await row.click()
    await expect(page).to_have_url(re.compile(rf"/cases/{case_id}$"))

    form = await open_override_form(page, "installment_plan")
    await form.locator('[name="installments"]').fill("6")
    await form.locator('[name="first_due"]').fill(await business_today_plus(site, case_id, 14))
    await form.locator('[name="reason"]').fill("agreed on the phone after the broken promise")
    await form.locator('button[type="submit"]').click()

    await expect(page.get_by_test_id("applied")).to_contain_text("plan_agreed")
    agreed = timeline_rows(page).filter(
        has=page.locator("td", has_text=re.compile("^plan_agreed$"))
    )
    await expect(agreed).to_have_count(1)
    await expect(page.get_by_test_id("plan")).to_be_visible()
    given = page.get_by_test_id("override-log").locator("tr", has_text=user_id("supervisor"))
    await expect(given).to_have_count(1)  # the signed-in person is the actor
    assert (await site.event_types(case_id)).count("plan_agreed") == 1
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
    page = collector.page
    stored_before = await site.event_count(case_id)
    await collector.open(f"/cases/{case_id}")
    personal = page.get_by_test_id("personal")
    await expect(personal).to_contain_text(site.cases.frozen_mobile)  # staff see it whole
    timeline_before = await shown_timeline(page)
    assert timeline_before, "the case has events on its timeline"

    form = await open_override_form(page, "settlement")
    # A collector may waive nothing (POLICY §6): settling for half the balance waives half.
    await form.locator('[name="amount"]').fill("6000.00")
    await form.locator('[name="reason"]').fill("offered to settle for half")
    await form.locator('button[type="submit"]').click()

    refusal = page.locator('details#override-settlement [data-testid="override-error"]')
    await expect(refusal).to_contain_text("waiver_limit")
    await expect(page.get_by_test_id("applied")).to_have_count(0)
    assert await shown_timeline(page) == timeline_before
    assert await site.event_count(case_id) == stored_before
    await collector.screenshot("case-refused")


async def test_an_auditor_sees_masked_contact_data_and_audits_the_case(
    person: SignIn, site: Site
) -> None:
    auditor = await person("auditor")
    page = auditor.page
    await expect(page).to_have_url(re.compile(r"/audit$"))  # the auditor's first screen
    await expect(page.get_by_test_id("override-log")).to_be_visible()

    await auditor.open(f"/cases/{site.cases.frozen}")
    mobile = site.cases.frozen_mobile
    # All but the last four digits starred, and the number nowhere in the page's markup.
    await expect(page.get_by_test_id("personal")).to_contain_text("*******" + mobile[-4:])
    assert mobile not in await page.content()
    await expect(page.get_by_test_id("overrides-forms")).to_have_count(0)  # auditors give none

    await page.get_by_test_id("audit-case").click()
    result = page.get_by_test_id("audit-result")
    await expect(result).to_be_visible(timeout=60_000)
    await expect(result.locator(".error")).to_have_count(0)  # no findings

    await auditor.open("/audit")  # the auditor's own look at the case is on the record
    views = page.get_by_test_id("access-log").locator(f'a[href="/cases/{site.cases.frozen}"]')
    await expect(views.first).to_be_visible()
    await auditor.screenshot("audit")


async def test_a_manager_lands_on_the_book(person: SignIn, site: Site) -> None:
    manager = await person("manager")
    await expect(manager.page).to_have_url(re.compile(r"/book$"))
    await expect(manager.page.get_by_test_id("open-cases")).to_be_visible()
    await manager.screenshot("book")
    # The Book's reports of the last 12 months, drawn from the report runner.
    await manager.page.get_by_test_id("reports-link").click()
    await expect(manager.page.get_by_test_id("recovery").locator("svg")).to_be_visible()
    await manager.screenshot("book-reports")


async def test_a_collector_finds_a_case_by_the_debtors_phone_as_said_and_opens_it(
    person: SignIn, site: Site
) -> None:
    """Search on the keyed hashes (personal data is sealed), then the case page decrypts
    that one case: the number spoken with spaces and no country code finds it."""
    collector = await person("collector")
    page = collector.page
    await collector.open("/search")
    digits = re.sub(r"\D", "", site.cases.frozen_mobile)[-11:]
    await page.locator('form[action="/search"] [name="term"]').fill(
        f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    )
    await page.locator('form[action="/search"] button[type="submit"]').click()
    found = page.get_by_test_id("results").locator(f'a[href="/cases/{site.cases.frozen}"]')
    await expect(found).to_be_visible()
    await found.click()
    await expect(page.get_by_test_id("personal")).to_contain_text(site.cases.frozen_mobile)
    await collector.screenshot("search-phone")
