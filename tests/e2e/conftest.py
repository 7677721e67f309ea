"""Browser tests: Playwright (sync API) driving Debian's Chromium against pytest-django's live server.

Skipped with a reason when /usr/bin/chromium is missing on a developer machine; in CI (CI=true) a
missing browser fails instead, so the suite can never pass by silently running nothing.
"""

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


# Package scope: Chromium starts once for these tests and stops before any other test runs, so
# Playwright's event loop (see below) never outlives them.
@pytest.fixture(scope="package")
def browser(django_db_setup):
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium (make test does) to run the browser tests."
        if _in_ci():
            pytest.fail(message)
        pytest.skip(message)
    from django.db import connections
    from playwright.sync_api import sync_playwright

    originals = {alias: connections[alias] for alias in connections}
    # Playwright's sync API runs an event loop in this thread; the ORM calls of test setup are still
    # plain synchronous calls, made between browser steps. Allowed for these tests only.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        # Playwright's sync API leaves its event loop running in this thread, and Django then looks
        # connections up in per-context (async) storage: fresh wrappers without the test database's
        # state (serialized rollback, the shared in-memory SQLite). Keep using the test's own.
        for alias, conn in originals.items():
            connections[alias] = conn
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield browser
        browser.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(autouse=True)
def _plain_http_cookies(settings):
    # The live server speaks plain HTTP; Secure cookies would not come back, nor would __Host- names
    # (as under SECURE_COOKIES=0, crm/settings.py).
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME = "sessionid", "csrftoken"


@pytest.fixture
def open_page(browser, live_server, request):
    """open_page(user, viewport=DESKTOP) -> a Playwright page, logged in as ``user`` (None: logged out)."""
    contexts = []

    def make(user, viewport=DESKTOP):
        context = browser.new_context(viewport=viewport, base_url=live_server.url)
        context.set_default_timeout(10_000)
        contexts.append(context)
        if user is not None:
            client = Client()
            client.force_login(user)
            cookie = client.cookies[settings.SESSION_COOKIE_NAME]
            context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        # Chromium reports every Content-Security-Policy refusal on the console (tests/e2e/test_csp.py).
        page.csp_violations = []
        page.on("console", lambda msg: _note_csp(page, msg))
        return page

    yield make
    violations = [v for context in contexts for page in context.pages for v in getattr(page, "csp_violations", [])]
    for context in contexts:
        context.close()
    assert not violations, f"Content-Security-Policy refusals: {violations}"  # in every browser test


def _note_csp(page, msg) -> None:
    if "Content Security Policy" in msg.text or "Content-Security-Policy" in msg.text:
        page.csp_violations.append(f"{page.url}: {msg.text}")


def shot(page, name: str) -> None:
    """Save a screenshot for people to look at (test-artifacts/ is not committed)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture
def rep(db):
    """A sales rep the browser tests sign in as."""
    from tests.factories import UserFactory

    return UserFactory(username="riley", first_name="Riley", role="sales-rep")


@pytest.fixture
def sales(db):
    from tests.factories import PipelineFactory

    return PipelineFactory(name="Sales", is_default=True)
