"""The admin at 1280 px: the signatures list shows who, where, status and when beside the filters,
and a change form's tools never cover a long petition title; the summary is a table, not markup as text."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import translation

from .browser import DESKTOP, requires_chromium
from .conftest import make_petition, make_president
from .letters import confirmed_signature

LONG_TITLE = "An appeal to US senators and the President on the torture of political prisoners in Belarus"


def _log_in(page, client, site):
    organizer = get_user_model().objects.create_superuser("organizer", "organizer@example.org", "a-long-password-1")
    client.force_login(organizer)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": site}])


def _box(locator):
    box = locator.bounding_box()
    return box["x"], box["y"], box["x"] + box["width"], box["y"] + box["height"]


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "be"])
def test_the_summary_is_a_table_when_every_recipient_is_reachable(admin_client, language):
    petition = make_petition(title_en=LONG_TITLE)
    president = make_president(channel="email", channel_settings={"address": "letters@example.gov"})
    confirmed_signature(petition, [president])
    with translation.override(language):
        html = admin_client.get(reverse("admin:petitions_petition_change", args=[petition.pk])).content.decode()
    assert "<table><thead>" in html
    assert "&lt;table&gt;" not in html


@pytest.mark.parametrize("language", ["en", "be"])
@pytest.mark.browser
@pytest.mark.slow
@requires_chromium
def test_the_signatures_list_fits_1280_px_and_the_petition_tools_clear_its_title(open_page, site, client, language):
    petition = make_petition(title_en=LONG_TITLE, title_be="Зварот да сенатараў і Прэзідэнта ЗША датычна катаванняў")
    president = make_president(channel="email", channel_settings={"address": "letters@example.gov"})
    confirmed_signature(petition, [president], first_name="Alena", last_name="Kavalenka", state="IA")
    page = open_page(language, viewport=DESKTOP)
    _log_in(page, client, site)

    with translation.override(language):
        page.goto(reverse("admin:petitions_signature_changelist"))
        state = str(dict(petition.signatures.model._meta.get_field("state").choices)["IA"])
    table = page.locator("#result_list")
    row = table.locator("tbody tr").first
    assert row.locator("th a").inner_text() == "Kavalenka, Alena"
    assert state in row.inner_text()
    # Every column ends left of the filter panel, inside the window: nothing hidden under it.
    filters = _box(page.locator("#changelist-filter"))
    for header in table.locator("thead th").all():
        assert _box(header)[2] <= filters[0], header.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]

    with translation.override(language):
        page.goto(reverse("admin:petitions_petition_change", args=[petition.pk]))
    # The tools sit on a line of their own under the title, however long it is or however narrow the
    # window: Django's negative margin would pull them up beside (and, wrapped, over) the headings.
    subtitle = _box(page.locator("#content > h2"))
    for tool in page.locator(".object-tools li").all():
        assert _box(tool)[1] >= subtitle[3], tool.inner_text()
