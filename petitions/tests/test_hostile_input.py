"""Hostile input at the sign form and the letter renderer: nothing crashes, half-saves or goes out unescaped."""

import re

import pytest
from django.core import mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from petitions.models import Letter, Recipient, Signature
from petitions.signing import services
from petitions.tasks import send_confirmations

from .conftest import sign_data

TEXT_FIELDS = ["first_name", "last_name", "email", "address", "city", "zip_code", "country", "phone", "note", "title"]
PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "Ada\r\nBcc: victim@example.org",
    "Ada\nSubject: hijacked",
    "{{ request }}{% debug %}",
    "'; DROP TABLE petitions_signature; --",
    "\u202eevil\u202c",
    "Zoë 🙂 Лукашэнка 漢字",
    "a" * 5000,
    "\x00",
    "<a href='javascript:alert(1)'>x</a>",
]
hostile_text = st.one_of(
    st.sampled_from(PAYLOADS),
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=200, max_size=3000),
    st.builds(lambda a, b: f"{a}\r\n{b}", st.text(max_size=30), st.text(max_size=30)),
    st.builds(lambda a: f"<b onmouseover=x>{a}</b><script>{a}</script>", st.text(max_size=40)),
)
_TAG = re.compile(r"<[a-zA-Z!/]")
EXAMPLES = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)


def _html_parts(message):
    return [content for content, mimetype in message.alternatives if mimetype == "text/html"]


@settings(EXAMPLES, max_examples=50)
@given(field=st.sampled_from(TEXT_FIELDS), value=hostile_text)
def test_the_sign_form_refuses_with_a_message_or_saves_whole_and_escaped(client, petition, recipients, field, value):
    Signature.objects.all().delete()
    mail.outbox.clear()
    response = client.post(reverse("petitions:detail", args=[petition.slug]), sign_data(**{field: value}))

    assert response.status_code in (302, 400)
    if response.status_code == 400:
        assert not Signature.objects.exists(), "a refused form saves nothing"
        errors = response.context["form"].errors
        assert errors and all(message.strip() for messages in errors.values() for message in messages)
        page = response.content.decode()
        for messages in errors.values():
            for message in messages:
                assert escape(message) in page, "every refusal is shown with its reason"
        if _TAG.search(value):
            assert value not in page, "the value typed is shown back escaped"
        return

    signature = Signature.objects.get()
    assert signature.status == Signature.Status.PENDING
    assert signature.letter_hash == petition.letter_hash() and signature.email_normalized
    assert signature.recipients.count() == 3, "saved whole, with its recipients"
    send_confirmations()
    [message] = mail.outbox
    raw = message.message().as_string()
    headers = raw.split("\n\n", 1)[0]
    assert "Bcc:" not in headers and "hijacked" not in headers
    assert "\r" not in message.subject and "\n" not in message.subject
    [html] = _html_parts(message)
    confirm_page = client.get(reverse("petitions:confirm", args=[services.confirmation_token(signature)]))
    assert confirm_page.status_code == 200
    if _TAG.search(value):
        assert value not in html and value not in confirm_page.content.decode()


@pytest.mark.parametrize("payload", PAYLOADS)
def test_script_in_any_field_is_never_sent_or_shown_unescaped(client, petition, recipients, payload):
    for field in ("first_name", "last_name", "address", "city", "note"):
        Signature.objects.all().delete()
        mail.outbox.clear()
        response = client.post(reverse("petitions:detail", args=[petition.slug]), sign_data(**{field: payload}))
        assert response.status_code in (302, 400), (field, payload)
        if response.status_code == 400:
            assert response.context["form"].errors[field], (field, payload)
            assert not Signature.objects.exists()
            continue
        signature = Signature.objects.get()
        send_confirmations()
        services.confirm_signature(signature, [r.pk for r in recipients])
        for page in (
            client.get(reverse("petitions:status", args=[services.status_token(signature)])),
            client.get(reverse("petitions:thanks", args=[services.status_token(signature)])),
        ):
            assert page.status_code == 200
            assert "<script>alert" not in page.content.decode()
            assert "<img src=x" not in page.content.decode()
        html = _html_parts(mail.outbox[0])[0]
        assert "<script>alert" not in html and "<img src=x" not in html


def _unsaved_signature(**fields):
    values = {
        "title": "Ms.", "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.org",
        "address": "1007 Grand Ave", "city": "Des Moines", "state": "IA", "zip_code": "50309",
        "country": "United States", "phone": "", "note": "", "language": "en", "letter_text": "Free them all.",
    }  # fmt: skip
    values.update(fields)
    return Signature(**values)


@EXAMPLES
@given(
    first_name=hostile_text,
    last_name=hostile_text,
    address=hostile_text,
    note=hostile_text,
    letter=st.one_of(st.text(max_size=2000), st.sampled_from(PAYLOADS)),
)
def test_the_letter_renderer_takes_anything_and_the_receipt_escapes_it(first_name, last_name, address, note, letter):
    signature = _unsaved_signature(
        first_name=first_name, last_name=last_name, address=address, note=note, letter_text=letter
    )
    president = Recipient(kind=Recipient.Kind.PRESIDENT, name="The President")
    senator = Recipient(kind=Recipient.Kind.SENATOR, name="<b>Joni</b> Ernst", last_name="", state="IA")
    for recipient in (president, senator):
        text = services.render_letter(signature, recipient)
        assert isinstance(text, str) and text.startswith(recipient.salutation)
        assert "Sincerely," in text
        html = render_to_string(
            "emails/receipt_body.html",
            {"signature": signature, "letters": [Letter(recipient=recipient, body=text)], "withdraw_url": "u"},
        )
        assert escape(text) in html, "the letter appears in the receipt exactly, escaped"
        if _TAG.search(text):
            assert text not in html
