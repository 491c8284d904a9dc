"""The sign form on a page of its own, with its token: a browser without JavaScript signs in one press."""

import re
from datetime import datetime, timedelta

import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import translation

from petitions.models import Petition, Signature

from .catalogue import in_language
from .conftest import make_petition, sign_data

NO_SCRIPT = (
    'Your browser does not run scripts: <a href="%(sign_url)s">open the form on a page of its own</a> '
    "to sign in one step."
)


def _url(name, petition, language="en"):
    with translation.override(language):
        return reverse(name, args=[petition.slug])


def _hidden(page, name):
    return re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', page).group(1)


def test_the_sign_page_serves_the_form_with_a_token_and_a_stamp_and_is_never_cached(petition, recipients):
    response = Client().get(_url("petitions:sign", petition))

    assert response.status_code == 200
    page = response.content.decode()
    assert _hidden(page, "csrfmiddlewaretoken") and _hidden(page, "form_started")
    assert f'action="{_url("petitions:detail", petition)}"' in page
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= cache_control and "public" not in cache_control
    assert response.cookies["csrftoken"].value
    assert '<meta name="robots" content="noindex">' in page
    assert "<noscript>" not in page, "the page with the token does not send the signer elsewhere"


def test_the_sign_page_signs_in_one_press_with_csrf_checks_on(petition, recipients, settings):
    settings.SIGN_MIN_SECONDS = 3
    signer = Client(enforce_csrf_checks=True)
    page = signer.get(_url("petitions:sign", petition)).content.decode()
    token, stamp = _hidden(page, "csrfmiddlewaretoken"), _hidden(page, "form_started")
    form = sign_data(csrfmiddlewaretoken=token, form_started=stamp)

    # A person takes longer than the bot trap's three seconds to fill the form in.
    with time_machine.travel(datetime.now() + timedelta(seconds=20)):
        response = signer.post(_url("petitions:detail", petition), form)

    assert response.status_code == 302
    assert response["Location"] == _url("petitions:signed", petition)
    signature = Signature.objects.get()
    assert (signature.status, signature.quarantine_reason) == (Signature.Status.PENDING, "")


def test_without_the_sign_pages_token_the_same_press_is_refused(petition, recipients):
    signer = Client(enforce_csrf_checks=True)
    signer.get(_url("petitions:sign", petition))

    response = signer.post(_url("petitions:detail", petition), sign_data(csrfmiddlewaretoken="x" * 64))

    assert response.status_code == 403
    assert not Signature.objects.exists()


def test_the_petition_page_links_to_the_sign_page_for_browsers_without_script_and_stays_shared(petition, recipients):
    for language in ("en", "be"):
        response = Client().get(_url("petitions:detail", petition, language))

        assert response.status_code == 200
        assert not response.cookies
        assert "public" in response["Cache-Control"] and "private" not in response["Cache-Control"]
        page = response.content.decode()
        noscript = re.search(r"<noscript>(.*?)</noscript>", page, re.S).group(1)
        assert in_language(language, NO_SCRIPT) % {"sign_url": _url("petitions:sign", petition, language)} in noscript
        # The link sits right above the form, which still has no token.
        assert page.index("<noscript>") < page.index('<form method="post"')
        assert _hidden(page, "csrfmiddlewaretoken") == ""
        with translation.override(language):
            assert translation.gettext("Sign the appeal") in page


def test_a_closed_petition_sends_the_signer_to_its_page_and_a_draft_is_not_found(db):
    closed = make_petition(status=Petition.Status.CLOSED)
    response = Client().get(_url("petitions:sign", closed))
    assert response.status_code == 302 and response["Location"] == _url("petitions:detail", closed)

    draft = make_petition(slug="draft", status=Petition.Status.DRAFT)
    assert Client().get(_url("petitions:sign", draft)).status_code == 404
