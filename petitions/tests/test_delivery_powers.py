"""Separate powers, tried with a user of each group: who routes letters, who sees and takes out personal data.

An organizer must not be able to send letters, and the names and addresses in them, somewhere of
their own; every change of where letters go, every print batch and every PDF of signers is recorded.
"""

import json

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from petitions.models import Letter, Recipient, SignatureExport
from petitions.tasks import deliver_letter

from .conftest import make_president, make_senator
from .letters import confirmed_signature

WHITE_HOUSE = "1600 Pennsylvania Avenue NW\nWashington, DC 20500"


def staff(client, *groups):
    user = User.objects.create_user("-".join(groups).lower().replace(" ", "_"), password="x", is_staff=True)
    user.groups.add(*Group.objects.filter(name__in=groups))
    assert user.groups.count() == len(groups)
    client.force_login(user)
    return user


@pytest.fixture
def senator(db):
    return make_senator()


@pytest.fixture
def waiting_letters(petition, senator):
    """Two signers' letters to a senator without a channel yet: waiting for organizers."""
    for n in range(2):
        confirmed_signature(petition, [senator], email=f"signer{n}@example.org", phone="515-555-0100")
    letters = Letter.objects.filter(recipient=senator)
    assert set(letters.values_list("status", flat=True)) == {Letter.Status.NEEDS_ACTION}
    return letters


def recipient_form(client, recipient, **changes):
    """The recipient's change form as the admin shows it to this user, with CHANGES, ready to post."""
    form = client.get(reverse("admin:petitions_recipient_change", args=[recipient.pk])).context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = field.prepare_value(form[name].value())
        if value is True:
            data[name] = "on"
        elif value not in (None, False):
            data[name] = value
    data.update(changes)
    return data


def run_action(client, action, letters):
    return client.post(
        reverse("admin:petitions_letter_changelist"),
        {"action": action, "_selected_action": [letter.pk for letter in letters]},
    )


def offered_actions(client):
    page = client.get(reverse("admin:petitions_letter_changelist"))
    return {name for name, _label in page.context["action_form"].fields["action"].choices}


HIJACK = {"channel": "email", "channel_settings": json.dumps({"address": "organizer@evil.example"})}


def test_an_organizer_cannot_send_letters_to_an_address_of_their_own(client, senator, waiting_letters):
    staff(client, "Organizers")
    url = reverse("admin:petitions_recipient_change", args=[senator.pk])
    response = client.post(url, recipient_form(client, senator, office="Hart 730", **HIJACK))
    assert response.status_code == 302
    senator.refresh_from_db()
    assert senator.office == "Hart 730", "the rest of the recipient is theirs to edit"
    assert (senator.channel, senator.channel_settings) == ("", {})
    assert "retry_letters" not in offered_actions(client)
    assert not {name for name in offered_actions(client) if name.startswith("reroute_to_")}
    run_action(client, "retry_letters", waiting_letters)
    run_action(client, "reroute_to_email", waiting_letters)
    assert set(waiting_letters.values_list("status", "channel")) == {(Letter.Status.NEEDS_ACTION, "")}
    assert not SignatureExport.objects.exists()


def test_a_delivery_manager_changes_a_channel_and_retries_and_both_are_recorded(client, senator, waiting_letters):
    manager = staff(client, "Delivery managers")
    url = reverse("admin:petitions_recipient_change", args=[senator.pk])
    client.post(url, recipient_form(client, senator, channel="email", channel_settings='{"address": "in@ernst.test"}'))
    senator.refresh_from_db()
    assert senator.channel == "email"
    change = SignatureExport.objects.get()
    assert (change.kind, change.user, change.username, change.rows) == ("delivery", manager, manager.username, 2)
    assert "channel - -> email" in change.what and "settings changed" in change.what

    assert "retry_letters" in offered_actions(client)
    run_action(client, "retry_letters", waiting_letters)
    assert set(waiting_letters.values_list("status", flat=True)) == {Letter.Status.QUEUED}
    retry = SignatureExport.objects.exclude(pk=change.pk).get()
    assert (retry.kind, retry.username, retry.rows) == ("delivery", manager.username, 2)
    assert retry.what.startswith("2 letter(s) sent again")


def test_print_batches_are_exports_for_data_stewards_and_are_recorded(client, petition):
    president = make_president(channel="print", office_address=WHITE_HOUSE)
    for n in range(3):
        signature = confirmed_signature(petition, [president], email=f"p{n}@example.org")
        deliver_letter(signature.letters.get().pk)
    letters = Letter.objects.all()
    staff(client, "Organizers")
    assert "download_print_batch" not in offered_actions(client)
    run_action(client, "download_print_batch", letters)
    assert set(letters.values_list("response", flat=True)) == {""}, "no batch was started"
    client.logout()

    steward = staff(client, "Organizers", "Data stewards")
    response = run_action(client, "download_print_batch", letters)
    assert response["Content-Type"] == "application/pdf"
    record = SignatureExport.objects.get()
    assert (record.kind, record.user, record.rows) == ("print-batch", steward, 3)
    assert record.what.startswith("print batch ")


