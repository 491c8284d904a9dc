"""A confirmed signature's letters go out in one task, each still exactly once, with its own outcome."""

import asyncio
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from petitions import smtp
from petitions.delivery.email import EmailChannel
from petitions.models import Letter
from petitions.tasks import (
    LETTER_REMINDER_GRACE_SECONDS,
    LETTERS_REMINDED_KEY,
    LETTERS_REMINDED_SECONDS,
    deliver_due_letters,
    deliver_letter,
    deliver_letters,
    sweep_letters,
)

from .conftest import make_president, make_senator, purge_broker, wait_until
from .letters import confirmed_letters, confirmed_signature
from .queues import queued_tasks
from .receivers import cwc_settings
from .test_delivery_faults import _sweep_until_delivered

ADDRESSES = ("intake@ernst.test", "intake@grassley.test", "intake@whitehouse.test")


@pytest.fixture(autouse=True)
def _fresh_connection():
    """This process's kept SMTP connection starts and ends closed: each test's server is new."""
    smtp.kept.close()
    yield
    smtp.kept.close()


def _by_email():
    """Iowa's senators and the President, each taking letters at its own intake address."""
    return [
        make_senator("IA", 2, "Joni Ernst", "Ernst", channel="email", channel_settings={"address": ADDRESSES[0]}),
        make_senator(
            "IA", 3, "Chuck Grassley", "Grassley", channel="email", channel_settings={"address": ADDRESSES[1]}
        ),
        make_president(channel="email", channel_settings={"address": ADDRESSES[2]}),
    ]


def _refuse(smtp_server, address, reply):
    """Have the real server answer REPLY to RCPT TO:<ADDRESS> (while `refused` holds it), 250 to others."""
    refused = {address: reply}

    async def handle_RCPT(server, session, envelope, rcpt, options):  # noqa: N802 - aiosmtpd's hook name
        if rcpt in refused:
            return refused[rcpt]
        envelope.rcpt_tos.append(rcpt)
        return "250 OK"

    smtp_server.handler.handle_RCPT = handle_RCPT
    return refused


def _slow_rcpt(smtp_server, seconds):
    """Have the real server take SECONDS over each recipient, so tasks overlap; nothing is accepted yet."""

    async def handle_RCPT(server, session, envelope, rcpt, options):  # noqa: N802 - aiosmtpd's hook name
        await asyncio.sleep(seconds)
        envelope.rcpt_tos.append(rcpt)
        return "250 OK"

    smtp_server.handler.handle_RCPT = handle_RCPT


def _received(smtp_server):
    return Counter(m["X-Delivery-Id"] for m in smtp_server.messages if m["X-Delivery-Id"])


def _delivered(count):
    return lambda: Letter.objects.filter(status=Letter.Status.DELIVERED).count() == count


def _status(letter):
    letter.refresh_from_db()
    return letter.status


# --- In this process: what one task does with its batch ------------------------------------------


def test_a_batch_of_three_is_claimed_and_read_once_and_each_letter_recorded_on_its_own(
    petition, smtp_server, django_assert_num_queries
):
    letters = list(confirmed_signature(petition, _by_email()).letters.order_by("recipient_id"))

    # One UPDATE claims the three, one SELECT reads them, one UPDATE per letter records it.
    with django_assert_num_queries(2 + 3):
        deliver_letters([letter.pk for letter in letters])

    assert [_status(letter) for letter in letters] == [Letter.Status.DELIVERED] * 3
    assert _received(smtp_server) == {letter.delivery_id: 1 for letter in letters}
    assert sorted(str(m["To"]) for m in smtp_server.messages) == sorted(ADDRESSES)


