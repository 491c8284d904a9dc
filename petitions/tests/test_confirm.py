"""Confirming by the e-mailed link, the thank-you and status pages, and withdrawing a signature."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import lxml.html
import pytest
import time_machine
from django.conf import settings
from django.db import IntegrityError
from django.urls import resolve, reverse
from django.utils import timezone, translation

from petitions.models import Letter, Petition, Signature
from petitions.signing import services

from .catalogue import in_language
from .conftest import purge_broker, sign_data
from .queues import queued_tasks

pytestmark = pytest.mark.django_db


def _url(name, *args, language="en"):
    with translation.override(language):
        return reverse(name, args=args)


def _pending(client, petition, django_capture_on_commit_callbacks, language="en", **overrides):
    """A signature made through the sign form, its confirmation e-mail not sent."""
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(_url("petitions:detail", petition.slug, language=language), sign_data(**overrides))
    assert response.status_code == 302
    return Signature.objects.get(email_normalized=services.normalize_email(overrides.get("email", "ada@example.org")))


@pytest.fixture
def pending(client, petition, recipients, django_capture_on_commit_callbacks):
    return _pending(client, petition, django_capture_on_commit_callbacks)


def _confirm_url(signature, language="en"):
    return _url("petitions:confirm", services.confirmation_token(signature), language=language)


def _ids(*recipients):
    return [str(recipient.pk) for recipient in recipients]


def _confirm(client, signature, recipients, capture):
    with capture(execute=True):
        return client.post(_confirm_url(signature), {"recipients": _ids(*recipients)})


# --- The link and its button ------------------------------------------------------------------


def test_opening_the_link_shows_the_recipients_and_a_button_but_confirms_nothing(client, pending, recipients):
    response = client.get(_confirm_url(pending))

    assert response.status_code == 200
    page = lxml.html.fromstring(response.content)
    labels = " ".join(page.xpath('//*[@id="div_id_recipients"]')[0].text_content().split())
    for name in ("Joni Ernst", "Chuck Grassley", "The President of the United States"):
        assert name in labels
    assert page.xpath('//form[@method="post"]//button[@type="submit"]')
    pending.refresh_from_db()
    assert pending.status == Signature.Status.PENDING
    assert Letter.objects.count() == 0


def test_pressing_the_button_confirms_and_writes_one_letter_per_recipient(
    client, pending, recipients, django_capture_on_commit_callbacks
):
    response = _confirm(client, pending, recipients, django_capture_on_commit_callbacks)

    assert response.status_code == 302
    # To the signer's thanks page. Its token carries the second it was signed: compare what it opens.
    thanks = resolve(response["Location"])
    assert thanks.view_name == "petitions:thanks"
    assert services.signature_from_status(thanks.kwargs["token"]) == pending
    pending.refresh_from_db()
    assert pending.status == Signature.Status.CONFIRMED
    assert pending.confirmed_at is not None
    letters = {letter.recipient: letter for letter in Letter.objects.all()}
    assert set(letters) == set(recipients)
    for recipient, letter in letters.items():
        assert letter.body == services.render_letter(pending, recipient)
        assert len(letter.delivery_id) == 32


def test_unticking_a_recipient_on_the_confirmation_page_leaves_them_out(
    client, pending, recipients, django_capture_on_commit_callbacks
):
    ernst, grassley, president = recipients
    _confirm(client, pending, [ernst, president], django_capture_on_commit_callbacks)

    assert {letter.recipient for letter in Letter.objects.all()} == {ernst, president}
    assert set(pending.recipients.all()) == {ernst, president}


def test_a_recipient_the_signer_did_not_choose_cannot_be_added_on_the_confirmation_page(
    client, petition, recipients, django_capture_on_commit_callbacks
):
    signature = _pending(client, petition, django_capture_on_commit_callbacks, recipients=["president"])
    response = _confirm(client, signature, recipients, django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert Letter.objects.count() == 0


def test_unticking_everyone_is_refused_and_confirms_nothing(client, pending, django_capture_on_commit_callbacks):
    response = _confirm(client, pending, [], django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert b"Choose at least one person to receive your letter." in response.content
    assert Signature.objects.get().status == Signature.Status.PENDING


def test_the_signature_and_its_letters_are_written_in_one_transaction(pending, recipients):
    # A letter that already exists makes the second INSERT fail: nothing of the confirmation stays.
    Letter.objects.create(signature=pending, recipient=recipients[1], body="x")
    with pytest.raises(IntegrityError):
        services.confirm_signature(pending)

    pending.refresh_from_db()
    assert pending.status == Signature.Status.PENDING
    assert pending.confirmed_at is None
    assert Letter.objects.count() == 1


def test_confirming_enqueues_deliveries_for_queued_letters_and_a_receipt_on_commit(
    client, pending, recipients, django_capture_on_commit_callbacks
):
    ernst, grassley, president = recipients
    ernst.channel = "email"
    ernst.channel_settings = {"address": "letters@ernst.senate.example"}
    ernst.save()
    purge_broker()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(_confirm_url(pending), {"recipients": _ids(*recipients)})
    assert queued_tasks() == []
    assert len(callbacks) == 1
    callbacks[0]()

    to_ernst = Letter.objects.get(recipient=ernst)
    assert to_ernst.status == Letter.Status.QUEUED
    assert to_ernst.channel == "email"
    for recipient in (grassley, president):
        assert Letter.objects.get(recipient=recipient).status == Letter.Status.NEEDS_ACTION
    # A reminder, not the letter's id: the worker asks the database which letters are due.
    assert queued_tasks("letters") == [("petitions.tasks.deliver_due_letters", ())]
    assert queued_tasks("mail") == [("petitions.tasks.send_receipt", (pending.pk,))]


# --- Links used twice, expired, forged --------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_link_used_again_says_kindly_that_the_signature_is_confirmed(
    client, pending, recipients, django_capture_on_commit_callbacks, method
):
    _confirm(client, pending, recipients, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        response = getattr(client, method)(_confirm_url(pending), {"recipients": _ids(*recipients)})

    assert response.status_code == 200
    assert b"Your signature is already confirmed" in response.content
    assert Letter.objects.count() == 3


def test_a_link_works_for_seven_days(client, pending):
    with time_machine.travel(timezone.now() + timedelta(days=6, hours=23)):
        assert client.get(_confirm_url(pending)).status_code == 200


@pytest.mark.parametrize("language", ["be", "en"])
def test_an_expired_link_shows_a_kind_page_with_a_way_to_ask_for_a_new_one(client, pending, recipients, language):
    url = _confirm_url(pending, language)
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        response = client.get(url)
        posted = client.post(url, {"recipients": _ids(*recipients)})

    assert response.status_code == posted.status_code == 400
    page = lxml.html.fromstring(response.content)
    assert page.xpath(f'//a[@href="{_url("petitions:signed", pending.petition.slug, language=language)}"]')
    assert Signature.objects.get().status == Signature.Status.PENDING
    assert in_language(language, "This link does not work") in response.content.decode()


@pytest.mark.parametrize(
    "tamper", [lambda t: t[:-2] + ("AA" if t[-2:] != "AA" else "BB"), lambda t: "x" + t, lambda t: "nonsense"]
)
def test_a_forged_link_is_refused(client, pending, recipients, tamper):
    token = tamper(services.confirmation_token(pending))
    url = _url("petitions:confirm", token)
    assert client.get(url).status_code == 400
    assert client.post(url, {"recipients": _ids(*recipients)}).status_code == 400
    assert Signature.objects.get().status == Signature.Status.PENDING


def test_a_status_link_does_not_confirm(client, pending, recipients):
    url = _url("petitions:confirm", services.status_token(pending))
    assert client.post(url, {"recipients": _ids(*recipients)}).status_code == 400
    assert Signature.objects.get().status == Signature.Status.PENDING


@pytest.mark.parametrize("status", [Signature.Status.WITHDRAWN, Signature.Status.QUARANTINED])
def test_a_withdrawn_or_quarantined_signature_cannot_be_confirmed(client, pending, recipients, status):
    Signature.objects.filter(pk=pending.pk).update(status=status)

    assert client.get(_confirm_url(pending)).status_code == 400
    assert client.post(_confirm_url(pending), {"recipients": _ids(*recipients)}).status_code == 400
    assert Signature.objects.get().status == status
    assert Letter.objects.count() == 0


def test_a_signature_on_a_petition_closed_since_cannot_be_confirmed(client, pending, recipients):
    Petition.objects.filter(pk=pending.petition_id).update(status=Petition.Status.CLOSED)
    assert client.post(_confirm_url(pending), {"recipients": _ids(*recipients)}).status_code == 400
    assert Signature.objects.get().status == Signature.Status.PENDING


# --- Thank-you and status pages ---------------------------------------------------------------


def _count_text(page):
    """The count as the progress block writes it, such as "1 signature"."""
    [count] = lxml.html.fromstring(page).xpath('//p[contains(@class, "count")]/strong')
    return " ".join(count.text_content().split())


def test_the_thank_you_page_shows_the_updated_count_and_ways_to_share(
    client, petition, pending, recipients, django_capture_on_commit_callbacks
):
    assert _count_text(client.get(_url("petitions:detail", petition.slug)).content) == "0 signatures"

    response = _confirm(client, pending, recipients, django_capture_on_commit_callbacks)
    page = client.get(response["Location"]).content.decode()

    assert _count_text(page) == "1 signature"
    share_url = settings.SITE_URL + _url("petitions:detail", petition.slug)
    links = lxml.html.fromstring(page).xpath('//ul[contains(@class, "share-links")]//a/@href')
    telegram = next(link for link in links if link.startswith("https://t.me/share/url?"))
    assert parse_qs(urlsplit(telegram).query)["url"] == [share_url]
    assert any(link.startswith("mailto:?") for link in links)
    assert f'value="{share_url}"' in page


def test_the_thank_you_page_is_not_shown_for_an_unconfirmed_signature(client, pending):
    assert client.get(_url("petitions:thanks", services.status_token(pending))).status_code == 404


def test_the_status_page_lists_each_letter_with_its_recipient_and_state(
    client, pending, recipients, django_capture_on_commit_callbacks
):
    ernst, grassley, president = recipients
    _confirm(client, pending, recipients, django_capture_on_commit_callbacks)
    Letter.objects.filter(recipient=ernst).update(status=Letter.Status.DELIVERED, delivered_at=timezone.now())

    response = client.get(_url("petitions:status", services.status_token(pending)))

    assert response.status_code == 200
    items = [
        " ".join(li.text_content().split())
        for li in lxml.html.fromstring(response.content).xpath('//ul[@class="letters"]/li')
    ]
    assert len(items) == 3
    by_name = {name: next(item for item in items if name in item) for name in ("Ernst", "Grassley", "President")}
    assert "delivered on" in by_name["Ernst"]
    assert "waiting for organizers" in by_name["Grassley"]
    assert "waiting for organizers" in by_name["President"]


def test_a_forged_status_link_is_not_found(client, pending):
    assert client.get(_url("petitions:status", "forged")).status_code == 404


# --- Withdrawing ------------------------------------------------------------------------------


def test_withdrawing_erases_the_signer_cancels_unsent_letters_and_keeps_an_anonymous_count(
    client, petition, pending, recipients, django_capture_on_commit_callbacks
):
    ernst, grassley, president = recipients
    Signature.objects.filter(pk=pending.pk).update(phone="515-555-0134", note="Free them.")
    _confirm(client, pending, recipients, django_capture_on_commit_callbacks)
    Letter.objects.filter(recipient=ernst).update(status=Letter.Status.DELIVERED)
    Letter.objects.filter(recipient=grassley).update(status=Letter.Status.QUEUED)
    url = _url("petitions:withdraw", services.withdraw_token(pending))

    page = client.get(url)
    assert page.status_code == 200
    assert b'method="post"' in page.content
    assert Signature.objects.get().status == Signature.Status.CONFIRMED

    assert client.post(url).status_code == 200

    signature = Signature.objects.get()
    assert signature.status == Signature.Status.WITHDRAWN
    for field in ("first_name", "last_name", "email", "email_normalized", "address", "city", "zip_code", "phone"):
        assert getattr(signature, field) == "", field
    assert signature.note == ""
    assert Letter.objects.get(recipient=ernst).status == Letter.Status.DELIVERED
    assert Letter.objects.get(recipient=grassley).status == Letter.Status.CANCELLED
    assert Letter.objects.get(recipient=president).status == Letter.Status.CANCELLED
    assert petition.confirmed_count() == 1
    assert _count_text(client.get(_url("petitions:detail", petition.slug)).content) == "1 signature"

    before = Signature.objects.values().get()
    again = client.post(url)
    assert again.status_code == 200
    assert b"Your signature is withdrawn" in again.content
    assert Signature.objects.values().get() == before
    assert client.get(url).status_code == 200


def test_a_withdrawn_signer_may_sign_again(client, petition, pending, recipients, django_capture_on_commit_callbacks):
    client.post(_url("petitions:withdraw", services.withdraw_token(pending)))
    again = _pending(client, petition, django_capture_on_commit_callbacks)
    assert again.pk != pending.pk
    assert Signature.objects.count() == 2


def test_a_forged_withdraw_link_is_refused(client, pending):
    assert client.post(_url("petitions:withdraw", "forged")).status_code == 400
    assert Signature.objects.get().email == "ada@example.org"
