"""The confirmation e-mails, sent in batches by their task to a real SMTP server on loopback."""

import os
import re
import smtplib
import threading
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from petitions import tasks
from petitions.models import Signature
from petitions.tasks import send_confirmations, sweep_confirmations

from .catalogue import in_language
from .conftest import make_petition, purge_broker, sign_data
from .queues import queued_tasks

pytestmark = pytest.mark.django_db


def _pending(client, petition, capture, language="en", execute=False, **overrides):
    with translation.override(language):
        url = reverse("petitions:detail", args=[petition.slug])
    with capture(execute=execute):
        assert client.post(url, sign_data(**overrides)).status_code == 302
    return Signature.objects.get(email_normalized=overrides.get("email", "ada@example.org").lower())


def _parts(message):
    return message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()


def _confirm_link(text, language):
    return re.search(rf"{re.escape(settings.SITE_URL)}/{language}/confirm/[^/\s]+/", text).group(0)


@pytest.mark.parametrize("language", ["be", "en"])
def test_the_confirmation_is_sent_in_the_signers_language_as_text_and_html(
    client, petition, recipients, smtp_server, django_capture_on_commit_callbacks, language
):
    signature = _pending(client, petition, django_capture_on_commit_callbacks, language)

    send_confirmations()

    [message] = smtp_server.messages
    assert message["To"] == "ada@example.org"
    title = getattr(petition, f"title_{language}")
    assert title in message["Subject"]
    text, html = _parts(message)
    link = _confirm_link(text, language)
    assert f'href="{link}"' in html
    assert f'<html lang="{language}">' in html
    assert title in text
    signature.refresh_from_db()
    assert signature.confirmation_sent_at is not None
    assert signature.confirmation_lease_until is None
    expected_subject = in_language(language, "Confirm your signature: %(title)s") % {"title": title}
    assert str(message["Subject"]).strip() == expected_subject


def test_the_link_in_the_email_opens_the_button_and_confirms(
    client, petition, recipients, smtp_server, django_capture_on_commit_callbacks
):
    _pending(client, petition, django_capture_on_commit_callbacks, "be")
    send_confirmations()
    path = urlsplit(_confirm_link(_parts(smtp_server.messages[0])[0], "be")).path

    assert client.get(path).status_code == 200
    assert Signature.objects.get().status == Signature.Status.PENDING
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(path, {"recipients": [str(r.pk) for r in recipients]})
    assert response.status_code == 302
    assert Signature.objects.get().status == Signature.Status.CONFIRMED


def test_one_task_sends_every_waiting_confirmation_once_each_in_its_signers_language(
    client, petition, recipients, smtp_server, django_capture_on_commit_callbacks
):
    count = 2 * tasks.CONFIRMATION_BATCH_SIZE + 3
    for n in range(count):
        _pending(client, petition, django_capture_on_commit_callbacks, ("be", "en")[n % 2], email=f"s{n}@example.org")

    send_confirmations()
    send_confirmations()  # a second reminder finds nothing left to send

    messages = smtp_server.messages
    assert sorted(m["To"] for m in messages) == sorted(f"s{n}@example.org" for n in range(count))
    for message in messages:
        n = int(message["To"][1:].split("@")[0])
        assert f'<html lang="{("be", "en")[n % 2]}">' in _parts(message)[1]
    assert not Signature.objects.filter(confirmation_sent_at__isnull=True).exists()
    assert not Signature.objects.confirmations_due().exists()


@pytest.mark.parametrize(
    "status", [Signature.Status.CONFIRMED, Signature.Status.WITHDRAWN, Signature.Status.QUARANTINED]
)
def test_nothing_is_sent_for_a_signature_that_is_no_longer_pending(
    client, petition, recipients, smtp_server, django_capture_on_commit_callbacks, status
):
    signature = _pending(client, petition, django_capture_on_commit_callbacks)
    Signature.objects.filter(pk=signature.pk).update(status=status)

    send_confirmations()

    assert smtp_server.messages == []
    assert Signature.objects.get().confirmation_sent_at is None


def test_a_confirmation_another_worker_holds_is_left_to_it_until_its_claim_lapses(
    client, petition, recipients, smtp_server, django_capture_on_commit_callbacks
):
    signature = _pending(client, petition, django_capture_on_commit_callbacks)
    held = timezone.now() + timedelta(seconds=tasks.CONFIRMATION_LEASE_SECONDS)
    Signature.objects.filter(pk=signature.pk).update(confirmation_lease_until=held)

    send_confirmations()
    assert smtp_server.messages == []

    # That worker died: once its claim has lapsed, the next reminder sends the link.
    Signature.objects.filter(pk=signature.pk).update(confirmation_lease_until=timezone.now() - timedelta(seconds=1))
    send_confirmations()
    assert len(smtp_server.messages) == 1