def test_a_pdf_of_signers_is_an_export_for_data_stewards_and_is_recorded(client, petition, senator, waiting_letters):
    url = reverse("admin:petitions_petition_recipient_pdf", args=[petition.pk, senator.pk])
    dashboard = reverse("admin:petitions_petition_dashboard", args=[petition.pk])
    staff(client, "Organizers")
    assert client.get(url).status_code == 403
    assert not client.get(dashboard).context["recipients_for_export"]
    client.logout()

    steward = staff(client, "Data stewards")
    assert list(client.get(dashboard).context["recipients_for_export"]) == [senator]
    response = client.get(url)
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")
    record = SignatureExport.objects.get()
    assert (record.kind, record.user, record.rows) == ("signers-pdf", steward, 2)
    assert petition.slug in record.what


def test_organizers_see_signatures_without_email_phone_and_street(client, petition, senator, waiting_letters):
    signature = waiting_letters.first().signature
    letter = waiting_letters.first()
    staff(client, "Organizers")
    page = client.get(reverse("admin:petitions_signature_change", args=[signature.pk])).content.decode()
    assert "Lovelace" in page and "Des Moines" in page
    for private in (signature.email, "515-555-0100", "1007 Grand Ave"):
        assert private not in page
    changelist = reverse("admin:petitions_signature_changelist")
    assert client.get(changelist, {"q": signature.email}).context["cl"].result_count == 0
    assert client.get(changelist, {"q": "signer0"}).context["cl"].result_count == 0
    assert client.get(changelist, {"q": "Lovelace"}).context["cl"].result_count == 2
    letter_page = client.get(reverse("admin:petitions_letter_change", args=[letter.pk])).content.decode()
    assert "1007 Grand Ave" not in letter_page and "515-555-0100" not in letter_page


def test_data_stewards_see_everything_and_search_by_email(client, petition, senator, waiting_letters):
    signature = waiting_letters.first().signature
    staff(client, "Data stewards")
    page = client.get(reverse("admin:petitions_signature_change", args=[signature.pk])).content.decode()
    for private in (signature.email, "515-555-0100", "1007 Grand Ave"):
        assert private in page
    changelist = reverse("admin:petitions_signature_changelist")
    assert client.get(changelist, {"q": signature.email}).context["cl"].result_count == 1


def test_data_stewards_read_the_record_of_every_kind(client, petition, senator, waiting_letters):
    manager = staff(client, "Delivery managers")
    client.post(
        reverse("admin:petitions_recipient_change", args=[senator.pk]),
        recipient_form(client, senator, channel="email", channel_settings='{"address": "in@ernst.test"}'),
    )
    client.logout()
    staff(client, "Data stewards")
    page = client.get(reverse("admin:petitions_signatureexport_changelist"))
    assert page.status_code == 200
    assert [(r.kind, r.username) for r in page.context["cl"].result_list] == [("delivery", manager.username)]
    assert manager.username in page.content.decode()
    client.logout()
    staff(client, "Organizers")
    assert client.get(reverse("admin:petitions_signatureexport_changelist")).status_code == 403


def test_the_groups_hold_the_powers_the_campaign_separates(db):
    powers = {
        name: {p.codename for p in Group.objects.get(name=name).permissions.all()}
        for name in ("Organizers", "Data stewards", "Delivery managers")
    }
    assert "manage_delivery" in powers["Delivery managers"]
    assert "manage_delivery" not in powers["Organizers"] | powers["Data stewards"]
    assert "export_signature" in powers["Data stewards"]
    assert "export_signature" not in powers["Organizers"] | powers["Delivery managers"]
    assert Recipient._meta.get_field("channel")  # the field the power guards


def test_setting_channels_in_bulk_is_for_delivery_managers_and_recorded(client, waiting_letters, senator, settings):
    """The recipients list's bulk actions send letters somewhere new, like editing one recipient."""
    organizer = staff(client, "Organizers")
    url = reverse("admin:petitions_recipient_changelist")
    assert "deliver_by_email" not in client.get(url).content.decode()
    client.post(url, {"action": "deliver_by_print", "_selected_action": [senator.pk]})
    senator.refresh_from_db()
    assert senator.channel == ""

    client.logout()
    manager = staff(client, "Delivery managers")
    assert organizer != manager
    data = {"action": "deliver_by_email", "_selected_action": [senator.pk]}
    assert "deliver_by_email" in client.get(url).content.decode()
    client.post(url, {**data, "apply": "1", "address": "intake@example.org"})

    senator.refresh_from_db()
    assert (senator.channel, senator.channel_settings) == ("email", {"address": "intake@example.org"})
    record = SignatureExport.objects.get(kind=SignatureExport.Kind.DELIVERY)
    assert (record.user, record.rows) == (manager, 2)
    assert "channel - -> email" in record.what
