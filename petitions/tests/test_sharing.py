"""Sharing: link previews, canonical and language links, sitemap, robots.txt, share links, the count API and widget."""

import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.defaultfilters import urlencode
from django.urls import reverse
from lxml import html as lxml_html
from PIL import Image
from playwright.sync_api import expect

from petitions.models import Petition, Signature

from .browser import requires_chromium
from .conftest import free_port, make_confirmed_signatures, make_petition


@pytest.fixture
def petition(db):
    # A fresh address for every test, so pages cached by an earlier test are never served here.
    petition = make_petition(slug=f"free-{uuid.uuid4().hex[:8]}")
    petition.forget_count()
    return petition


def _page(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return lxml_html.fromstring(response.content)


def _meta(doc, key):
    [value] = doc.xpath(f"//meta[@property='{key}' or @name='{key}']/@content")
    return value


@pytest.mark.parametrize("language", ["be", "en"])
def test_each_petition_page_has_link_preview_tags_in_its_language(language, client, petition):
    path = f"/{language}/p/{petition.slug}/"
    doc = _page(client, path)
    title = getattr(petition, f"title_{language}")
    introduction = getattr(petition, f"introduction_{language}")
    assert _meta(doc, "og:title") == title
    assert _meta(doc, "twitter:title") == title
    assert introduction.startswith(_meta(doc, "og:description").removesuffix(" …").removesuffix("…").strip())
    assert _meta(doc, "twitter:description") == _meta(doc, "og:description")
    assert _meta(doc, "og:url") == settings.SITE_URL + path
    assert _meta(doc, "og:locale") == {"be": "be_BY", "en": "en_US"}[language]
    assert _meta(doc, "og:type") == "website"
    assert _meta(doc, "twitter:card") == "summary_large_image"
    image = _meta(doc, "og:image")
    assert image == _meta(doc, "twitter:image") == settings.SITE_URL + "/static/img/share.png"
    with Image.open(finders.find("img/share.png")) as share_image:
        assert share_image.size == (1200, 630) and share_image.format == "PNG"
    assert (_meta(doc, "og:image:width"), _meta(doc, "og:image:height")) == ("1200", "630")


@pytest.mark.parametrize("language", ["be", "en"])
def test_each_petition_page_names_its_canonical_address_and_its_translation(language, client, petition):
    doc = _page(client, f"/{language}/p/{petition.slug}/")
    assert doc.xpath("//link[@rel='canonical']/@href") == [f"{settings.SITE_URL}/{language}/p/{petition.slug}/"]
    alternates = {link.get("hreflang"): link.get("href") for link in doc.xpath("//link[@rel='alternate']")}
    assert alternates == {code: f"{settings.SITE_URL}/{code}/p/{petition.slug}/" for code in ("be", "en")}


def test_share_links_are_plain_links_and_no_script_comes_from_elsewhere(client, petition):
    doc = _page(client, f"/en/p/{petition.slug}/")
    share_url = urlencode(f"{settings.SITE_URL}/en/p/{petition.slug}/")
    links = doc.xpath("//ul[contains(@class, 'share-links')]//a/@href")
    assert [link.split("?")[0] for link in links] == [
        "mailto:",
        "https://t.me/share/url",
        "https://www.facebook.com/sharer/sharer.php",
        "https://x.com/intent/post",
        "https://wa.me/",
    ]
    assert all(share_url in link for link in links)
    assert doc.xpath("//input[@id='share-link']/@value") == [f"{settings.SITE_URL}/en/p/{petition.slug}/"]
    # Scripts: our own files, and data (JSON) that no browser runs.
    for script in doc.xpath("//script"):
        assert script.get("src", "").startswith("/static/") or script.get("type") == "application/json"
    assert not doc.xpath("//iframe")


def test_the_sitemap_lists_the_public_pages_in_both_languages(client, petition):
    make_petition(slug="still-a-draft", status=Petition.Status.DRAFT)
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    body = response.content.decode()
    for language in ("be", "en"):
        assert f"/{language}/p/{petition.slug}/</loc>" in body
        assert f"/{language}/privacy/</loc>" in body
        assert f'hreflang="{language}"' in body
    assert "still-a-draft" not in body


def test_robots_txt_points_to_the_sitemap_and_keeps_private_links_out(client):
    response = client.get("/robots.txt")
    assert response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert f"Sitemap: {settings.SITE_URL}/sitemap.xml" in lines
    for language in ("be", "en"):
        for private in ("confirm", "thanks", "status", "withdraw"):
            assert f"Disallow: /{language}/{private}/" in lines
        # The sign page renders the form afresh for each visitor: crawlers following its link cost a render each.
        assert f"Disallow: /{language}/p/*/sign/" in lines
    assert f"/{settings.ADMIN_URL}" not in response.content.decode()  # robots.txt must not reveal the admin


def test_the_count_api_gives_the_confirmed_count_and_goal_and_may_be_cached(client, petition):
    make_confirmed_signatures(petition, 3)
    Signature.objects.filter(email="s2@example.org").update(status=Signature.Status.PENDING)
    response = client.get(reverse("api-petition-count", args=[petition.slug]))
    assert response.status_code == 200
    assert response.json() == {
        "petition": petition.slug,
        "confirmed": 2,
        "goal": 100,
        "open": True,
        "url": f"{settings.SITE_URL}/be/p/{petition.slug}/",
    }
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"public", f"max-age={settings.COUNT_CACHE_SECONDS}"} <= cache_control
    assert any(part.startswith("stale-while-revalidate=") for part in cache_control)
    draft = make_petition(slug=f"draft-{uuid.uuid4().hex[:8]}", status=Petition.Status.DRAFT)
    assert client.get(reverse("api-petition-count", args=[draft.slug])).status_code == 404