def test_a_link_too_old_to_work_is_not_sent(
    client, petition, recipients, smtp_server, django_capture_on_commit_callbacks
):
    signature = _pending(client, petition, django_capture_on_commit_callbacks)
    Signature.objects.filter(pk=signature.pk).update(
        created_at=timezone.now() - timedelta(days=settings.CONFIRMATION_MAX_AGE_DAYS, seconds=1)
    )
    send_confirmations()
    assert smtp_server.messages == []


def test_a_temporary_smtp_refusal_waits_in_the_database_and_the_sweeper_sends_it_later(
    client, petition, recipients, smtp_server, django_capture_on_commit_callbacks, settings
):
    settings.CONFIRMATION_SWEEP_GRACE_SECONDS = 0
    first = _pending(client, petition, django_capture_on_commit_callbacks, email="first@example.org")
    second = _pending(client, petition, django_capture_on_commit_callbacks, email="second@example.org")
    purge_broker()
    smtp_server.refuse("451 4.3.0 Try again later")

    send_confirmations()

    # No retry waits in the broker: both signatures wait in the database, for about a minute.
    assert queued_tasks("mail") == []
    assert smtp_server.messages == []
    for signature in Signature.objects.filter(pk__in=[first.pk, second.pk]):
        assert signature.confirmation_sent_at is None
        wait = signature.confirmation_lease_until - timezone.now()
        assert (
            timedelta(seconds=settings.CONFIRMATION_RETRY_SECONDS - 5)
            < wait
            <= timedelta(seconds=settings.CONFIRMATION_RETRY_SECONDS)
        )
    smtp_server.accept()
    assert sweep_confirmations() == 0  # not due yet: the mail server is not asked again at once
    assert queued_tasks("mail") == []

    Signature.objects.update(confirmation_lease_until=timezone.now() - timedelta(seconds=1))
    assert sweep_confirmations() == 2
    assert queued_tasks("mail") == [("petitions.tasks.send_confirmations", ())]
    send_confirmations()
    assert sorted(m["To"] for m in smtp_server.messages) == ["first@example.org", "second@example.org"]


def test_a_permanent_smtp_refusal_is_raised_and_that_signature_is_not_tried_again_soon(
    client, petition, recipients, smtp_server, django_capture_on_commit_callbacks
):
    signature = _pending(client, petition, django_capture_on_commit_callbacks)
    purge_broker()
    smtp_server.refuse("554 5.7.1 Rejected")

    with pytest.raises(smtplib.SMTPDataError):
        send_confirmations()

    assert queued_tasks("mail") == []
    signature.refresh_from_db()
    assert signature.confirmation_sent_at is None
    assert signature.confirmation_lease_until > timezone.now() + timedelta(
        seconds=tasks.CONFIRMATION_FAILED_RETRY_SECONDS - 60
    )
    smtp_server.accept()
    send_confirmations()
    assert smtp_server.messages == []


def test_signers_remind_a_worker_once_until_it_starts_looking(
    client, petition, recipients, django_capture_on_commit_callbacks, smtp_server
):
    purge_broker()
    _pending(client, petition, django_capture_on_commit_callbacks, execute=True, email="one@example.org")
    _pending(client, petition, django_capture_on_commit_callbacks, execute=True, email="two@example.org")
    assert queued_tasks("mail") == [("petitions.tasks.send_confirmations", ())]

    send_confirmations()
    assert len(smtp_server.messages) == 2

    # The worker forgot the reminder before it looked: the next signer reminds it again.
    _pending(client, petition, django_capture_on_commit_callbacks, execute=True, email="three@example.org")
    assert queued_tasks("mail") == [("petitions.tasks.send_confirmations", ())]


def test_html_in_a_name_is_escaped_in_the_html_part_and_kept_in_the_text(
    client, petition, recipients, smtp_server, django_capture_on_commit_callbacks
):
    _pending(client, petition, django_capture_on_commit_callbacks, first_name="<b>Ada</b> & Co")

    send_confirmations()

    text, html = _parts(smtp_server.messages[0])
    assert "<b>Ada</b>" not in html
    assert "&lt;b&gt;Ada&lt;/b&gt; &amp; Co" in html
    assert "<b>Ada</b> & Co" in text


def test_the_subject_shows_the_title_as_written_not_html_escaped(
    client, recipients, smtp_server, django_capture_on_commit_callbacks
):
    petition = make_petition(title_en='Free Belarus\'s "prisoners" & journalists')
    _pending(client, petition, django_capture_on_commit_callbacks)

    send_confirmations()

    assert str(smtp_server.messages[0]["Subject"]).endswith('Free Belarus\'s "prisoners" & journalists')


