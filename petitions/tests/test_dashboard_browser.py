"""The dashboard and the public map in Chromium: drawn, focusable, nothing fetched from elsewhere."""

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import expect

from petitions.organizers import dashboard

from .browser import ARTIFACTS, DESKTOP, PHONE, browser_test
from .campaign_data import build_campaign, offices

pytestmark = browser_test


def test_organizers_see_the_chart_and_map_and_can_read_a_state_by_keyboard(open_page, site, client, petition):
    cache.clear()
    build_campaign(petition, offices(), count=300)
    iowa = dashboard.signatures_by_state(petition)["IA"]
    organizer = get_user_model().objects.create_superuser("organizer", "organizer@example.org", "a-long-password-1")
    client.force_login(organizer)
    ARTIFACTS.mkdir(exist_ok=True)

    page = open_page("en", viewport=DESKTOP)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": site}])
    console = []
    page.on("console", lambda message: console.append(message.text))
    with translation.override("en"):
        page.goto(reverse("admin:petitions_petition_dashboard", args=[petition.pk]))
    expect(page.locator("svg.day-chart rect.bar").first).to_be_visible()
    assert page.locator("path.us-state").count() == 51
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    # Tab to Iowa: the count shows beside the map and its row in the table is marked.
    page.locator('path[data-state="IA"]').focus()
    expect(page.locator("#dashboard-map-readout")).to_have_text(f"Iowa: {iowa} signatures")
    expect(page.locator('tr[data-state="IA"]')).to_have_class("is-current")
    page.locator(".us-map").screenshot(path=str(ARTIFACTS / "dashboard-map-focus.png"))

    # Every request stayed on the site, and the content security policy refused nothing.
    assert all(request.url.startswith(site) for request in page.requests)
    assert not [text for text in console if "Content Security Policy" in text]

    petition.show_map = True
    petition.save()
    public = open_page("be", viewport=PHONE)
    public.goto(petition.get_absolute_url())
    expect(public.locator("#public-map-caption")).to_be_visible()
    assert public.locator("path.us-state").count() == 51
    public.locator(".public-map").screenshot(path=str(ARTIFACTS / "public-map-phone.png"))
    assert all(request.url.startswith(site) for request in public.requests)
