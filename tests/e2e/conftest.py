"""Real-browser end-to-end tests: Playwright (sync API) driving Debian's Chromium against `live_server`.

No browser is ever downloaded: the tests use /usr/bin/chromium (`.ci/run` installs it with
apt-get when it is missing). Without it the tests fail; they never skip.

Each test saves full-page screenshots under test-artifacts/e2e/, named after the test, and one
named `<test>-failed.png` when it fails.
"""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.factories import PASSWORD, UserFactory, ensure_roles

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts" / "e2e"
TIMEOUT_MS = 10_000

expect.set_options(timeout=TIMEOUT_MS)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can tell whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="package")
def allow_orm_beside_playwright():
    """Playwright's sync API keeps an event loop running in the test's thread, which makes
    Django's async-safety check refuse ORM calls from the test. Allow them while the browser
    runs, and only then, so the rest of the suite keeps the check.
    """
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package")
def browser(allow_orm_beside_playwright):
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium package "
            "(apt-get install chromium; .ci/run does it). The e2e tests never download a browser.",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def roles(transactional_db):
    ensure_roles()


@pytest.fixture
def new_context(browser, live_server):
    """Make a fresh browser context (its own cookies: another person) on the live server."""
    contexts = []

    def make(**options):
        options.setdefault("viewport", {"width": 1280, "height": 900})
        context = browser.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot(request):
    """screenshot(page) saves test-artifacts/e2e/<test name>.png; screenshot(page, "phone") adds "-phone"."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def save(page, suffix=""):
        path = ARTIFACTS / f"{request.node.name}{'-' + suffix if suffix else ''}.png"
        page.screenshot(path=path, full_page=True)
        return path

    return save


@pytest.fixture
def page(request, new_context, screenshot):
    """A page in a fresh context; its screenshot is saved as `<test>-failed.png` if the test fails."""
    page = new_context().new_page()
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed and not page.is_closed():
        screenshot(page, "failed")


def log_in(page, username):
    """Log into /admin/ through its login form, as a person would."""
    page.goto("/admin/login/?next=/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")


@pytest.fixture
def staff_page(new_context):
    """Make a staff user in a group and a page logged into the admin as them (their own context)."""

    def make(username, group):
        UserFactory(username=username, is_staff=True, groups=[group])
        page = new_context().new_page()
        log_in(page, username)
        return page

    return make