def test_a_signer_who_commits_while_a_worker_sends_reminds_it_again(
    client, petition, recipients, django_capture_on_commit_callbacks, smtp_server
):
    purge_broker()
    _pending(client, petition, django_capture_on_commit_callbacks, execute=True, email="one@example.org")
    assert queued_tasks("mail") == [("petitions.tasks.send_confirmations", ())]
    handle_data = smtp_server.handler.handle_DATA

    async def another_signer_commits_meanwhile(server, session, envelope):
        # Past the worker's look for due signatures: only a new reminder gets this one sent.
        tasks.remind_confirmations()
        return await handle_data(server, session, envelope)

    smtp_server.handler.handle_DATA = another_signer_commits_meanwhile
    send_confirmations()

    assert len(smtp_server.messages) == 1
    assert queued_tasks("mail") == [("petitions.tasks.send_confirmations", ())]


# --- Holding confirmations back while the web is short of CPU -----------------------------------


def _pressure_line(avg10, total):
    """A control group's cpu.pressure as the kernel writes it."""
    return (
        f"some avg10={avg10:.2f} avg60=31.40 avg300=8.02 total={int(total)}\n"
        "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
    )


class LivePressure(threading.Thread):
    """The web's cpu.pressure file, kept up to date as the kernel keeps it: its stall counter grows by
    SHARE percent of the time that passes, and its ten-second average reads AVERAGE (SHARE unless said)."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path, self.share, self.average = path, 0, 0
        self.total, self.since = 183_922_516, time.monotonic()
        self.lock, self.stopped = threading.Lock(), threading.Event()
        self.write()

    def set(self, share, average=None):
        with self.lock:
            self.total, self.since = self.stalled(), time.monotonic()
            self.share, self.average = share, share if average is None else average
        self.write()

    def stalled(self):
        return self.total + (time.monotonic() - self.since) * 1e6 * self.share / 100

    def write(self):
        # Whole or not at all, as a reader of the kernel's file sees it; one writer at a time.
        with self.lock:
            partial = self.path.with_suffix(".new")
            partial.write_text(_pressure_line(self.average, self.stalled()))
            partial.replace(self.path)

    def run(self):
        # time.sleep rather than Event.wait's timeout, which never returns under libfaketime
        # (`make test-clocks` runs the suite there).
        while not self.stopped.is_set():
            time.sleep(0.005)
            self.write()


@pytest.fixture
def web_pressure(settings, tmp_path):
    """The web's cpu.pressure file, at first with no pressure; call it with a percentage to change it."""
    live = LivePressure(tmp_path / "cpu.pressure")
    settings.WEB_CPU_PRESSURE_FILE = str(live.path)
    settings.WEB_CPU_PRESSURE_LIMIT = 60
    live.start()
    yield live.set
    live.stopped.set()
    live.join()


def test_confirmations_wait_while_the_web_is_short_of_cpu_and_go_once_it_is_not(
    client, petition, recipients, smtp_server, django_capture_on_commit_callbacks, web_pressure
):
    signature = _pending(client, petition, django_capture_on_commit_callbacks)
    purge_broker()
    web_pressure(85)

    send_confirmations()

    assert smtp_server.messages == []
    assert Signature.objects.confirmations_due().get() == signature
    # One look again, in a moment; meanwhile a signer has nothing to enqueue.
    looks = queued_tasks("mail", with_kwargs=True)
    assert looks == [("petitions.tasks.send_confirmations", (), {"held": True})]
    tasks.remind_confirmations()
    assert queued_tasks("mail") == []

    send_confirmations(held=True)  # still short: that look queues the next one
    assert smtp_server.messages == []
    assert queued_tasks("mail", with_kwargs=True) == looks

    web_pressure(59.99)
    send_confirmations(held=True)
    [message] = smtp_server.messages
    assert message["To"] == "ada@example.org"
    assert queued_tasks("mail") == []
    # The look is over: the next signer reminds a worker again.
    _pending(client, petition, django_capture_on_commit_callbacks, execute=True, email="next@example.org")
    assert queued_tasks("mail") == [("petitions.tasks.send_confirmations", ())]


