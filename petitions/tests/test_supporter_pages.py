"""In Chromium: naming the recipients, the path from abroad, the count after confirming, and pages that fit a phone."""

import re

import pytest
from django.test import Client
from django.utils import translation
from playwright.sync_api import expect

from petitions.models import Letter, Signature
from petitions.signing import services

from .browser import ARTIFACTS, PHONE, browser_test, signer_fields, url
from .conftest import make_petition, make_president, make_senator, sign_data

pytestmark = browser_test

LAPTOP = {"width": 1280, "height": 800}
VIEWPORTS = {"375": PHONE, "1280": LAPTOP}
LONG_FORM = "https://www.ernst.senate.gov/content/contact-senator-ernst-about-an-issue-of-concern-to-iowans?topic=foreign-affairs"


@pytest.fixture
def campaign(db):
    petition = make_petition()
    make_senator("IA", 2, "Joni Ernst", "Ernst", contact_form=LONG_FORM)
    make_senator("IA", 3, "Chuck Grassley", "Grassley")
    make_senator("OH", 1, "Bernie Moreno", "Moreno")
    make_president(name="Donald Trump")
    return petition


def _names(language):
    with translation.override(language):
        return {
            "ernst": translation.gettext("Senator %(name)s (%(state)s)")
            % {"name": "Joni Ernst", "state": translation.gettext("Iowa")},
            "grassley": translation.gettext("Senator %(name)s (%(state)s)")
            % {"name": "Chuck Grassley", "state": translation.gettext("Iowa")},
            "president": translation.gettext("President %(name)s") % {"name": "Donald Trump"},
            "your_senators": translation.gettext("your state's two senators"),
        }


def _fits(page, width):
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= width, f"{page.url} is {wide} px wide at {width} px"


@pytest.mark.parametrize("width", VIEWPORTS)
@pytest.mark.parametrize("language", ["be", "en"])
def test_the_recipients_are_named_before_the_button_as_the_signer_chooses(language, width, open_page, campaign):
    names = _names(language)
    page = open_page(language, viewport=VIEWPORTS[width])
    page.goto(url("petitions:detail", campaign.slug, language=language))
    preview = page.locator("#recipients-preview .recipients-names")
    button_y = page.locator("#submit-id-sign").bounding_box()["y"]
    assert page.locator("#recipients-preview").bounding_box()["y"] < button_y
    expect(preview).to_contain_text(names["your_senators"])
    expect(preview).to_contain_text(names["president"])

    page.select_option("#id_state", "IA")
    expect(preview).to_have_text(re.compile(f"^{re.escape(names['ernst'])}, {re.escape(names['grassley'])} .+ "))
    expect(preview).to_contain_text(names["president"])
    text = preview.inner_text()
    assert text.index(names["ernst"]) < text.index(names["grassley"]) < text.index(names["president"])

    page.uncheck("input[name=recipients][value=president]")
    expect(preview).not_to_contain_text(names["president"])
    page.check("input[name=recipients][value=president]")

    # Abroad: no state, ZIP code or senators; a country; the letter goes to the President.
    page.check("#id_lives_abroad")
    expect(preview).to_have_text(names["president"])
    for hidden in ("#id_state", "#id_zip_code", "input[name=recipients][value=senators]"):
        expect(page.locator(hidden)).to_be_hidden()
    expect(page.locator("#id_country")).to_be_visible()
    page.locator("#recipients-preview").scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"recipients-abroad-{language}-{width}.png")
    _fits(page, VIEWPORTS[width]["width"])


def _fill_abroad(page):
    fields = signer_fields()
    page.select_option("#id_title", fields["title"])
    page.fill("#id_first_name", fields["first_name"])
    page.fill("#id_last_name", fields["last_name"])
    page.fill("#id_email", fields["email"])
    page.check("#id_lives_abroad")
    page.fill("#id_address", "Gedimino pr. 1")
    page.fill("#id_city", "Vilnius")
    page.fill("#id_country", "Lithuania")
    page.fill("#id_postal_code", "LT-01100")
    page.check("#id_consent")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