def test_a_temporary_refusal_of_one_recipient_leaves_only_that_letter_queued_for_a_retry(petition, smtp_server):
    ernst, grassley, president = letters = list(
        confirmed_signature(petition, _by_email()).letters.order_by("recipient_id")
    )
    _refuse(smtp_server, ADDRESSES[1], "451 4.2.1 Mailbox busy, try later")
    purge_broker()

    deliver_letters([letter.pk for letter in letters])

    assert [_status(letter) for letter in letters] == ["delivered", "queued", "delivered"]
    assert (grassley.attempts, grassley.next_attempt_at is not None) == (1, True)
    assert "451" in grassley.last_error
    assert _received(smtp_server) == {ernst.delivery_id: 1, president.delivery_id: 1}
    # Only the refused letter is reminded, on its own, for its retry.
    assert queued_tasks("letters") == [("petitions.tasks.deliver_letter", (grassley.pk,))]


def test_a_permanent_refusal_of_one_recipient_fails_only_that_letter(petition, smtp_server):
    letters = list(confirmed_signature(petition, _by_email()).letters.order_by("recipient_id"))
    _refuse(smtp_server, ADDRESSES[0], "550 5.1.1 No such mailbox")
    purge_broker()

    deliver_letters([letter.pk for letter in letters])

    assert [_status(letter) for letter in letters] == ["failed", "delivered", "delivered"]
    assert letters[0].last_error.startswith("SMTP recipients refused") and "550" in letters[0].last_error
    assert len(smtp_server.messages) == 2
    assert queued_tasks("letters") == []


def test_a_channel_crash_or_a_broken_setting_on_one_letter_does_not_stop_the_others(petition, smtp_server, monkeypatch):
    recipients = _by_email()
    first, second, third = letters = list(confirmed_signature(petition, recipients).letters.order_by("recipient_id"))
    recipients[2].channel_settings = {}  # Organizers broke the President's address after the letters were queued.
    recipients[2].save()
    send = EmailChannel.send

    def crash_on_the_first(channel, letter):
        if letter.pk == first.pk:
            raise RuntimeError("a bug in the channel")
        return send(channel, letter)

    monkeypatch.setattr(EmailChannel, "send", crash_on_the_first)

    deliver_letters([letter.pk for letter in letters])

    assert [_status(letter) for letter in letters] == ["queued", "delivered", "needs_action"]
    assert first.last_error == "RuntimeError: a bug in the channel"
    assert "intake e-mail address" in third.last_error
    assert _received(smtp_server) == {second.delivery_id: 1}


def test_the_same_batch_run_again_sends_nothing_twice(petition, smtp_server):
    letters = list(confirmed_signature(petition, _by_email()).letters.order_by("recipient_id"))
    ids = [letter.pk for letter in letters]

    deliver_letters(ids)
    deliver_letters(ids)
    deliver_letter(ids[0])

    assert _received(smtp_server) == {letter.delivery_id: 1 for letter in letters}
    assert set(Letter.objects.values_list("attempts", flat=True)) == {1}


def test_a_batch_past_half_its_lease_hands_its_untried_letters_back_uncounted(petition, http_receiver, settings):
    settings.LETTER_LEASE_SECONDS = 2
    slow = http_receiver.handle

    def one_second_each(request, body):
        time.sleep(1.1)  # Past half the lease after the first letter.
        return slow(request, body)

    http_receiver.handle = one_second_each
    recipients = [
        make_senator("IA", 2, channel="http", channel_settings={"url": http_receiver.url}),
        make_senator(
            "IA", 3, "Chuck Grassley", "Grassley", channel="http", channel_settings={"url": http_receiver.url}
        ),
        make_president(channel="http", channel_settings={"url": http_receiver.url}),
    ]
    first, *rest = letters = list(confirmed_signature(petition, recipients).letters.order_by("pk"))
    purge_broker()

    deliver_letters([letter.pk for letter in letters])

    assert [_status(letter) for letter in letters] == ["delivered", "queued", "queued"]
    assert [(letter.attempts, letter.lease_until) for letter in rest] == [(0, None), (0, None)]
    assert len(http_receiver.received) == 1
    assert queued_tasks("letters") == [("petitions.tasks.deliver_letters", ([letter.pk for letter in rest],))]


# --- Reminders: a worker asks the database which letters are due ---------------------------------


