"""The sign form's start stamp: each signs once, and a form open too long is sent back to be sent again."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from petitions.models import Signature
from petitions.signing import abuse

from .conftest import sign_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def stamps(settings):
    settings.SIGN_MIN_SECONDS = 3
    settings.SIGN_FORM_MAX_SECONDS = 3600
    cache.clear()


def _post(petition, stamp, **fields):
    return Client().post(reverse("petitions:detail", args=[petition.slug]), sign_data(form_started=stamp, **fields))


def _fetched_stamp(petition):
    return Client().get(reverse("petitions:form-token", args=[petition.slug])).json()["form_started"]


def test_a_stamp_signs_once_and_a_second_signature_with_it_is_quarantined(petition, recipients, stamps):
    stamp = _fetched_stamp(petition)
    with time_machine.travel(timezone.now() + timedelta(seconds=20)):
        assert _post(petition, stamp, email="first@example.org").status_code == 302
        # A bot posting again and again with the stamp it fetched once gets the same answer.
        for n in range(3):
            assert _post(petition, stamp, email=f"bot{n}@example.org").status_code == 302

    first = Signature.objects.get(email="first@example.org")
    assert (first.status, first.quarantine_reason) == (Signature.Status.PENDING, "")
    reused = Signature.objects.exclude(pk=first.pk)
    assert reused.count() == 3
    assert set(reused.values_list("status", "quarantine_reason")) == {
        (Signature.Status.QUARANTINED, abuse.Reason.REUSED_STAMP)
    }


def test_a_double_click_sends_one_stamp_twice_and_makes_one_pending_signature(petition, recipients, stamps):
    stamp = _fetched_stamp(petition)
    with time_machine.travel(timezone.now() + timedelta(seconds=20)):
        assert _post(petition, stamp).status_code == _post(petition, stamp).status_code == 302

    signature = Signature.objects.get()
    assert (signature.status, signature.quarantine_reason) == (Signature.Status.PENDING, "")


def test_a_form_open_too_long_comes_back_with_a_new_stamp_and_saves_nothing(petition, recipients, stamps):
    stamp = _fetched_stamp(petition)
    with time_machine.travel(timezone.now() + timedelta(seconds=3601)):
        response = _post(petition, stamp)
        assert response.status_code == 400
        page = response.content.decode()
        # The default language is Belarusian; the message comes back translated.
        assert "Гэтая форма была адкрытая вельмі доўга. Праверце яе і адпраўце яшчэ раз." in page
        assert Signature.objects.count() == 0
        new_stamp = re.search(r'name="form_started" value="([^"]+)"', page).group(1)
        assert new_stamp != stamp
        assert _post(petition, new_stamp).status_code == 302

    signature = Signature.objects.get()
    assert (signature.status, signature.quarantine_reason) == (Signature.Status.PENDING, "")


def test_a_stamp_signs_once_with_the_rate_limits_switched_off(petition, recipients, stamps, settings):
    # The nonce is marked in the limits' round trip, but it is not a limit: it holds without them.
    settings.RATELIMIT_ENABLE = False
    stamp = _fetched_stamp(petition)
    with time_machine.travel(timezone.now() + timedelta(seconds=20)):
        assert _post(petition, stamp, email="first@example.org").status_code == 302
        assert _post(petition, stamp, email="second@example.org").status_code == 302

    statuses = dict(Signature.objects.values_list("email", "quarantine_reason"))
    assert statuses == {"first@example.org": "", "second@example.org": abuse.Reason.REUSED_STAMP}
