"""Playwright fixtures: Debian's Chromium driving the live server, as a supporter's phone would."""

import os
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCALES = {"be": "be-BY", "en": "en-US"}
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}

# Every browser test is slow (it starts Chromium) and needs Debian's Chromium: Playwright's own
# browser download does not work here, and .ci/run installs the chromium package instead.
requires_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium)"
)
browser_test = [pytest.mark.browser, pytest.mark.slow, requires_chromium]


@pytest.fixture(scope="module")
def chromium():
    """One Chromium per test module.

    Playwright's sync API runs an event loop in this thread, and Django refuses ORM calls from a
    thread with a running loop unless DJANGO_ALLOW_ASYNC_UNSAFE is set. The tests' ORM calls are
    ordinary synchronous ones, so it is set for as long as the browser runs, and then restored.
    """
    from playwright.sync_api import expect, sync_playwright

    # CI has two cores shared with workers and servers: give the page time before calling it wrong.
    expect.set_options(timeout=10_000)
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def site(live_server, settings):
    """The live server's address, also used for the links in e-mails and share tags."""
    settings.SITE_URL = live_server.url
    return live_server.url


@pytest.fixture
def open_page(chromium, site):
    """Open a page in a fresh browser context; dialogs (a sign of injected script) are recorded.

    Each page gets `dialogs`, the messages of every alert, confirm or prompt it showed, and
    `requests`, every URL it asked for.
    """
    contexts = []

    def open_page(language="be", viewport=PHONE, javascript=True):
        context = chromium.new_context(
            base_url=site, locale=LOCALES[language], viewport=viewport, java_script_enabled=javascript
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.dialogs = []
        page.requests = []

        def on_dialog(dialog):
            page.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on("request", lambda request: page.requests.append(request))
        return page

    yield open_page
    for context in contexts:
        context.close()


def signer_fields():
    """The valid signer of conftest.sign_data, as the fields a person types or picks, empty ones left out."""
    # Imported here: conftest imports this module for its fixtures before it defines sign_data.
    from .conftest import sign_data

    return {name: value for name, value in sign_data().items() if value and name not in ("recipients", "consent")}


def fill_sign_form(page, **overrides):
    """Fill in the sign form as a signer from Iowa would; both recipients stay ticked."""
    values = {**signer_fields(), **overrides}
    page.select_option("#id_title", values.pop("title"))
    page.select_option("#id_state", values.pop("state"))
    for name, value in values.items():
        page.fill(f"#id_{name}", value)
    page.check("#id_consent")


def url(name, *args, language="be"):
    """The path of a page in LANGUAGE, whatever language the test's own thread has active."""
    with translation.override(language):
        return reverse(name, args=args)