def test_confirmations_remind_a_worker_once_until_it_starts_looking(
    petition, smtp_server, django_assert_num_queries, django_capture_on_commit_callbacks
):
    recipients = _by_email()
    purge_broker()
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            confirmed_signature(petition, recipients)
    assert queued_tasks("letters") == [("petitions.tasks.deliver_due_letters", ())]

    # The worker takes the nine in one batch: two looks (by channel), one claim, one read, an outcome each.
    with django_assert_num_queries(4 + 9):
        deliver_due_letters()
    assert _received(smtp_server) == {letter.delivery_id: 1 for letter in Letter.objects.all()}
    assert queued_tasks("letters") == []

    # The worker forgot the reminder before it looked: the next confirmation reminds it again.
    with django_capture_on_commit_callbacks(execute=True):
        signature = confirmed_signature(petition, recipients)
    assert queued_tasks("letters") == [("petitions.tasks.deliver_due_letters", ())]
    deliver_due_letters()
    deliver_due_letters()  # a second reminder finds nothing left to send
    assert _received(smtp_server) == {letter.delivery_id: 1 for letter in Letter.objects.all()}
    assert set(signature.letters.values_list("status", flat=True)) == {Letter.Status.DELIVERED}


def test_a_backlog_goes_out_twenty_a_claim_and_a_full_batch_asks_another_process_to_help(
    petition, smtp_server, django_assert_num_queries
):
    senator = make_senator(channel="email", channel_settings={"address": ADDRESSES[0]})
    for _ in range(25):
        confirmed_signature(petition, [senator])
    purge_broker()

    # Twenty, then five: each batch two looks, one claim and one read, then an outcome per letter.
    with django_assert_num_queries(4 + 20 + 4 + 5):
        deliver_due_letters()

    assert _received(smtp_server) == {letter.delivery_id: 1 for letter in Letter.objects.all()}
    assert queued_tasks("letters") == [("petitions.tasks.deliver_due_letters", ())]


def test_letters_not_due_are_left_alone_and_cost_a_look_per_channel_kind(
    petition, smtp_server, django_assert_num_queries, settings
):
    senator = make_senator(channel="email", channel_settings={"address": ADDRESSES[0]})
    for _ in range(25):
        confirmed_signature(petition, [senator])
    letters = list(Letter.objects.order_by("pk"))
    now = timezone.now()
    waiting, organizers, claimed, gave_up = letters[:5], letters[5:10], letters[10:15], letters[15:]
    Letter.objects.filter(pk__in=[x.pk for x in waiting]).update(next_attempt_at=now + timedelta(minutes=5))
    Letter.objects.filter(pk__in=[x.pk for x in organizers]).update(status=Letter.Status.NEEDS_ACTION)
    Letter.objects.filter(pk__in=[x.pk for x in claimed]).update(
        status=Letter.Status.SENDING, lease_until=now + timedelta(minutes=5), attempts=1
    )
    # Stuck in sending with their lease lapsed, but out of attempts: the sweeper fails them.
    Letter.objects.filter(pk__in=[x.pk for x in gave_up]).update(
        status=Letter.Status.SENDING, lease_until=now - timedelta(minutes=5), attempts=settings.LETTER_MAX_ATTEMPTS
    )
    purge_broker()

    with django_assert_num_queries(2):
        deliver_due_letters()

    assert smtp_server.messages == []
    assert queued_tasks("letters") == []


# --- Real workers -----------------------------------------------------------------------------


@pytest.mark.slow
def test_a_confirmation_to_three_recipients_sends_its_three_letters_through_one_task(
    petition, smtp_server, start_worker
):
    worker = start_worker(queues="letters")

    signature = confirmed_signature(petition, _by_email())

    wait_until(_delivered(3), timeout=30, message="3 letters delivered")
    wait_until(lambda: "succeeded" in worker.output(), timeout=10, message="the task's end in the worker's log")
    assert _received(smtp_server) == {letter.delivery_id: 1 for letter in signature.letters.all()}
    log = worker.output()
    assert log.count("Task petitions.tasks.deliver_due_letters[") == 2  # Received, succeeded.
    assert "petitions.tasks.deliver_letter[" not in log
    assert "petitions.tasks.deliver_letters[" not in log


