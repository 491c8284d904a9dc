"""One signature's whole journey: sign, a real worker mails the link, follow it, confirm, count."""

import re

import pytest
from django.urls import reverse

from petitions.models import Letter, Signature

from .conftest import sign_data

pytestmark = pytest.mark.slow


def test_a_signature_is_confirmed_through_the_emailed_link(client, petition, recipients, smtp_server, start_worker):
    start_worker()
    page = client.get(reverse("petitions:detail", args=[petition.slug]))
    assert "0" in page.content.decode()

    response = client.post(reverse("petitions:detail", args=[petition.slug]), sign_data())
    assert response.status_code == 302

    [message] = smtp_server.wait_for(1)
    assert message["To"] == "ada@example.org"
    body = message.get_body(("plain",)).get_content()
    link = re.search(r"https?://\S+/be/confirm/\S+/", body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]

    confirm_page = client.get("/" + path)
    assert confirm_page.status_code == 200
    assert Signature.objects.get().status == Signature.Status.PENDING

    thanks = client.post("/" + path, {"recipients": [str(r.pk) for r in recipients]}, follow=True)
    assert thanks.status_code == 200
    assert Signature.objects.get().status == Signature.Status.CONFIRMED
    assert Letter.objects.count() == 3
    assert petition.confirmed_count() == 1
    assert "1 подпіс" in client.get(reverse("petitions:detail", args=[petition.slug])).content.decode()
