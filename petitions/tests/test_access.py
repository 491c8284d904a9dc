"""Who may see what: the admin's pages by group, the export, the login locks, and withdrawal."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from petitions.models import Letter, Signature, SignatureExport
from petitions.signing import services

from .conftest import sign_data

GROUPS = ["Organizers", "Data stewards", "Delivery managers", "Translators"]


def staff(name, group=None, **fields):
    user = User.objects.create_user(name, password="correct horse battery", is_staff=True, **fields)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


def admin_pages():
    """Every model's list and add page, and the custom pages, as (url, model) pairs."""
    pages = []
    for model in admin.site._registry:
        opts = model._meta
        pages.append((reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"), model))
        pages.append((reverse(f"admin:{opts.app_label}_{opts.model_name}_add"), model))
    pages.append((reverse("admin:petitions_signature_export"), Signature))
    pages.append((reverse("admin:petitions_signature_activity"), Signature))
    return pages


@pytest.fixture
def signatures(petition, recipients, client):
    client.post(reverse("petitions:detail", args=[petition.slug]), sign_data())
    client.post(
        reverse("petitions:detail", args=[petition.slug]),
        sign_data(email="grace@example.org", state="NY", zip_code="10001"),
    )
    return list(Signature.objects.order_by("pk"))


def test_every_admin_page_sends_anonymous_visitors_to_the_login(client, db):
    pages = admin_pages() + [(reverse("admin:index"), None)]
    assert len(pages) > 10
    for url, _model in pages:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("admin:login")), url


def test_staff_without_a_group_see_no_model_page(client, db):
    client.force_login(staff("nobody"))
    for url, _model in admin_pages():
        assert client.get(url).status_code == 403, url


@pytest.mark.parametrize("group", GROUPS)
def test_each_group_reaches_only_the_pages_its_permissions_allow(client, db, group):
    user = staff(f"user-{group}", group)
    client.force_login(user)
    seen = 0
    for model in admin.site._registry:
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        may_see = any(user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}") for action in ("view", "change"))
        assert client.get(url).status_code == (200 if may_see else 403), (group, url)
        seen += may_see
    assert seen >= 1


def test_translators_edit_petitions_but_never_see_signatures(client, signatures):
    client.force_login(staff("tr", "Translators"))
    assert client.get(reverse("admin:petitions_petition_changelist")).status_code == 200
    for name in ("changelist", "export", "activity"):
        assert client.get(reverse(f"admin:petitions_signature_{name}")).status_code == 403
    assert client.get(reverse("admin:petitions_signature_change", args=[signatures[0].pk])).status_code == 403


def test_only_data_stewards_export_signatures_and_every_export_is_recorded(client, signatures):
    export = reverse("admin:petitions_signature_export") + "?state=IA"
    client.force_login(staff("org", "Organizers"))
    assert client.get(reverse("admin:petitions_signature_changelist")).status_code == 200
    assert client.get(export).status_code == 403
    assert "export_url" not in client.get(reverse("admin:petitions_signature_changelist")).context
    assert not SignatureExport.objects.exists()

    steward = staff("steward", "Data stewards")
    client.force_login(steward)
    response = client.get(export)
    assert response.status_code == 200
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert len(lines) == 2 and "ada@example.org" in lines[1], "the header and Iowa's one signer"
    record = SignatureExport.objects.get()
    assert (record.user, record.username, record.filters, record.rows) == (steward, "steward", "state=IA", 1)


def test_the_record_of_exports_cannot_be_changed_or_deleted(client, signatures):
    steward = staff("steward", "Data stewards")
    client.force_login(steward)
    b"".join(client.get(reverse("admin:petitions_signature_export")).streaming_content)
    record = SignatureExport.objects.get()
    assert client.get(reverse("admin:petitions_signatureexport_changelist")).status_code == 200
    assert client.get(reverse("admin:petitions_signatureexport_add")).status_code == 403
    assert client.post(reverse("admin:petitions_signatureexport_delete", args=[record.pk])).status_code == 403
    client.post(reverse("admin:petitions_signatureexport_change", args=[record.pk]), {"username": "someone else"})
    client.force_login(User.objects.create_superuser("root", password="x"))
    assert client.post(reverse("admin:petitions_signatureexport_delete", args=[record.pk])).status_code == 403
    record.refresh_from_db()
    assert record.username == "steward"


def test_repeated_failed_logins_lock_the_account_out(client, db, settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    staff("org", "Organizers")
    login = reverse("admin:login")
    for _ in range(3):
        response = client.post(login, {"username": "org", "password": "wrong"}, REMOTE_ADDR="203.0.113.5")
    assert response.status_code in (403, 429)
    # The right password no longer helps from this address...
    locked = client.post(login, {"username": "org", "password": "correct horse battery"}, REMOTE_ADDR="203.0.113.5")
    assert locked.status_code in (403, 429)
    assert "_auth_user_id" not in client.session
    # ...and a forged X-Forwarded-For does not make it another address.
    forged = client.post(
        login,
        {"username": "org", "password": "correct horse battery"},
        REMOTE_ADDR="203.0.113.5",
        HTTP_X_FORWARDED_FOR="198.51.100.77",
    )
    assert forged.status_code in (403, 429)


def test_a_user_with_a_totp_device_must_give_the_code(client, db, settings):
    settings.AXES_ENABLED = False
    user = staff("org", "Organizers")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    login = reverse("admin:login")
    credentials = {"username": "org", "password": "correct horse battery", "otp_device": device.persistent_id}
    refused = client.post(login, {**credentials, "otp_token": "000000"})
    assert refused.status_code == 200 and "_auth_user_id" not in client.session
    # After a wrong code django-otp makes the device wait a moment before it checks another.
    with time_machine.travel(datetime.now() + timedelta(seconds=5)):
        code = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
        response = client.post(login, {**credentials, "otp_token": code, "next": reverse("admin:index")})
    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


def test_without_a_device_a_password_is_enough_unless_two_factor_is_required(client, db, settings):
    user = staff("org", "Organizers")
    client.force_login(user)
    assert client.get(reverse("admin:index")).status_code == 200
    settings.ADMIN_REQUIRE_2FA = True
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))
    login = client.post(reverse("admin:login"), {"username": "org", "password": "correct horse battery"})
    assert login.status_code == 200 and login.context["form"].errors


