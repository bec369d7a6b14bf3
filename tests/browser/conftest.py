"""The browser tests' world: Debian's Chromium driven by Playwright against the real console.

One stack per module (`arrears up` and one `arrears worker`, the fixture the integration
tests use), a few cases imported through `arrears import`, one user per role, and
`arrears console` as its own process on a free port: the browser talks to it over real
HTTP with real cookies, exactly as a person's browser does.

Playwright's async API is used (not pytest-playwright's sync `page`): the stack, its pool
and its Temporal client live on pytest-asyncio's session loop, and a test checks the
database between clicks (e.g. that a refused override stored nothing).

Chromium is never downloaded (`playwright install` is not used): the tests drive
`/usr/bin/chromium`. Without it they skip, saying why; under `CI=true` they fail instead,
since CI must prove the console in a browser (`.ci/run` installs it).
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import os
import shutil
import signal
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from arrears.cases.override import OverrideRefused, send_override
from arrears.intake.sample import COLUMNS, sample_rows
from arrears.people.users import add_user
from domain.commands import PromiseToPay
from domain.events import Actor
from domain.localtime import local_date
from domain.policy import Policy
from tests.integration.conftest import ArrearsProcess, Stack, start_arrears
from tests.integration.conftest import stack as stack  # the module's stack, reused
from tests.support import free_port, wait_until

#: Where the screenshots go: the README's (docs/screenshots/) only when asked for with
#: `make screenshots` (ARREARS_SCREENSHOTS), so that `make test` leaves the tree as it was.
SCREENSHOTS = Path(
    os.environ.get("ARREARS_SCREENSHOTS") or Path(tempfile.gettempdir()) / "arrears-screenshots"
)
PASSWORD = "browser tests only 9f2c"
LANGUAGES = ("en", "zh_CN")
#: The value of <html lang> for each console language.
HTML_LANG = {"en": "en", "zh_CN": "zh-CN"}

#: Headless Chromium on a closed network: without these it keeps trying to reach Google
#: (updates, sync, QUIC probes) and floods the log with refused connections.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

#: One business day in 2 s for the cases whose promise must break before the tests run
#: (a promise breaks when its date and 2 days' grace pass: about 10 s); about a year per
#: business day for the rest, so nothing happens in them unless a test does it.
FAST_DAY_SECONDS = 2.0
FROZEN_DAY_SECONDS = 86400.0 * 365


def user_id(role: str) -> str:
    return f"b-{role}"


def chromium_executable() -> str | None:
    found = shutil.which("chromium")
    if found:
        return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


@pytest.fixture(scope="module")
def chromium_path() -> str:
    """Debian's Chromium; missing: skip with the reason, or fail under `CI=true`."""
    found = chromium_executable()
    if found is not None:
        return found
    reason = (
        "no Chromium for the browser tests: install Debian's package "
        "(`apt-get install -y chromium`, giving /usr/bin/chromium); the tests never "
        "download one with `playwright install`"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true: the browser tests must run, but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
async def chromium(chromium_path: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


# --- the cases ------------------------------------------------------------------------


@dataclass(frozen=True)
class Cases:
    """The module's cases by what the tests do with them (case ids), and one debtor's
    mobile number, to look for on screen (shown to staff, masked for auditors)."""

    broken_promise: dict[str, str]  # by language: each test run sets a plan on its own
    frozen: str
    frozen_mobile: str
    others: list[str]


def _placement_file(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _rows(seed: int, count: int, *, today: date, balance: str) -> list[dict[str, str]]:
    """Sample rows in M1 (40 days past due, below the legal threshold)."""
    rows = list(sample_rows(count, seed=seed, as_of=today))
    for row in rows:
        row.update(
            principal=balance, interest="0.00", fees="0.00", credit_limit="20000.00",
            oldest_unpaid_due_date=(today - timedelta(days=40)).isoformat(),
            unpaid_minimum="1200.00", timezone="Asia/Shanghai", flags="",
        )  # fmt: skip
    return rows


async def _import(stack: Stack, path: Path, day_seconds: float) -> None:
    code, out, err = await stack.arrears("import", str(path), "--day-seconds", str(day_seconds))
    assert code == 0, f"arrears import failed ({code}): {out[-1000:]} {err[-2000:]}"


async def _break_a_promise(stack: Stack, case_id: str) -> None:
    """A collector's promise for tomorrow (business time), then the days pass unpaid."""

    async def promised() -> bool:
        view = await stack.view(case_id)
        today = local_date(view.business_now, Policy().cycle.bank_timezone)
        promise = PromiseToPay(
            actor=Actor(id=user_id("collector"), role="collector"), reason="debtor called in",
            amount=Decimal("100.00"), date=today + timedelta(days=1),
        )  # fmt: skip
        try:
            await send_override(stack.client, case_id, promise)
        except OverrideRefused as err:  # the business day turned between query and send
            if "promise_date" not in str(err):
                raise
            return False
        return True

    await wait_until(promised, f"a promise accepted by {case_id}", timeout=30)

    async def broken() -> bool:
        found = await stack.pool.fetchval(
            "SELECT count(*) FROM case_events WHERE case_id = $1 AND type = 'promise_broken'",
            case_id,
        )
        return bool(found)

    await wait_until(broken, f"the promise of {case_id} to break", timeout=60)


@pytest.fixture(scope="module")
async def cases(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Cases:
    folder = tmp_path_factory.mktemp("placements")
    today = datetime.now(UTC).date()
    fast = _rows(81, 2, today=today, balance="8000.00")
    frozen = _rows(82, 4, today=today, balance="12000.00")
    await asyncio.gather(
        _import(stack, _placement_file(folder / "fast.csv", fast), FAST_DAY_SECONDS),
        _import(stack, _placement_file(folder / "frozen.csv", frozen), FROZEN_DAY_SECONDS),
    )
    case_of = {row["account_id"]: f"case-{row['account_id']}" for row in fast + frozen}
    broken = {lang: case_of[row["account_id"]] for lang, row in zip(LANGUAGES, fast, strict=True)}
    await asyncio.gather(*(_break_a_promise(stack, case_id) for case_id in broken.values()))
    return Cases(
        broken_promise=broken,
        frozen=case_of[frozen[0]["account_id"]],
        frozen_mobile=frozen[0]["mobile"],
        others=[case_of[row["account_id"]] for row in frozen[1:]],
    )


# --- the console ------------------------------------------------------------------------


@dataclass
class Site:
    """The console as served by `arrears console`, and the stack behind it."""

    url: str
    stack: Stack
    cases: Cases

    async def event_count(self, case_id: str) -> int:
        count: int = await self.stack.pool.fetchval(
            "SELECT count(*) FROM case_events WHERE case_id = $1", case_id
        )
        return count

    async def event_types(self, case_id: str) -> list[str]:
        rows = await self.stack.pool.fetch(
            "SELECT type FROM case_events WHERE case_id = $1 ORDER BY seq", case_id
        )
        return [row["type"] for row in rows]


async def _stop(process: ArrearsProcess) -> None:
    if process.process.returncode is None:
        process.process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(process.process.wait(), 30)
        except TimeoutError:
            process.process.kill()
            await process.process.wait()


@pytest.fixture(scope="module")
async def site(chromium: Browser, stack: Stack, cases: Cases) -> AsyncIterator[Site]:
    """`arrears console` on a free port, with one user per role in its database."""
    now = datetime.now(UTC)
    async with stack.pool.acquire() as conn:
        for role in ("collector", "supervisor", "manager", "auditor"):
            await add_user(conn, user_id(role), role, f"Browser {role}", PASSWORD, now)
    port = free_port()
    console = await start_arrears("console", "--port", str(port), env=stack.env)
    try:
        url = (await console.wait_for_line(r"^Console: (\S+)")).group(1)
        async with httpx.AsyncClient(base_url=url) as http:

            async def answers() -> bool:
                with contextlib.suppress(httpx.TransportError):
                    return (await http.get("/login")).status_code == 200
                return False

            await wait_until(answers, f"the console at {url}", timeout=60)
        yield Site(url=url, stack=stack, cases=cases)
    finally:
        await _stop(console)


# --- a person at the console ---------------------------------------------------------


@dataclass
class Person:
    """One browser (its own cookies) at the console, signed in as a role, in a language."""

    page: Page
    site: Site
    language: str

    async def open(self, path: str) -> None:
        await self.page.goto(self.site.url + path)

    async def sign_in(self, role: str) -> None:
        await self.open("/login")
        form = self.page.locator('form[action="/login"]')
        await form.locator('input[name="username"]').fill(user_id(role))
        await form.locator('input[name="password"]').fill(PASSWORD)
        await form.locator('button[type="submit"]').click()
        await expect(self.page.get_by_test_id("viewer")).to_contain_text(user_id(role))

    async def use_language(self) -> None:
        """The viewer's own language, chosen in the header (POST /language)."""
        html = self.page.locator("html")
        if await html.get_attribute("lang") != HTML_LANG[self.language]:
            await self.page.locator(
                f'form[action="/language"] button[value="{self.language}"]'
            ).click()
        await expect(html).to_have_attribute("lang", HTML_LANG[self.language])

    async def sign_out(self) -> None:
        await self.page.get_by_test_id("sign-out").click()
        await expect(self.page.locator('form[action="/login"]')).to_be_visible()

    async def screenshot(self, name: str, *, chinese_too: bool = False) -> None:
        """SCREENSHOTS/NAME.png (the README's with `make screenshots`), in the English run; with
        `chinese_too` also NAME.zh_CN.png in the Chinese one."""
        if self.language != "en" and not chinese_too:
            return
        suffix = "" if self.language == "en" else f".{self.language}"
        os.makedirs(SCREENSHOTS, exist_ok=True)
        await self.page.screenshot(path=SCREENSHOTS / f"{name}{suffix}.png", full_page=True)


SignIn = Callable[[str], Awaitable[Person]]


@pytest.fixture(params=LANGUAGES)
async def person(
    request: pytest.FixtureRequest, chromium: Browser, site: Site
) -> AsyncIterator[SignIn]:
    """`await person(role)`: a fresh browser signed in as `role` in the test's language
    (each test runs in English and in Chinese)."""
    language: str = request.param
    contexts: list[BrowserContext] = []

    async def sign_in(role: str) -> Person:
        context = await chromium.new_context(
            viewport={"width": 1280, "height": 860}, locale="zh-CN" if language != "en" else "en"
        )
        context.set_default_timeout(15_000)
        # Before signing in, the console speaks the language of this cookie (else the
        # profile's): the sign-in page in the test's language too.
        await context.add_cookies([{"name": "arrears_lang", "value": language, "url": site.url}])
        contexts.append(context)
        someone = Person(page=await context.new_page(), site=site, language=language)
        await someone.sign_in(role)
        await someone.use_language()
        return someone

    yield sign_in
    for context in contexts:
        await context.close()
