"""Shared fixtures: the test users (owner, member, outsider, organiser) and a browser."""

from __future__ import annotations

import os
import time

import pytest
from allauth.account.models import EmailAddress
from django.core.cache import cache

from accounts.models import User

PASSWORD = "correct-horse-battery"


def make_user(email: str, **extra) -> User:
    user = User.objects.create_user(email=email, password=PASSWORD, **extra)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and heartbeats must not leak from one test to the next."""
    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _default_time_zone():
    """The time zone a request activated for its user (accounts.middleware) stays active in
    the thread that ran it, the test's own: each test starts in the default zone."""
    from django.utils import timezone

    timezone.deactivate()
    yield
    timezone.deactivate()


@pytest.fixture
def alice(db) -> User:
    """The owner of the data under test."""
    return make_user("alice@example.com", display_name="Alice Owner", time_zone="Europe/London")


@pytest.fixture
def bob(db) -> User:
    """A fellow member of alice's networking group."""
    return make_user("bob@example.com", display_name="Bob Member")


@pytest.fixture
def charlie(db) -> User:
    """An outsider: shares nothing with alice."""
    return make_user("charlie@example.com", display_name="Charlie Outsider")


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def charlie_client(client, charlie):
    client.force_login(charlie)
    return client


# --- Browser --------------------------------------------------------------

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    # Playwright's sync API keeps an event loop in this thread; Django's ORM calls in
    # the same test are still synchronous, so allow them.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    """A phone-sized page. Every browser test also asserts that the Content-Security-Policy
    blocked nothing while it ran (Chromium reports each violation on the console)."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    context.set_default_timeout(10_000)
    page = context.new_page()
    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(f"{page.url}: {message.text}")
        if "Content Security Policy" in message.text
        else None,
    )
    in_flight: set = set()
    page.on("request", lambda request: in_flight.add(request))
    page.on("requestfinished", lambda request: in_flight.discard(request))
    page.on("requestfailed", lambda request: in_flight.discard(request))
    yield page
    # Let requests the page still has in flight (lazy widgets and panels, htmx refreshes)
    # finish before the live server's database is flushed: one still running deadlocked
    # with the flush's TRUNCATE (CI), failing this test and the next one's set-up.
    deadline = time.monotonic() + 5
    while in_flight and time.monotonic() < deadline:
        page.wait_for_timeout(20)
    context.close()
    assert violations == [], "CSP violations:\n" + "\n".join(violations)


def login_in_browser(page, email: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/dashboard/")
