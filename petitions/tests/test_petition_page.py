"""In Chromium: the petition page as a supporter first sees it, on a phone and a laptop, in both languages."""

import pytest
from django.utils import translation
from playwright.sync_api import expect

from petitions.models import Organization

from .browser import ARTIFACTS, PHONE, browser_test, url
from .conftest import make_petition, make_president, make_senator

pytestmark = browser_test

LAPTOP = {"width": 1280, "height": 800}
VIEWPORTS = {"375": PHONE, "1280": LAPTOP}


@pytest.fixture
def campaign(db):
    """The demo petition with a goal in five figures, Iowa's senators, the President and who runs it all."""
    petition = make_petition(goal=10000)
    make_senator("IA", 2, "Joni Ernst", "Ernst")
    make_senator("IA", 3, "Chuck Grassley", "Grassley")
    make_senator("OH", 1, "Bernie Moreno", "Moreno")
    make_president(name="Donald Trump")
    Organization.objects.create(
        name_be="Беларуская дыяспара ЗША",
        name_en="Belarusian Diaspora USA",
        about_be="Мы валанцёры з беларускай дыяспары ў ЗША.",
        about_en="We are volunteers of the Belarusian diaspora in the United States.",
        email="hello@example.org",
    )
    return petition


_IN_VIEW = """(selector) => {
  const box = document.querySelector(selector).getBoundingClientRect();
  return box.height > 0 && box.top >= 0 && box.bottom <= window.innerHeight
      && box.left >= 0 && box.right <= window.innerWidth;
}"""


def _in_view(page, selector):
    """Whether the whole of SELECTOR's first match is inside the window as it is scrolled now."""
    return page.evaluate(_IN_VIEW, selector)


def _comes_into_view(page, selector):
    """Whether SELECTOR comes into the window, once a (smooth) scroll has ended."""
    page.wait_for_function(_IN_VIEW, arg=selector)
    return True


def _text(language, message):
    with translation.override(language):
        return translation.gettext(message)


@pytest.mark.parametrize("width", VIEWPORTS)
@pytest.mark.parametrize("language", ["be", "en"])
def test_the_first_screen_shows_the_appeal_its_count_and_the_sign_action(language, width, open_page, campaign):
    page = open_page(language, viewport=VIEWPORTS[width])
    page.goto(url("petitions:detail", campaign.slug, language=language))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"first-screen-{language}-{width}.png")

    for selector in ("h1", ".introduction p", ".progress-block .count", "progress"):
        assert _in_view(page, selector), f"{selector} is below the first screen"
    goal = {"be": "10\xa0000", "en": "10,000"}[language]
    expect(page.locator(".progress-block .count")).to_contain_text(goal)
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[width]["width"]

    if width == "375":
        # A button near the top leads down to the form; the letter opens rather than scrolls.
        button = page.locator(".sign-jump a")
        assert _in_view(page, ".sign-jump a")
        expect(button).to_have_text(_text(language, "Sign the appeal"))
        expect(page.locator("#letter-details")).not_to_have_attribute("open", "")
        button.click()
        assert page.url.endswith("#sign")
        assert _comes_into_view(page, "#sign-heading")
    else:
        # Two columns: the form beside the appeal, in view from the start and all the way down.
        expect(page.locator(".sign-jump a")).to_be_hidden()
        assert _in_view(page, "#sign-heading") and _in_view(page, "#id_first_name")
        appeal, sign = page.locator("article.appeal").bounding_box(), page.locator("section.sign").bounding_box()
        assert sign["x"] >= appeal["x"] + appeal["width"]
        expect(page.locator("#letter-details")).to_have_attribute("open", "")
        page.locator("#letter-details .letter p").nth(2).scroll_into_view_if_needed()
        assert page.evaluate("window.scrollY") > 800
        assert _in_view(page, "#sign-heading"), "the sign box stays in view while the letter is read"
        page.screenshot(path=ARTIFACTS / f"scrolled-{language}-{width}.png")
    assert page.dialogs == []


@pytest.mark.parametrize("language", ["be", "en"])
def test_who_runs_the_campaign_is_on_the_petition_page_and_in_every_footer(language, open_page, campaign):
    page = open_page(language)
    page.goto(url("petitions:detail", campaign.slug, language=language))
    organization = Organization.objects.get()
    name, about = (
        (organization.name_be, organization.about_be)
        if language == "be"
        else (
            organization.name_en,
            organization.about_en,
        )
    )
    expect(page.locator(".who-we-are")).to_contain_text(name)
    expect(page.locator(".who-we-are")).to_contain_text(about)
    expect(page.locator(".who-we-are a[href='mailto:hello@example.org']")).to_be_visible()
    page.goto(url("petitions:privacy", language=language))
    expect(page.locator("footer")).to_contain_text(name)
    expect(page.locator("footer a[href='mailto:hello@example.org']")).to_be_visible()
