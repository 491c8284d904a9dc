"""django-axes' records of staff log-ins (addresses, browsers) go with the other retention purges."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.utils import timezone

from petitions.tasks import purge_personal_data

pytestmark = pytest.mark.django_db


def _records(when, address):
    common = {"user_agent": "Firefox/140", "ip_address": address, "username": "steward", "path_info": "/admin/"}
    AccessAttempt.objects.create(get_data="", post_data="", failures_since_start=1, **common)
    AccessFailureLog.objects.create(**common)
    AccessLog.objects.create(**common)
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        model.objects.filter(ip_address=address).update(attempt_time=when)


def test_login_records_older_than_their_retention_are_purged_and_recent_ones_kept(settings):
    settings.STAFF_LOGIN_RETENTION_DAYS = 30
    _records(timezone.now() - timedelta(days=31), "203.0.113.7")
    _records(timezone.now() - timedelta(days=29), "203.0.113.8")

    assert purge_personal_data()["dropped_login_records"] == 3

    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        [kept] = model.objects.all()
        assert timezone.now() - kept.attempt_time < timedelta(days=30)