def test_many_reminders_while_held_queue_one_look(
    client, petition, recipients, smtp_server, django_capture_on_commit_callbacks, web_pressure, settings
):
    settings.CONFIRMATION_SWEEP_GRACE_SECONDS = 0
    _pending(client, petition, django_capture_on_commit_callbacks)
    purge_broker()
    web_pressure(90)

    for _reminder in range(3):
        send_confirmations()
    # Beat's sweep finds the signature due and reminds a worker regardless.
    assert sweep_confirmations() == 1
    queued = queued_tasks("mail", with_kwargs=True)
    assert [kwargs for _name, _args, kwargs in queued] == [{"held": True}, {}]
    send_confirmations()  # the sweep's reminder, taken by a worker

    assert smtp_server.messages == []
    assert queued_tasks("mail") == []  # the first look is still the only one on its way


def test_a_confirmation_held_for_the_longest_wait_goes_even_while_the_web_is_short(
    client, petition, recipients, smtp_server, django_capture_on_commit_callbacks, web_pressure, settings
):
    settings.CONFIRMATION_MAX_HOLD_SECONDS = 120
    old = _pending(client, petition, django_capture_on_commit_callbacks, email="old@example.org")
    _pending(client, petition, django_capture_on_commit_callbacks, email="new@example.org")
    Signature.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(seconds=121))
    purge_broker()
    web_pressure(95)

    send_confirmations()

    # Once the longest-waiting one has waited too long, the batch takes it and whatever is due with it.
    assert sorted(m["To"] for m in smtp_server.messages) == ["new@example.org", "old@example.org"]
    assert queued_tasks("mail") == []


def test_confirmations_go_once_the_web_is_quiet_though_its_ten_second_average_is_still_high(
    client, petition, recipients, smtp_server, django_capture_on_commit_callbacks, settings, tmp_path
):
    # A surge has just ended: the average still reads 85 %, but nothing of the web's waits now.
    path = tmp_path / "cpu.pressure"
    path.write_text(_pressure_line(85, 183_922_516))
    settings.WEB_CPU_PRESSURE_FILE = str(path)
    settings.WEB_CPU_PRESSURE_LIMIT = 60
    _pending(client, petition, django_capture_on_commit_callbacks)
    purge_broker()

    send_confirmations()

    assert len(smtp_server.messages) == 1
    assert queued_tasks("mail") == []


def test_a_moment_of_pressure_under_a_low_average_holds_nothing_back(
    client, petition, recipients, smtp_server, django_capture_on_commit_callbacks, web_pressure
):
    web_pressure(95, average=30)  # the web's first busy moment after a quiet spell
    _pending(client, petition, django_capture_on_commit_callbacks)
    purge_broker()

    send_confirmations()

    assert len(smtp_server.messages) == 1


@pytest.mark.parametrize("content", [None, "", "full avg10=90.00 avg60=0 avg300=0 total=0\n", "some avg10=lots\n"])
def test_a_pressure_file_that_cannot_be_read_holds_nothing_back_and_says_so(
    client, petition, recipients, smtp_server, django_capture_on_commit_callbacks, settings, tmp_path, caplog, content
):
    path = tmp_path / "cpu.pressure"
    if content is not None:
        path.write_text(content)
    settings.WEB_CPU_PRESSURE_FILE = str(path)
    _pending(client, petition, django_capture_on_commit_callbacks)

    send_confirmations()

    assert len(smtp_server.messages) == 1
    assert f"{path} cannot be read" in caplog.text
    caplog.clear()
    _pending(client, petition, django_capture_on_commit_callbacks, email="grace@example.org")
    send_confirmations()
    assert len(smtp_server.messages) == 2
    assert "cannot be read" not in caplog.text  # said once, not before every batch


def test_the_pressure_is_read_from_the_kernels_own_file(settings):
    # The same format as a control group's cpu.pressure; every Linux with PSI has the host's.
    kernel_file = "/proc/pressure/cpu"
    if not os.path.exists(kernel_file):
        pytest.skip("this kernel reports no CPU pressure (PSI)")
    settings.WEB_CPU_PRESSURE_FILE = kernel_file
    assert 0 <= tasks.web_cpu_pressure() <= 100
    settings.WEB_CPU_PRESSURE_FILE = ""
    assert tasks.web_cpu_pressure() is None


def test_a_backlog_larger_than_a_batch_asks_another_worker_process_to_help(
    client, petition, recipients, smtp_server, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(tasks, "CONFIRMATION_BATCH_SIZE", 2)
    for n in range(3):
        _pending(client, petition, django_capture_on_commit_callbacks, email=f"s{n}@example.org")
    purge_broker()

    send_confirmations()

    assert len(smtp_server.messages) == 3  # this task still sends all it finds...
    assert queued_tasks("mail") == [("petitions.tasks.send_confirmations", ())]  # ...with a helper asked

    send_confirmations()  # the helper, which finds less than a batch and asks nobody
    assert len(smtp_server.messages) == 3
    assert queued_tasks("mail") == []
