"""What every supporter's page carries: recipients named with their office, numbers per language, who runs it, icons."""

import json
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from petitions.models import Organization, Recipient

from .conftest import make_president, make_senator


def test_recipients_are_named_with_their_office_senators_first(db):
    president = make_president(name="Donald Trump")
    grassley = make_senator("IA", 3, "Chuck Grassley", "Grassley")
    ernst = make_senator("IA", 2, "Joni Ernst", "Ernst")
    with translation.override("en"):
        assert [str(r) for r in Recipient.objects.all()] == [
            "Senator Joni Ernst (Iowa)",
            "Senator Chuck Grassley (Iowa)",
            "President Donald Trump",
        ]
    with translation.override("be"):
        assert (str(ernst), str(president)) == ("Сенатар Joni Ernst (Аёва)", "Прэзідэнт Donald Trump")
    assert grassley.pk


@pytest.mark.parametrize(("language", "shown"), [("be", "12\xa0345"), ("en", "12,345")])
def test_numbers_are_grouped_as_the_pages_language_writes_them(language, shown):
    with translation.override(language):
        assert Template("{% load campaign_pages %}{{ n|grouped }}").render(Context({"n": 12345})) == shown


@pytest.mark.parametrize("language", ["be", "en"])
def test_the_page_names_who_runs_the_campaign_once_organizers_say(client, petition, recipients, language):
    with translation.override(language):
        page_url = reverse("petitions:detail", args=[petition.slug])
    assert "who-we-are" not in client.get(page_url).content.decode()
    Organization.objects.create(name_be="Дыяспара", name_en="Diaspora", email="hello@example.org")
    page = client.get(page_url).content.decode()
    assert 'class="who-we-are"' in page and "mailto:hello@example.org" in page
    assert {"be": "Дыяспара", "en": "Diaspora"}[language] in page


def test_organizers_edit_the_organization_in_the_admin(admin_client):
    response = admin_client.post(
        reverse("admin:petitions_organization_add"),
        {"name_be": "Дыяспара", "name_en": "Diaspora", "about_be": "", "about_en": "", "email": "a@example.org"},
    )
    assert response.status_code == 302
    assert Organization.kept_current().name_en == "Diaspora"
    assert admin_client.get(reverse("admin:petitions_organization_add")).status_code == 403


def test_every_page_has_a_favicon_app_icons_and_a_manifest(client, petition):
    page = client.get(reverse("petitions:privacy")).content.decode()
    for href in ("icons/favicon.ico", "icons/icon.svg", "icons/apple-touch-icon.png", "icons/manifest.webmanifest"):
        assert href in page
        assert finders.find(href), href
    manifest = json.loads(Path(finders.find("icons/manifest.webmanifest")).read_text())
    for icon in manifest["icons"]:
        assert finders.find(f"icons/{icon['src']}"), icon["src"]
