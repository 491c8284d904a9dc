"""The petition page is one copy for the crowd, so a shared cache can serve it; the sign form fetches its token."""

import re

from django.test import Client
from django.urls import reverse
from django.utils import translation

from petitions.models import Signature
from petitions.signing import services

from .conftest import sign_data


def _page_url(petition, language="en"):
    with translation.override(language):
        return reverse("petitions:detail", args=[petition.slug])


def test_the_petition_page_sets_no_cookie_and_may_be_kept_by_shared_caches(client, petition, recipients):
    response = client.get(_page_url(petition))

    assert response.status_code == 200
    assert not response.cookies
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    # Shared caches keep it; a browser asks again each time, so a signer never sees an old count.
    assert cache_control == {"public", "max-age=0", "s-maxage=30"}
    assert "Cookie" in response["Vary"]
    page = response.content.decode()
    assert '<input type="hidden" name="csrfmiddlewaretoken" value="">' in page
    assert re.search(r'<input type="hidden" name="form_started"(?![^>]*value="[^"])', page)


def test_the_form_token_is_private_and_comes_with_the_csrf_cookie(client, petition):
    with translation.override("en"):
        response = client.get(reverse("petitions:form-token", args=[petition.slug]))

    assert response.status_code == 200
    assert set(response.json()) == {"csrfmiddlewaretoken", "form_started"}
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert response.cookies["csrftoken"].value


def test_the_crowd_is_served_one_rendered_copy_until_the_count_or_the_petition_changes(petition, recipients):
    first, second = Client().get(_page_url(petition)), Client().get(_page_url(petition))
    assert first.templates and not second.templates, "the second visitor gets the first one's copy"
    assert second.content == first.content
    assert "0 signatures" in second.content.decode()

    Client().post(_page_url(petition), sign_data())
    services.confirm_signature(Signature.objects.get())
    assert "1 signature" in Client().get(_page_url(petition)).content.decode()

    petition.title_en = "A new title"
    petition.save()
    assert "A new title" in Client().get(_page_url(petition)).content.decode()


def test_a_visitor_with_cookies_gets_a_page_rendered_for_them(petition, recipients):
    Client().get(_page_url(petition))
    visitor = Client()
    visitor.cookies["messages"] = "anything"
    assert visitor.get(_page_url(petition)).templates


def test_a_query_string_is_served_the_crowds_copy_and_never_reaches_it(petition, recipients):
    first = Client().get(_page_url(petition) + "?x=first&utm_source=mastodon")
    assert first.templates
    page = first.content.decode()
    assert "x=first" not in page and "utm_source" not in page, "no visitor's query string reaches the copy"

    # Served from one cache key: a render for any of these would have used templates.
    for query in ("", "?utm_source=newsletter&utm_campaign=rally", "?x=8f3a1c", "?fbclid=abc&x=1", "?x=" + "9" * 500):
        response = Client().get(_page_url(petition) + query)
        assert response.status_code == 200
        assert not response.templates, f"{query!r} was rendered afresh"
        assert response.content == first.content
