"""Exports: the signers' PDF for an office names people and places, never e-mails or streets; counts as CSV."""

import csv
import io

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.urls import reverse
from pypdf import PdfReader

from petitions.models import Letter, Signature
from petitions.organizers import dashboard, exports

from .campaign_data import offices, signer

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed(petition):
    cache.clear()
    recipients = offices()
    ernst = recipients["IA"][0]
    rows = [
        signer(petition, 1, first_name="Ада", last_name="Лаўлейс", city="Des Moines"),
        signer(petition, 2, first_name="Grace", last_name="Hopper", city="Ames"),
        signer(petition, 3, first_name="Cancelled", last_name="Letter", city="Ames"),
        signer(petition, 4, first_name="Pending", last_name="Person", status=Signature.Status.PENDING),
    ]
    Signature.objects.bulk_create(rows)
    for signature in Signature.objects.all():
        status = Letter.Status.CANCELLED if signature.first_name == "Cancelled" else Letter.Status.DELIVERED
        Letter.objects.create(signature=signature, recipient=ernst, body="…", status=status)
    return petition, ernst


def _text(pdf_bytes):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf_bytes)).pages)


def test_the_pdf_for_an_office_has_the_letter_and_the_signers_names_and_no_email_or_street(signed):
    petition, ernst = signed
    text = _text(exports.recipient_pdf(petition, ernst))
    assert "Dear Senator Ernst," in text
    assert petition.letter_en.split()[0] in text and petition.letter_en.strip().split()[-1] in text
    assert "Ада Лаўлейс" in text and "Des Moines, IA" in text
    assert "Grace Hopper" in text and "Ames, IA" in text
    assert "Signed by 2 people" in text
    for absent in ("@", "example.org", "Main Street", "Cancelled", "Pending"):
        assert absent not in text


def test_organizers_download_the_pdf_and_the_counts_from_the_dashboard(client, signed):
    petition, ernst = signed
    client.force_login(User.objects.create_superuser("organizer", "o@example.org", "a long password for tests"))
    page = client.get(reverse("admin:petitions_petition_dashboard", args=[petition.pk])).content.decode()
    pdf_url = reverse("admin:petitions_petition_recipient_pdf", args=[petition.pk, ernst.pk])
    assert pdf_url in page
    response = client.get(pdf_url)
    assert response["Content-Type"] == "application/pdf"
    assert "Grace Hopper" in _text(response.content)

    counts = client.get(reverse("admin:petitions_petition_counts", args=[petition.pk]))
    rows = list(csv.reader(io.StringIO(counts.content.decode())))
    assert rows[0] == ["section", "item", "count"]
    values = {(section, item): int(count) for section, item, count in rows[1:]}
    assert values[("signatures", "confirmed")] == 3
    assert values[("signatures_by_state", "IA")] == 3
    assert values[("signatures_by_state", "WY")] == 0
    assert values[("letters_by_status", "delivered")] == 3
    assert values[("letters_delivered", str(ernst))] == 3
    assert "@" not in counts.content.decode()
    assert len([key for key in values if key[0] == "signatures_by_state"]) == len(dashboard.MAP_STATES) == 51


def test_a_staff_member_without_the_right_to_see_signatures_gets_no_pdf(client, signed):
    petition, ernst = signed
    staff = User.objects.create_user("helper", "h@example.org", "a long password for tests", is_staff=True)
    client.force_login(staff)
    url = reverse("admin:petitions_petition_recipient_pdf", args=[petition.pk, ernst.pk])
    assert client.get(url).status_code == 403
