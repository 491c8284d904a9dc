"""Faults on the way: a refusing mail server, a worker killed mid-batch, a flushed Redis. No letter lost or doubled."""

import os
import signal
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from petitions.models import Letter
from petitions.tasks import LETTER_REMINDER_GRACE_SECONDS, sweep_letters

from .conftest import make_senator, wait_until
from .letters import confirmed_letters
from .receivers import cwc_settings

pytestmark = pytest.mark.slow


def _delivered(count):
    return lambda: Letter.objects.filter(status=Letter.Status.DELIVERED).count() == count


def _sweep_until_delivered(count, timeout):
    """Run the periodic sweep, as beat would, until COUNT letters are delivered."""

    def swept():
        sweep_letters()
        return _delivered(count)()

    wait_until(swept, timeout=timeout, interval=1, message=f"{count} letters delivered")


def test_a_mail_server_refusing_for_a_while_then_accepting_gets_each_letter_once(petition, smtp_server, start_worker):
    senator = make_senator(channel="email", channel_settings={"address": "intake@ernst.test"})
    smtp_server.refuse("451 4.3.0 Try again later")
    start_worker(queues="letters", env={"LETTER_RETRY_BASE_SECONDS": 1})

    letters = confirmed_letters(petition, senator, 4)

    wait_until(
        lambda: Letter.objects.filter(attempts__gte=2, last_error__startswith="SMTP 451").count() == 4,
        timeout=30,
        message="every letter refused twice",
    )
    assert not Letter.objects.filter(status=Letter.Status.DELIVERED).exists()
    smtp_server.accept()

    wait_until(_delivered(4), timeout=60, message="4 letters delivered")
    received = Counter(m["X-Delivery-Id"] for m in smtp_server.messages if m["X-Delivery-Id"])
    assert received == {letter.delivery_id: 1 for letter in letters}


def test_a_worker_killed_mid_batch_loses_no_letter_and_doubles_none(petition, cwc_receiver, start_worker, settings):
    senator = make_senator(channel="cwc")
    cwc_receiver.delay = 0.3  # Slow enough for the kill to land in the middle of the batch.
    env = {**cwc_settings(cwc_receiver.endpoint), "CWC_RATE_LIMIT": 50, "LETTER_LEASE_SECONDS": 3}
    settings.LETTER_LEASE_SECONDS = 3
    worker = start_worker(queues="letters", concurrency=2, env=env)

    letters = confirmed_letters(petition, senator, 16)
    wait_until(lambda: len(cwc_receiver.accepted) >= 4, timeout=30, message="a few letters delivered")
    worker.kill()
    assert len(cwc_receiver.accepted) < 16, "the batch finished before the kill"
    killed_at = time.monotonic()

    start_worker(queues="letters", concurrency=2, env=env)
    _sweep_until_delivered(16, timeout=60)

    # Every letter reached CWC exactly once; a letter sent just as the worker died may be posted
    # again, and the receiver's 409 for its repeated DeliveryId keeps it from being doubled.
    assert dict(cwc_receiver.accepted) == {letter.delivery_id: 1 for letter in letters}
    reposted = [d for d, status, at in cwc_receiver.posts() if status == 409 and at > killed_at]
    assert len(reposted) <= 2  # At most the two letters in flight when the worker died.
    assert not Letter.objects.exclude(status=Letter.Status.DELIVERED).exists()


def _as_if_due_for(letters, seconds):
    """Make LETTERS look as if they had been due SECONDS already: the sweep's clock, not the test's."""
    Letter.objects.filter(pk__in=[letter.pk for letter in letters]).update(
        created_at=timezone.now() - timedelta(seconds=seconds)
    )


def test_letters_queued_when_redis_is_flushed_go_out_at_the_first_sweep_after_the_grace(
    petition, cwc_receiver, start_worker, settings
):
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs REDIS_URL: the embedded broker has no Redis to flush")
    import redis

    senator = make_senator(channel="cwc")
    letters = confirmed_letters(petition, senator, 5)  # Their reminders are in Redis now.
    redis.Redis.from_url(django_settings.CELERY_BROKER_URL).flushdb()

    start_worker(queues="letters", env={**cwc_settings(cwc_receiver.endpoint), "CWC_RATE_LIMIT": 50})
    time.sleep(2)
    assert not cwc_receiver.posts(), "the reminders survived the flush"
    assert set(Letter.objects.values_list("status", flat=True)) == {Letter.Status.QUEUED}

    # The lease (LETTER_LEASE_SECONDS, 300 s by default) plays no part: these letters were never claimed.
    _as_if_due_for(letters, LETTER_REMINDER_GRACE_SECONDS + 1)
    assert sweep_letters() == 5

    wait_until(_delivered(5), timeout=30, message="5 letters delivered after one sweep")
    assert dict(cwc_receiver.accepted) == {letter.delivery_id: 1 for letter in letters}


def test_letters_whose_reminder_died_with_a_worker_go_out_at_the_first_sweep_after_the_grace(
    petition, smtp_server, start_worker
):
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs REDIS_URL: a stopped worker holds a reminder only as a Redis client does")
    senator = make_senator(channel="email", channel_settings={"address": "intake@ernst.test"})
    doomed = start_worker(queues="letters")
    # Stopped while it waits for a message: Redis hands it the next reminder all the same, and it
    # dies before reading it. The reminder's key stays, so the next letters remind no one either.
    os.kill(doomed.process.pid, signal.SIGSTOP)
    letters = confirmed_letters(petition, senator, 3)
    time.sleep(1)
    doomed.kill()
    later = confirmed_letters(petition, senator, 5)[3:]
    start_worker(queues="letters")
    time.sleep(2)
    assert not smtp_server.messages, "a reminder survived the worker"

    _as_if_due_for(letters + later, LETTER_REMINDER_GRACE_SECONDS + 1)
    assert sweep_letters() == 8

    wait_until(_delivered(8), timeout=30, message="8 letters delivered after one sweep")
    received = Counter(m["X-Delivery-Id"] for m in smtp_server.messages if m["X-Delivery-Id"])
    assert received == {letter.delivery_id: 1 for letter in letters + later}
