"""In Chromium against the live server: the supporter's whole path, in both languages, with and without JavaScript."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.utils import translation
from playwright.sync_api import expect

from petitions.management.commands.trim_bootstrap import missing_rules
from petitions.models import Letter, Recipient, Signature

from .browser import ARTIFACTS, DESKTOP, PHONE, browser_test, fill_sign_form, url
from .conftest import make_president, make_senator, wait_until

pytestmark = browser_test

OTHER = {"be": "en", "en": "be"}


def _confirmation_link(message, language):
    body = message.get_body(("plain",)).get_content()
    return re.search(rf"https?://\S+/{language}/confirm/\S+/", body).group(0)


def _signs_with_an_error_then_correctly(page, petition, language, javascript=True):
    """Send the form with a bad e-mail address, see the error by the field, then fix it and send."""
    fill_sign_form(page, email="ada-at-example.org")
    page.click("#submit-id-sign")
    with translation.override(language):
        expected = translation.gettext("Enter a valid email address.")
        notice = translation.gettext(
            "Please check your details and send the form once more: it arrived without its security token."
        )
    if not javascript:
        # The cached page's form has no CSRF token without its script: it comes back filled in, with one.
        expect(page.locator("main")).to_contain_text(notice)
        expect(page.locator("#id_email")).to_have_value("ada-at-example.org")
        page.click("#submit-id-sign")
    if language != "en":
        assert expected != "Enter a valid email address.", "Django's own Belarusian catalogue is missing"
    error = page.locator("#div_id_email .invalid-feedback")
    expect(error).to_have_text(expected)
    expect(page.locator("#id_email")).to_have_attribute("aria-invalid", "true")
    describedby = page.get_attribute("#id_email", "aria-describedby").split()
    assert page.locator(f"#{describedby[-1]}").inner_text().strip() == expected
    summary_link = page.locator("#form-errors a[href='#id_email']")
    expect(summary_link).to_contain_text(expected)
    if javascript:
        # sign.js moves focus to the first field in error.
        expect(page.locator("#id_email")).to_be_focused()
    else:
        # Without script the page opens at the top, where the summary links to each field.
        assert page.locator("#form-errors").bounding_box()["y"] < page.locator("article.appeal").bounding_box()["y"]
        summary_link.click()
        expect(page.locator("#id_email")).to_be_focused()

    page.fill("#id_email", "ada@example.org")
    page.check("#id_consent")
    page.click("#submit-id-sign")
    expect(page).to_have_url(re.compile(rf"/{language}/p/{petition.slug}/signed/$"))


@pytest.mark.parametrize("language", ["be", "en"])
def test_a_supporter_signs_and_confirms_in_their_language(
    language, open_page, site, petition, recipients, smtp_server, start_worker
):
    start_worker()
    page = open_page(language)
    detail = url("petitions:detail", petition.slug, language=language)

    # The bare address opens the home page in the browser's language.
    page.goto("/")
    expect(page).to_have_url(f"{site}/{language}/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    page.click(f".petition-card a[href='{detail}']")
    expect(page).to_have_url(site + detail)
    expect(page.locator("progress")).to_have_attribute("value", "0")

    # Switching language keeps the supporter on the same page, and back again.
    other = OTHER[language]
    page.click(f"nav a[hreflang='{other}']")
    expect(page).to_have_url(site + detail.replace(f"/{language}/", f"/{other}/"))
    expect(page.locator("html")).to_have_attribute("lang", other)
    page.click(f"nav a[hreflang='{language}']")
    expect(page).to_have_url(site + detail)
    with translation.override(language):
        expect(page.locator("#submit-id-sign")).to_have_value(translation.gettext("Sign the appeal"))

    _signs_with_an_error_then_correctly(page, petition, language)

    [message] = smtp_server.wait_for(1)
    page.goto(_confirmation_link(message, language))
    expect(page.locator("html")).to_have_attribute("lang", language)
    page.click("main form [type=submit]")
    expect(page).to_have_url(re.compile(rf"/{language}/thanks/[^/]+/$"))
    expect(page.locator("progress")).to_have_attribute("value", "1")
    expect(page.locator(".progress-block .count")).to_contain_text("1")
    expect(page.locator(".share-links a")).to_have_count(5)
    expect(page.locator("#share-link")).to_have_value(site + detail)
    assert Signature.objects.get().status == Signature.Status.CONFIRMED

    page.goto(detail)
    expect(page.locator("progress")).to_have_attribute("value", "1")
    assert page.dialogs == []


def test_a_supporter_signs_and_confirms_without_javascript(
    open_page, site, petition, recipients, smtp_server, start_worker
):
    start_worker()
    page = open_page("be", javascript=False)
    page.goto(url("petitions:detail", petition.slug))
    _signs_with_an_error_then_correctly(page, petition, "be", javascript=False)

    [message] = smtp_server.wait_for(1)
    page.goto(_confirmation_link(message, "be"))
    page.click("main form [type=submit]")
    expect(page).to_have_url(re.compile(r"/be/thanks/[^/]+/$"))
    expect(page.locator("progress")).to_have_attribute("value", "1")
    expect(page.locator(".share-links a")).to_have_count(5)
    # Copying needs script: without it the button stays hidden and the link field remains.
    expect(page.locator("button.copy-link")).to_be_hidden()
    expect(page.locator("#share-link")).to_be_visible()
    assert Signature.objects.get().status == Signature.Status.CONFIRMED


def test_without_javascript_the_petition_pages_link_leads_to_a_form_that_signs_in_one_press(
    open_page, site, petition, recipients
):
    page = open_page("be", javascript=False)
    page.goto(url("petitions:detail", petition.slug))
    page.click(f"noscript a[href='{url('petitions:sign', petition.slug)}']")
    expect(page).to_have_url(site + url("petitions:sign", petition.slug))
    fill_sign_form(page)
    page.click("#submit-id-sign")
    expect(page).to_have_url(re.compile(rf"/be/p/{petition.slug}/signed/$"))
    posts = [r for r in page.requests if r.method == "POST"]
    assert len(posts) == 1
    signature = Signature.objects.get()
    assert (signature.status, signature.language, signature.state) == (Signature.Status.PENDING, "be", "IA")


def test_a_double_click_on_sign_sends_the_form_once_and_makes_one_signature(open_page, site, petition, recipients):
    page = open_page("en")
    page.goto(url("petitions:detail", petition.slug, language="en"))
    fill_sign_form(page)
    page.dblclick("#submit-id-sign")
    expect(page).to_have_url(re.compile(r"/signed/$"))
    posts = [r for r in page.requests if r.method == "POST"]
    assert len(posts) == 1
    assert Signature.objects.count() == 1


HOSTILE = {
    "first_name": '<script>alert("first")</script>',
    "last_name": '<img src=x onerror=alert("last")>',
    "note": '<b>bold</b> <script>alert("note")</script> & "quotes"',
}


def _shows_as_typed(page, *values):
    text = page.locator("body").text_content()
    for value in values:
        assert value in text


def test_html_in_a_name_or_note_shows_as_typed_and_never_runs(
    open_page, site, client, petition, smtp_server, start_worker
):
    """On the site, in e-mails, in the letters and in the admin: text as typed, no script run."""
    make_senator("IA", 2, "Joni Ernst", "Ernst", contact_form="https://example.org/contact")
    make_senator("IA", 3, "Chuck Grassley", "Grassley")
    make_president(channel=Recipient.Channel.EMAIL, channel_settings={"address": "intake@example.org"})
    start_worker()
    page = open_page("en")
    page.goto(url("petitions:detail", petition.slug, language="en"))
    fill_sign_form(page, **HOSTILE)
    page.click("#submit-id-sign")
    expect(page).to_have_url(re.compile(r"/signed/$"))
    signature = Signature.objects.get()
    assert (signature.first_name, signature.last_name, signature.note) == tuple(HOSTILE.values())

    # The confirmation e-mail: escaped in HTML, as typed in plain text.
    [confirmation] = smtp_server.wait_for(1)
    html = confirmation.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert HOSTILE["first_name"] in confirmation.get_body(("plain",)).get_content()
    page.set_content(html)
    _shows_as_typed(page, HOSTILE["first_name"])

    # The thanks and status pages show the letter kept for the senator to copy, note included.
    page.goto(_confirmation_link(confirmation, "en"))
    page.click("main form [type=submit]")
    expect(page).to_have_url(re.compile(r"/thanks/[^/]+/$"))
    expect(page.locator("pre.letter-text")).to_have_count(1)
    _shows_as_typed(page, HOSTILE["note"], HOSTILE["last_name"])

    # The letter e-mailed to the President's office and the receipt: plain text as typed.
    messages = smtp_server.wait_for(3)
    [letter] = [m for m in messages if m["To"] == "intake@example.org"]
    assert letter.get_content_type() == "text/plain"
    assert HOSTILE["note"] in letter.get_content() and HOSTILE["first_name"] in letter.get_content()
    [receipt] = [m for m in messages if m["To"] == "ada@example.org" and m is not confirmation]
    receipt_html = receipt.get_body(("html",)).get_content()
    assert "<script>" not in receipt_html and "<img" not in receipt_html
    page.set_content(receipt_html)
    assert Letter.objects.filter(status=Letter.Status.DELIVERED).count() == 1

    # The admin's list and change pages, as an organizer sees them.
    admin = get_user_model().objects.create_superuser("organizer", "organizer@example.org", "a-long-password-1")
    client.force_login(admin)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": site}])
    page.goto(url("admin:petitions_signature_changelist", language="en"))
    expect(page.locator("#result_list")).to_be_visible()
    page.goto(url("admin:petitions_signature_change", signature.pk, language="en"))
    expect(page.locator("#id_first_name")).to_have_value(HOSTILE["first_name"])
    expect(page.locator("#id_note")).to_have_value(HOSTILE["note"])
    letter_row = Letter.objects.filter(status=Letter.Status.DELIVERED).get()
    page.goto(url("admin:petitions_letter_change", letter_row.pk, language="en"))
    _shows_as_typed(page, HOSTILE["note"])

    assert page.dialogs == []


# Controls a thumb must hit: WCAG 2.5.5 asks for 44 CSS pixels. Links inside running text are exempt.
_SMALL_TARGETS = """() => [...document.querySelectorAll(
    'a[href], button, input:not([type=hidden]):not([type=checkbox]):not([type=radio]), select, textarea, summary, '
    + 'input[type=checkbox] + label, input[type=radio] + label')]
  .filter(el => el.offsetParent !== null && el.offsetWidth > 1 && !el.closest('[aria-hidden=true]'))
  .filter(el => !(el.tagName === 'A' && el.closest('p, li:not(.list-inline-item)')
                  && el.closest('p, li').textContent.trim() !== el.textContent.trim()))
  .filter(el => el.getBoundingClientRect().height < 44)
  .map(el => el.outerHTML.slice(0, 120))"""


@pytest.mark.parametrize("language", ["be", "en"])
def test_the_petition_page_fits_a_phone_and_reads_well_on_a_desktop(language, open_page, petition, recipients):
    ARTIFACTS.mkdir(exist_ok=True)
    path = url("petitions:detail", petition.slug, language=language)

    phone = open_page(language, viewport=PHONE)
    phone.goto(path)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    small = phone.evaluate(_SMALL_TARGETS)
    assert small == [], "\n".join(small)
    phone.screenshot(path=ARTIFACTS / f"petition-{language}-375.png", full_page=True)
    # With errors shown the form must still fit. The form first fetches its token, then goes.
    with phone.expect_navigation():
        phone.click("#submit-id-sign")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    small = phone.evaluate(_SMALL_TARGETS)
    assert small == [], "\n".join(small)
    phone.screenshot(path=ARTIFACTS / f"petition-{language}-375-errors.png", full_page=True)

    desktop = open_page(language, viewport=DESKTOP)
    desktop.goto(path)
    # A comfortable measure is 60 to 80 characters a line: compare the column with the text's own
    # average character width.
    measure = desktop.evaluate(
        """() => {
          const p = document.querySelector('.letter p');
          const probe = document.createElement('span');
          probe.textContent = p.textContent.slice(0, 400);
          probe.style.whiteSpace = 'nowrap';
          p.appendChild(probe);
          const perChar = probe.getBoundingClientRect().width / probe.textContent.length;
          probe.remove();
          return p.getBoundingClientRect().width / perChar;
        }"""
    )
    print(f"{language}: {measure:.0f} characters a line at 1280 px")
    assert 60 <= measure <= 80, f"{measure:.0f} characters a line"
    desktop.screenshot(path=ARTIFACTS / f"petition-{language}-1280.png", full_page=True)


def test_the_petition_page_is_light_and_asks_no_other_host(open_page, site, petition, recipients):
    """Under 100 KB of HTML, CSS and JavaScript however the server compresses, and nothing from elsewhere."""
    page = open_page("be")
    page.goto(url("petitions:detail", petition.slug), wait_until="networkidle")
    requests = [r for r in page.requests if not r.url.startswith("data:")]
    assert [r.url for r in requests if not r.url.startswith(site + "/")] == []
    weights = {}
    for request in requests:
        if request.resource_type in ("document", "stylesheet", "script"):
            sizes = request.sizes()
            weights[request.url] = sizes["responseBodySize"] + sizes["responseHeadersSize"]
    print({url.removeprefix(site): size for url, size in weights.items()})
    assert sum(weights.values()) < 100 * 1024
    assert not [r for r in requests if r.resource_type == "font"]


def test_belarusian_letters_render_in_a_local_system_font(open_page, petition):
    page = open_page("be")
    page.goto(url("petitions:detail", petition.slug))
    assert "system-ui" in page.evaluate("getComputedStyle(document.body).fontFamily")
    assert page.evaluate("[...document.fonts].length") == 0  # no web font is declared
    page.evaluate("document.querySelector('h1').textContent = 'Ўўі Ііё Ёё'")
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    heading = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "h1"})["nodeId"]
    # The fonts are known once Chromium has laid the new text out.
    fonts = wait_until(lambda: cdp.send("CSS.getPlatformFontsForNode", {"nodeId": heading})["fonts"], timeout=5)
    assert fonts and not any(font["isCustomFont"] for font in fonts)
    # Every letter came from one local font (no fallback to boxes), spaces included.
    assert sum(font["glyphCount"] for font in fonts) == len("Ўўі Ііё Ёё")


def test_the_trimmed_bootstrap_matches_the_templates():
    """The page loads a Bootstrap trimmed to the classes in use; a template using a new class needs a rebuild."""
    missing = sorted(missing_rules())
    assert missing == [], "run `manage.py trim_bootstrap` and commit the result; missing:\n" + "\n".join(missing[:20])