@pytest.mark.slow
def test_two_workers_draining_a_backlog_by_reminders_send_each_letter_once(petition, smtp_server, start_worker):
    _slow_rcpt(smtp_server, 0.01)
    recipients = _by_email()
    for _ in range(30):
        confirmed_signature(petition, recipients)
    purge_broker()  # Their reminder: the workers below get theirs all at once.
    start_worker(queues="letters", concurrency=2)
    start_worker(queues="letters", concurrency=2)

    for _ in range(4):  # As many messages as processes, so all four look for due letters at once.
        deliver_due_letters.delay()

    wait_until(_delivered(90), timeout=90, message="90 letters delivered")
    time.sleep(1)  # Let any reminder left run: none of them may send anything more.
    assert _received(smtp_server) == {letter.delivery_id: 1 for letter in Letter.objects.all()}
    # A process that lost a claim to another did not count it as an attempt.
    assert set(Letter.objects.values_list("attempts", flat=True)) == {1}


@pytest.mark.slow
def test_the_same_batches_delivered_at_once_by_two_workers_send_each_letter_once(petition, smtp_server, start_worker):
    _slow_rcpt(smtp_server, 0.1)
    start_worker(queues="letters", concurrency=2)
    start_worker(queues="letters", concurrency=2)
    recipients = _by_email()

    batches = []
    for _ in range(4):
        ids = list(confirmed_signature(petition, recipients).letters.values_list("pk", flat=True))
        batches.append(ids)
        for _ in range(3):  # Three more reminders of the whole batch, as a redelivered message would be.
            deliver_letters.delay(ids)
        deliver_letter.delay(ids[0])  # And one letter's own, as a retry's would be.

    wait_until(_delivered(12), timeout=60, message="12 letters delivered")
    time.sleep(1)  # Let the last reminders run: none of them may send anything more.
    assert _received(smtp_server) == {letter.delivery_id: 1 for letter in Letter.objects.all()}
    assert set(Letter.objects.values_list("attempts", flat=True)) == {1}


@pytest.mark.slow
def test_one_recipient_refusing_for_a_while_delays_only_its_letters_and_each_arrives_once(
    petition, smtp_server, start_worker
):
    refused = _refuse(smtp_server, ADDRESSES[1], "451 4.2.1 Mailbox busy, try later")
    start_worker(queues="letters", env={"LETTER_RETRY_BASE_SECONDS": 1})
    recipients = _by_email()

    signatures = [confirmed_signature(petition, recipients) for _ in range(2)]

    to_grassley = Letter.objects.filter(recipient=recipients[1])
    wait_until(
        lambda: to_grassley.filter(attempts__gte=2, status=Letter.Status.QUEUED).count() == 2,
        timeout=30,
        message="both letters to Grassley refused twice",
    )
    others = Letter.objects.exclude(recipient=recipients[1])
    assert set(others.values_list("status", "attempts")) == {(Letter.Status.DELIVERED, 1)}
    refused.clear()

    wait_until(_delivered(6), timeout=60, message="6 letters delivered")
    assert _received(smtp_server) == {letter.delivery_id: 1 for s in signatures for letter in s.letters.all()}