def test_a_crowd_refreshing_the_count_costs_the_database_nothing(
    client, petition, django_assert_max_num_queries, django_assert_num_queries
):
    make_confirmed_signatures(petition, 2)
    urls = [
        reverse("api-petition-count", args=[petition.slug]),
        f"/be/p/{petition.slug}/widget/",
        f"/en/p/{petition.slug}/widget/",
    ]
    # The first request of each looks up the petition and, once, counts.
    for url in urls:
        with django_assert_max_num_queries(2):
            assert client.get(url).status_code == 200
    # Then a crowd refreshing is served from the cache.
    with django_assert_num_queries(0):
        for _ in range(50):
            for url in urls:
                assert client.get(url).status_code == 200
    assert client.get(urls[0]).json()["confirmed"] == 2


def test_the_widget_alone_may_be_framed_by_other_sites(client, petition):
    widget = client.get(f"/en/p/{petition.slug}/widget/")
    assert "X-Frame-Options" not in widget
    assert "frame-ancestors *" in widget["Content-Security-Policy"]
    assert "public" in widget["Cache-Control"]
    doc = lxml_html.fromstring(widget.content)
    assert doc.xpath("//progress/@value") == ["0"]
    assert doc.xpath("//a/@href") == [f"{settings.SITE_URL}/en/p/{petition.slug}/"]
    page = client.get(f"/en/p/{petition.slug}/")
    assert page["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]


@pytest.fixture
def partner_site():
    """A partner's web server on loopback, on an origin of its own; set `page` to the HTML it serves."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = server.page.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    server.page = ""
    server.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.browser
@pytest.mark.slow
@requires_chromium
def test_a_partner_site_shows_the_counter_in_an_iframe(open_page, site, petition, partner_site):
    make_confirmed_signatures(petition, 1)
    assert not site.startswith(partner_site.url.rstrip("/"))  # Another origin: localhost, not 127.0.0.1.
    partner_site.page = (
        f'<!doctype html><title>Partner</title><iframe id="w" src="{site}/en/p/{petition.slug}/widget/"></iframe>'
        f'<iframe id="p" src="{site}/en/p/{petition.slug}/"></iframe>'
    )
    page = open_page("en")
    page.goto(partner_site.url)
    counter = page.frame_locator("#w")
    expect(counter.locator("progress")).to_have_attribute("value", "1")
    expect(counter.locator("a.widget-sign")).to_have_attribute("target", "_blank")
    # The petition page itself refuses to be framed: its frame never shows the form.
    page.wait_for_load_state("load")
    assert page.frame_locator("#p").locator("form.sign-form").count() == 0