def test_the_admin_lives_at_the_configured_address():
    from django.conf import settings

    assert reverse("admin:index").endswith("/" + settings.ADMIN_URL)


def test_withdrawing_erases_the_data_and_a_second_click_is_harmless(client, signatures, recipients):
    signature = signatures[0]
    services.confirm_signature(signature, [r.pk for r in recipients])
    letters_before = Letter.objects.filter(signature=signature).count()
    link = reverse("petitions:withdraw", args=[services.withdraw_token(signature)])
    assert client.get(link).status_code == 200
    first = client.post(link)
    assert first.status_code == 200
    signature.refresh_from_db()
    assert signature.status == Signature.Status.WITHDRAWN and signature.withdrawn_at
    for field in ("first_name", "last_name", "email", "email_normalized", "address", "city", "zip_code", "phone"):
        assert getattr(signature, field) == "", field
    assert signature.note == "" and signature.ip_hash == "" and signature.ip_prefix_hash == ""
    letters = Letter.objects.filter(signature=signature)
    assert letters.count() == letters_before
    assert set(letters.values_list("status", flat=True)) == {Letter.Status.CANCELLED}
    assert set(letters.values_list("body", flat=True)) == {""}
    withdrawn_at = signature.withdrawn_at

    second = client.post(link)
    assert second.status_code == 200
    assert client.get(link).status_code == 200
    signature.refresh_from_db()
    assert signature.withdrawn_at == withdrawn_at and signature.status == Signature.Status.WITHDRAWN
    # The other signer is untouched.
    assert Signature.objects.get(pk=signatures[1].pk).email == "grace@example.org"