@pytest.mark.parametrize("width", VIEWPORTS)
@pytest.mark.parametrize("language", ["be", "en"])
def test_a_supporter_abroad_signs_confirms_and_sees_a_count_that_includes_them(
    language, width, javascript, open_page, campaign, site
):
    names = _names(language)
    viewport = VIEWPORTS[width]
    page = open_page(language, viewport=viewport, javascript=javascript)
    detail = url("petitions:detail", campaign.slug, language=language)
    if javascript:
        page.goto(detail)
    else:
        page.goto(url("petitions:sign", campaign.slug, language=language))
        # Without script the styles alone leave the abroad fields out until the box is ticked.
        expect(page.locator("#id_country")).to_be_hidden()
    _fill_abroad(page)
    if javascript:
        expect(page.locator("#recipients-preview .recipients-names")).to_have_text(names["president"])
    page.click("#submit-id-sign")
    expect(page).to_have_url(re.compile(rf"/{language}/p/{campaign.slug}/signed/$"))
    _fits(page, viewport["width"])
    # Back to the petition while the e-mail arrives: the browser keeps this copy, without them.
    page.goto(detail)
    expect(page.locator("progress")).to_have_attribute("value", "0")

    signature = Signature.objects.get()
    assert (signature.state, signature.country, signature.zip_code) == ("", "Lithuania", "LT-01100")
    assert [(r.kind, r.name) for r in signature.recipients.all()] == [("president", "Donald Trump")]

    # The next step names the President and says why, with the letter exactly as it will be sent.
    with translation.override(language):
        page.goto(f"/{language}/confirm/{services.confirmation_token(signature)}/")
    expect(page.locator(".letter-preview")).to_contain_text(names["president"])
    expect(page.locator("pre.letter-text")).to_contain_text("Dear Mr. President,")
    expect(page.locator("pre.letter-text")).to_contain_text("Lithuania")
    _fits(page, viewport["width"])
    page.click("main form [type=submit]")
    expect(page).to_have_url(re.compile(rf"/{language}/thanks/[^/]+/$"))

    # The thank-you page asks to share, with local icons, and counts them.
    expect(page.locator(".progress-block progress")).to_have_attribute("value", "1")
    expect(page.locator(".share-links a img")).to_have_count(5)
    expect(page.locator("#share-link")).to_have_value(site + detail)
    assert [r.url for r in page.requests if not r.url.startswith(site)] == []
    _fits(page, viewport["width"])
    page.screenshot(path=ARTIFACTS / f"thanks-{language}-{width}-{'js' if javascript else 'nojs'}.png", full_page=True)

    # Back on the petition page, the browser shows the count that includes them.
    page.goto(detail)
    expect(page.locator("progress")).to_have_attribute("value", "1")
    assert page.dialogs == []


@pytest.mark.parametrize("width", VIEWPORTS)
@pytest.mark.parametrize("language", ["be", "en"])
def test_no_supporter_page_scrolls_sideways(language, width, open_page, campaign):
    viewport = VIEWPORTS[width]
    Client().post(url("petitions:detail", campaign.slug, language=language), sign_data(email="pending@example.org"))
    Client().post(url("petitions:detail", campaign.slug, language=language), sign_data())
    pending, confirmed = Signature.objects.order_by("pk")
    services.confirm_signature(confirmed)
    # A letter organizers deliver by hand shows the senator's (long) contact form address.
    Letter.objects.update(status=Letter.Status.NEEDS_ACTION)
    with translation.override(language):
        status = services.status_token(confirmed)
        pages = [
            url("petitions:home", language=language),
            url("petitions:detail", campaign.slug, language=language),
            url("petitions:sign", campaign.slug, language=language),
            url("petitions:signed", campaign.slug, language=language),
            url("petitions:delivered", campaign.slug, language=language),
            url("petitions:privacy", language=language),
            url("petitions:confirm", services.confirmation_token(pending), language=language),
            url("petitions:thanks", status, language=language),
            url("petitions:status", status, language=language),
            url("petitions:withdraw", services.withdraw_token(confirmed), language=language),
        ]
    page = open_page(language, viewport=viewport)
    for path in pages:
        page.goto(path)
        _fits(page, viewport["width"])
    expect(page.locator("main")).to_be_visible()
    page.goto(url("petitions:status", status, language=language))
    expect(page.locator(f"a[href='{LONG_FORM}']")).to_be_visible()
    names = _names(language)
    expect(page.locator(".letters li strong")).to_have_text([names["ernst"], names["grassley"], names["president"]])
    page.screenshot(path=ARTIFACTS / f"status-{language}-{width}.png", full_page=True)


@pytest.mark.parametrize("language", ["be", "en"])
def test_the_widget_fits_the_recommended_frame(language, open_page, campaign):
    page = open_page(language, viewport={"width": 360, "height": 170})
    page.goto(url("petitions:widget", campaign.slug, language=language))
    size = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
    assert size[0] <= 360 and size[1] <= 170, f"the widget needs {size[0]} × {size[1]}"
    box = page.locator(".widget-sign").bounding_box()
    assert box["y"] + box["height"] <= 170 and box["x"] + box["width"] <= 360
    page.screenshot(path=ARTIFACTS / f"widget-{language}.png")