@pytest.mark.slow
def test_a_worker_killed_mid_batch_loses_no_letter_and_sends_none_twice(petition, cwc_receiver, start_worker, settings):
    recipients = [
        make_senator("IA", 2, channel="cwc"),
        make_senator("IA", 3, "Chuck Grassley", "Grassley", channel="cwc"),
        make_senator("OH", 1, "Bernie Moreno", "Moreno", channel="cwc"),
    ]
    cwc_receiver.delay = 0.3  # Slow enough for the kill to land in the middle of a batch.
    env = {**cwc_settings(cwc_receiver.endpoint), "CWC_RATE_LIMIT": 50, "LETTER_LEASE_SECONDS": 3}
    settings.LETTER_LEASE_SECONDS = 3
    worker = start_worker(queues="letters", concurrency=2, env=env)

    for _ in range(6):
        confirmed_signature(petition, recipients)
    wait_until(lambda: len(cwc_receiver.accepted) >= 4, timeout=30, message="a few letters delivered")
    worker.kill()
    assert len(cwc_receiver.accepted) < 18, "the batches finished before the kill"
    assert Letter.objects.filter(status=Letter.Status.SENDING).exists(), "no batch was cut off"
    killed_at = time.monotonic()

    start_worker(queues="letters", concurrency=2, env=env)
    _sweep_until_delivered(18, timeout=60)

    # Every letter reached CWC exactly once; a letter being sent as the worker died may be posted
    # again, and the receiver's 409 for its repeated DeliveryId keeps it from being doubled.
    assert dict(cwc_receiver.accepted) == {letter.delivery_id: 1 for letter in Letter.objects.all()}
    reposted = [d for d, status, at in cwc_receiver.posts() if status == 409 and at > killed_at]
    assert len(reposted) <= 2  # At most one letter in flight in each of the two processes.
    assert not Letter.objects.exclude(status=Letter.Status.DELIVERED).exists()


def test_the_sweeper_reminds_a_worker_of_overdue_letters_whatever_the_reminders_key_says(petition, settings):
    senator = make_senator(channel="email", channel_settings={"address": ADDRESSES[0]})
    for _ in range(25):
        confirmed_signature(petition, [senator])
    purge_broker()
    # Their reminder is lost, and its key says a worker has it: as when that worker died holding it.
    cache.set(LETTERS_REMINDED_KEY, 1, LETTERS_REMINDED_SECONDS)
    assert sweep_letters() == 0  # Due only a moment ago: the reminder is most likely on its way.

    Letter.objects.update(created_at=timezone.now() - timedelta(seconds=LETTER_REMINDER_GRACE_SECONDS + 1))

    assert sweep_letters() == 25
    # One reminder: the worker that takes it asks others to help with a backlog.
    assert queued_tasks("letters") == [("petitions.tasks.deliver_due_letters", ())]


@pytest.mark.slow
def test_e_mail_letters_go_out_at_once_while_cwc_works_off_a_backlog_at_its_rate_limit(
    petition, smtp_server, cwc_receiver, start_worker
):
    moreno = make_senator("OH", 1, "Bernie Moreno", "Moreno", channel="cwc")
    cwc_letters = confirmed_letters(petition, moreno, 60)  # Twelve seconds' worth at 5 a second.
    # Two processes, as a small host runs: before letters were claimed by channel, both held twenty
    # CWC letters each, waiting for CWC's turns, and the e-mail letters behind them waited too.
    start_worker(queues="letters", concurrency=2, env={**cwc_settings(cwc_receiver.endpoint), "CWC_RATE_LIMIT": 5})
    wait_until(lambda: len(cwc_receiver.accepted) >= 5, timeout=30, message="CWC at work")

    signatures = [confirmed_signature(petition, _by_email()) for _ in range(2)]

    by_email = Letter.objects.filter(signature__in=signatures)
    wait_until(
        lambda: by_email.filter(status=Letter.Status.DELIVERED).count() == 6, timeout=60, message="6 e-mail letters"
    )
    cwc_done = Letter.objects.filter(pk__in=[x.pk for x in cwc_letters], status=Letter.Status.DELIVERED).count()
    assert cwc_done < 40, "the e-mail letters waited for the CWC backlog"
    assert _received(smtp_server) == {letter.delivery_id: 1 for letter in by_email}

    wait_until(_delivered(66), timeout=60, message="the CWC backlog delivered")
    assert dict(cwc_receiver.accepted) == {letter.delivery_id: 1 for letter in cwc_letters}
    # No letter was tried twice: a letter held back for CWC's next turn is not an attempt.
    assert set(Letter.objects.values_list("attempts", flat=True)) == {1}
    # At most five letters began in any one second, across both processes.
    starts = [at for _id, _status, at in cwc_receiver.posts()]
    assert max(sum(1 for t in starts if s <= t < s + 1) for s in starts) <= 2 * 5
