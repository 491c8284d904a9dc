"""Accessibility in Chromium: axe-core on every public page in both languages, labels, errors, focus, keyboard."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone, translation
from playwright.sync_api import expect

from petitions.models import Letter, Signature
from petitions.signing import services

from .browser import browser_test, signer_fields, url

pytestmark = browser_test

SERIOUS = ("serious", "critical")


def _signature(petition, recipients, status, **fields):
    person = signer_fields()
    values = {
        **person,
        "email_normalized": person["email"],
        "country": "United States",
        "language": "be",
        "letter_hash": petition.letter_hash(),
        "letter_text": petition.letter_en,
        "status": status,
    }
    values.update(fields)
    signature = Signature.objects.create(petition=petition, **values)
    signature.recipients.set(recipients)
    return signature


def _public_pages(petition, recipients, language):
    """Every page a supporter can reach, by name, in LANGUAGE (each with a signer in the right state)."""
    pending = _signature(petition, recipients, Signature.Status.PENDING)
    confirmed = _signature(
        petition,
        recipients,
        Signature.Status.CONFIRMED,
        email="grace@example.org",
        email_normalized="grace@example.org",
        confirmed_at=timezone.now(),
    )
    senator, other_senator, president = recipients
    other_senator.contact_form = "https://example.org/contact"
    other_senator.save()
    Letter.objects.create(
        signature=confirmed,
        recipient=senator,
        body="Dear Senator",
        status=Letter.Status.DELIVERED,
        delivered_at=timezone.now(),
        channel="email",
    )
    Letter.objects.create(signature=confirmed, recipient=other_senator, body="Dear Senator", status="needs_action")
    Letter.objects.create(signature=confirmed, recipient=president, body="Dear Mr. President", status="queued")
    slug = petition.slug
    return {
        "home": url("petitions:home", language=language),
        "petition": url("petitions:detail", slug, language=language),
        "sign": url("petitions:sign", slug, language=language),
        "signed": url("petitions:signed", slug, language=language),
        "confirm": url("petitions:confirm", services.confirmation_token(pending), language=language),
        "thanks": url("petitions:thanks", services.status_token(confirmed), language=language),
        "status": url("petitions:status", services.status_token(confirmed), language=language),
        "withdraw": url("petitions:withdraw", services.withdraw_token(pending), language=language),
        "privacy": url("petitions:privacy", language=language),
        "delivered": url("petitions:delivered", slug, language=language),
        "widget": url("petitions:widget", slug, language=language),
    }


def _serious_violations(page):
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[node['target'] for node in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in SERIOUS
    ]


@pytest.mark.parametrize("language", ["be", "en"])
def test_axe_finds_no_serious_violation_on_any_public_page(language, open_page, petition, recipients):
    pages = _public_pages(petition, recipients, language)
    page = open_page(language)
    found = {}
    for name, path in pages.items():
        page.goto(path)
        expect(page.locator("html")).to_have_attribute("lang", language)
        found[name] = _serious_violations(page)
        if name == "petition":
            page.click("#submit-id-sign")
            expect(page.locator("#form-errors")).to_be_visible()
            found["petition with errors"] = _serious_violations(page)
        if name == "confirm":
            for box in page.locator("input[name=recipients]").all():
                box.uncheck()
            page.click("main form [type=submit]")
            expect(page.locator(".invalid-feedback")).to_be_visible()
            found["confirm with errors"] = _serious_violations(page)
    found = {name: violations for name, violations in found.items() if violations}
    assert found == {}


def test_every_field_has_a_label_and_every_error_is_tied_to_its_field(open_page, petition, recipients):
    page = open_page("be")
    page.goto(url("petitions:detail", petition.slug, language="be"))
    page.click("#submit-id-sign")
    # sign.js fetches the form's token before it sends: wait for the answer, not the click.
    expect(page.locator("#form-errors")).to_be_visible()
    fields = page.locator("form.sign-form :is(input, select, textarea):not([type=hidden]):not([type=submit])")
    assert fields.count() > 10
    for field in fields.all():
        name = field.get_attribute("name")
        assert field.evaluate("el => el.labels.length") > 0, f"{name} has no label"
        if field.get_attribute("aria-invalid") == "true":
            # The error's id is among the field's aria-describedby, or its fieldset's for a group.
            owner = field if name != "recipients" else page.locator("#div_id_recipients fieldset")
            ids = owner.get_attribute("aria-describedby").split()
            errors = [i for i in ids if i.endswith("_error")]
            assert errors, f"{name}'s error is not tied to it"
            expect(page.locator(f"#{errors[0]}")).to_be_visible()
    assert page.locator("[aria-invalid=true]").count() >= 8
    # With script the first field in error has the focus, so a screen reader starts there.
    first_invalid = page.locator(".is-invalid").first.get_attribute("id")
    expect(page.locator(f"#{first_invalid}")).to_be_focused()


def test_a_supporter_can_sign_with_the_keyboard_alone(open_page, site, petition, recipients):
    page = open_page("en")
    page.goto(url("petitions:detail", petition.slug, language="en"))

    def tab_to(element_id, limit=60):
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.id") == element_id:
                return
        raise AssertionError(f"Tab never reached #{element_id}")

    # The first Tab reaches the skip link, which appears when focused.
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    assert page.locator(".skip-link").bounding_box()["width"] > 1

    tab_to("id_title")
    page.keyboard.type("Ms")
    typed = {
        "id_first_name": "Ada",
        "id_last_name": "Lovelace",
        "id_email": "ada@example.org",
        "id_address": "1007 Grand Ave",
        "id_city": "Des Moines",
    }
    for element_id, text in typed.items():
        tab_to(element_id, limit=3)
        page.keyboard.type(text)
    tab_to("id_state", limit=3)
    page.keyboard.type("Iowa")
    tab_to("id_zip_code", limit=3)
    page.keyboard.type("50309")
    tab_to("id_consent", limit=15)
    page.keyboard.press("Space")
    expect(page.locator("#id_consent")).to_be_checked()
    tab_to("submit-id-sign", limit=10)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/en/p/[^/]+/signed/$"))
    signature = Signature.objects.get()
    assert (signature.title, signature.state, signature.zip_code) == ("Ms.", "IA", "50309")
    with translation.override("en"):
        assert page.locator("h1").inner_text() == translation.gettext("Check your inbox")


@pytest.mark.parametrize("language", ["be", "en"])
def test_axe_finds_no_serious_violation_in_the_petition_pages_note_for_browsers_without_script(
    language, open_page, petition, recipients
):
    """The note and link a browser without script shows above the form.

    axe runs as a script, so the page is opened with script and each <noscript> is shown as such a
    browser shows it (with script on, its content is only text).
    """
    page = open_page(language)
    page.goto(url("petitions:detail", petition.slug, language=language))
    page.evaluate(
        """() => document.querySelectorAll('noscript').forEach(noscript => {
          const shown = document.createElement('div');
          shown.innerHTML = noscript.textContent;
          noscript.replaceWith(shown);
        })"""
    )
    expect(page.locator(f"a[href='{url('petitions:sign', petition.slug, language=language)}']")).to_be_visible()
    assert _serious_violations(page) == []
