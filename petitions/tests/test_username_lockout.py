"""The admin log-in lock across addresses: twenty wrong passwords for one user from twenty addresses."""

import io

from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

PASSWORD = "correct horse battery"


def test_twenty_wrong_passwords_from_twenty_addresses_lock_the_username(client, db, settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_USERNAME_FAILURE_LIMIT = 10
    User.objects.create_user("org", password=PASSWORD, is_staff=True)
    login = reverse("admin:login")
    answers = [
        client.post(login, {"username": "org", "password": f"guess{n}"}, REMOTE_ADDR=f"198.51.100.{n + 1}")
        for n in range(20)
    ]
    assert [a.status_code for a in answers[:9]] == [200] * 9, "each address is well under its own limit"
    assert {a.status_code for a in answers[10:]} == {429}
    locked = answers[-1]
    assert "admin/locked_out.html" in [t.name for t in locked.templates] and locked.context["across_addresses"]
    # The right password from a fresh address does not help, nor does it for the owner's usual one.
    for address in ("203.0.113.9", "192.0.2.1"):
        right = client.post(login, {"username": "org", "password": PASSWORD}, REMOTE_ADDR=address)
        assert right.status_code == 429 and "_auth_user_id" not in client.session
    # Another account is not locked.
    User.objects.create_user("other", password=PASSWORD, is_staff=True)
    other = client.post(login, {"username": "other", "password": PASSWORD}, REMOTE_ADDR="198.51.100.1")
    assert other.status_code == 302
    client.logout()

    # A superuser unlocks it.
    call_command("axes_reset_username", "org", stdout=io.StringIO())
    assert not AccessAttempt.objects.filter(username="org").exists()
    back = client.post(login, {"username": "org", "password": PASSWORD}, REMOTE_ADDR="203.0.113.9")
    assert back.status_code == 302


def test_the_pair_lock_still_comes_first_and_says_so(client, db, settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_USERNAME_FAILURE_LIMIT = 10
    User.objects.create_user("org", password=PASSWORD, is_staff=True)
    login = reverse("admin:login")
    for _ in range(3):
        answer = client.post(login, {"username": "org", "password": "wrong"}, REMOTE_ADDR="203.0.113.5")
    assert answer.status_code == 429 and not answer.context["across_addresses"]
    elsewhere = client.post(login, {"username": "org", "password": PASSWORD}, REMOTE_ADDR="198.51.100.5")
    assert elsewhere.status_code == 302


def test_add_totp_device_gives_a_staff_member_a_device_and_its_code(db):
    User.objects.create_user("org", password=PASSWORD, is_staff=True)
    out = io.StringIO()
    call_command("add_totp_device", "org", stdout=out)
    device = TOTPDevice.objects.get(user__username="org")
    assert device.confirmed and device.config_url in out.getvalue()
