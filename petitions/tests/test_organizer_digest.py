"""Organizers are told of letters that need them: the daily digest and the alarm of a failing channel."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.core.checks import run_checks
from django.template.loader import render_to_string
from django.utils import translation

from petitions.models import Letter, OrganizerDigest
from petitions.organizers import digest
from petitions.tasks import deliver_letter, resume_organizer_digests, send_organizer_digest, start_organizer_digest

from .conftest import make_petition, make_president, make_senator
from .letters import confirmed_signature

pytestmark = pytest.mark.django_db

SITE = "https://petition.example.org"
MORNING = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)


@pytest.fixture
def organizers(settings):
    settings.SITE_URL = SITE
    settings.ORGANIZER_DIGEST_TO = ["campaign-team@example.org"]
    group = Group.objects.get(name="Organizers")
    olga = User.objects.create_user("olga", "olga@example.org", is_staff=True)
    olga.groups.add(group)
    # Not told: no address, not staff, or not an organizer.
    User.objects.create_user("nomail", "", is_staff=True).groups.add(group)
    User.objects.create_user("outsider", "outsider@example.org", is_staff=False).groups.add(group)
    User.objects.create_user("steward", "steward@example.org", is_staff=True)
    return ["olga@example.org", "campaign-team@example.org"]


@pytest.fixture
def waiting_letters(db):
    """Two failed letters to Ernst (one reason), one waiting for organizers for Moreno, one delivered."""
    petition = make_petition()
    ernst = make_senator()
    moreno = make_senator("OH", 1, "Bernie Moreno", "Moreno")
    president = make_president()
    for _n in range(2):
        letter = confirmed_signature(petition, [ernst]).letters.get()
        Letter.objects.filter(pk=letter.pk).update(status="failed", last_error="SMTP 550: mailbox unavailable")
    waiting = confirmed_signature(petition, [moreno], state="OH").letters.get()
    Letter.objects.filter(pk=waiting.pk).update(status="needs_action", last_error="No delivery channel is set.")
    delivered = confirmed_signature(petition, [president]).letters.get()
    Letter.objects.filter(pk=delivered.pk).update(status="delivered")
    return {"ernst": ernst, "moreno": moreno, "president": president}


@pytest.fixture
def no_failures_counted():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.parametrize(
    ("language", "subject", "words", "senators"),
    [
        (
            "en",
            "3 letters need organizers",
            "Waiting for organizers: 1",
            ["Senator Joni Ernst (Iowa)", "Senator Bernie Moreno (Ohio)"],
        ),
        (
            "be",
            "3 лісты чакаюць арганізатараў",
            "Чакае арганізатараў: 1",
            ["Сенатар Joni Ernst (Аёва)", "Сенатар Bernie Moreno (Агаё)"],
        ),
    ],
)
def test_the_daily_digest_lists_letters_by_recipient_and_reason_with_links_in_the_sites_language(
    settings, organizers, waiting_letters, smtp_server, language, subject, words, senators
):
    settings.LANGUAGE_CODE = language
    with time_machine.travel(MORNING, tick=False):
        digest_id = start_organizer_digest()
        assert send_organizer_digest(digest_id) == 2

    messages = smtp_server.wait_for(2)
    assert sorted(m["To"] for m in messages) == sorted(organizers)
    message = messages[0]
    assert message["Subject"].strip() == subject
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert all(senator in text for senator in senators), text
    assert "The President" not in text  # Delivered: nothing to do.
    assert "2 × SMTP 550: mailbox unavailable" in text
    assert "1 × No delivery channel is set." in text
    assert words in text
    ernst = waiting_letters["ernst"].pk
    link = f"{SITE}/{language}/admin/petitions/letter/?status__exact=failed&recipient__id__exact={ernst}"
    assert link in text
    assert link.replace("&", "&amp;") in html
    record = OrganizerDigest.objects.get(pk=digest_id)
    assert (record.status, record.letters, sorted(record.sent_to.split())) == ("sent", 3, sorted(organizers))


def test_the_digest_goes_out_once_a_day_however_often_beat_asks(organizers, waiting_letters, smtp_server):
    with time_machine.travel(MORNING, tick=False):
        first = start_organizer_digest()
        assert start_organizer_digest() is None
        send_organizer_digest(first)
        assert send_organizer_digest(first) == 0  # A redelivered message sends nothing.
    with time_machine.travel(MORNING + timedelta(days=1), tick=False):
        second = start_organizer_digest()
        send_organizer_digest(second)
    assert second != first
    assert len(smtp_server.wait_for(4)) == 4
    assert OrganizerDigest.objects.count() == 2


def test_nothing_is_sent_when_no_letter_needs_organizers(organizers, smtp_server):
    make_senator()
    with time_machine.travel(MORNING, tick=False):
        assert start_organizer_digest() is None
    assert not OrganizerDigest.objects.exists()
    assert smtp_server.messages == []


def test_a_digest_cut_off_mid_way_is_finished_later_without_sending_anyone_it_twice(
    organizers, waiting_letters, smtp_server
):
    handle_data = smtp_server.handler.handle_DATA

    async def refusing_the_team(server, session, envelope):
        if "campaign-team@example.org" in envelope.rcpt_tos:
            return "451 4.3.0 Try again later"
        return await handle_data(server, session, envelope)

    smtp_server.handler.handle_DATA = refusing_the_team
    with time_machine.travel(MORNING, tick=False):
        digest_id = start_organizer_digest()
        with pytest.raises(Exception, match="451"):
            send_organizer_digest(digest_id)
    record = OrganizerDigest.objects.get(pk=digest_id)
    assert (record.status, record.sent_to) == ("pending", "olga@example.org\n")

    smtp_server.handler.handle_DATA = handle_data
    with time_machine.travel(MORNING + timedelta(minutes=5), tick=False):
        assert resume_organizer_digests() == 1  # The sweeper hands it to a worker again...
        send_organizer_digest(digest_id)  # ...which sends only to whom it has not reached.

    assert sorted(m["To"] for m in smtp_server.messages) == sorted(organizers)
    assert OrganizerDigest.objects.get(pk=digest_id).status == "sent"


def test_a_digest_claimed_by_a_worker_that_died_is_taken_over_after_its_claim_lapses(organizers, waiting_letters):
    with time_machine.travel(MORNING, tick=False):
        digest_id = start_organizer_digest()
        OrganizerDigest.objects.filter(pk=digest_id).update(
            status="sending", claimed_until=MORNING + timedelta(seconds=digest.DIGEST_LEASE_SECONDS)
        )
        assert send_organizer_digest(digest_id) == 0  # Another worker holds it.
        assert resume_organizer_digests() == 0


def test_a_channel_failing_in_bulk_tells_organizers_at_once_and_not_at_every_failure(
    settings, organizers, smtp_server, no_failures_counted
):
    settings.ORGANIZER_ALARM_FAILURES = 3
    settings.ORGANIZER_ALARM_MINUTES = 10
    settings.ORGANIZER_ALARM_EVERY_MINUTES = 60
    settings.LANGUAGE_CODE = "en"
    petition = make_petition()
    senator = make_senator(channel="email", channel_settings={"address": "intake@ernst.test"})
    smtp_server.refuse("550 5.1.1 Mailbox unavailable")

    def fail(count):
        for _ in range(count):
            deliver_letter(confirmed_signature(petition, [senator]).letters.get().pk)

    with time_machine.travel(MORNING, tick=False):
        fail(2)
        assert not OrganizerDigest.objects.exists()  # Two failures are not yet a pattern.
    with time_machine.travel(MORNING + timedelta(minutes=5), tick=False):
        fail(1)
        alarm = OrganizerDigest.objects.get()
        fail(5)
        assert OrganizerDigest.objects.count() == 1  # Throttled: one alarm for the hour.
    assert (alarm.kind, alarm.channel, alarm.failures) == ("alarm", "email", 3)

    smtp_server.accept()
    with time_machine.travel(MORNING + timedelta(minutes=6), tick=False):
        send_organizer_digest(alarm.pk)
    message = smtp_server.wait_for(2)[0]
    assert message["Subject"].strip() == "Letters through E-mail are failing: 3 failed attempts in 10 minutes"
    assert "8 × SMTP 550" in message.get_body(("plain",)).get_content()

    smtp_server.refuse("550 5.1.1 Mailbox unavailable")
    with time_machine.travel(MORNING + timedelta(minutes=70), tick=False):
        fail(3)
    assert OrganizerDigest.objects.filter(kind="alarm").count() == 2


def test_failures_spread_over_more_than_the_window_raise_no_alarm(settings, organizers, no_failures_counted):
    settings.ORGANIZER_ALARM_FAILURES = 3
    settings.ORGANIZER_ALARM_MINUTES = 10
    for minutes in (0, 11, 22, 33):
        with time_machine.travel(MORNING + timedelta(minutes=minutes), tick=False):
            digest.count_failure("cwc")
    assert not OrganizerDigest.objects.exists()


def test_print_letters_waiting_to_be_printed_are_not_failures(settings, organizers, no_failures_counted):
    settings.ORGANIZER_ALARM_FAILURES = 1
    petition = make_petition()
    president = make_president(channel="print", office_address="The White House\nWashington, DC 20500")
    deliver_letter(confirmed_signature(petition, [president]).letters.get().pk)
    assert Letter.objects.get().status == "needs_action"
    assert not OrganizerDigest.objects.exists()


@pytest.mark.parametrize("language", ["en", "be"])
def test_the_signers_status_page_says_what_happens_to_a_failed_letter(waiting_letters, language):
    letters = Letter.objects.filter(status="failed").select_related("recipient")
    with translation.override(language):
        html = render_to_string("petitions/_letters.html", {"letters": letters})
        expected = translation.gettext(
            "could not be delivered; it is on the list of such letters that organizers get every day"
        )
    assert expected in html
    assert language == "en" or "арганізатар" in expected
    assert "have been told" not in html


def test_the_deploy_check_warns_when_no_organizer_gets_the_digest(settings):
    settings.ORGANIZER_DIGEST_TO = []
    ids = {m.id for m in run_checks(include_deployment_checks=True, databases=["default"])}
    assert "petitions.W002" in ids
    settings.ORGANIZER_DIGEST_TO = ["campaign-team@example.org"]
    ids = {m.id for m in run_checks(include_deployment_checks=True, databases=["default"])}
    assert "petitions.W002" not in ids


def test_beat_starts_the_digest_every_day_and_resumes_stalled_ones(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["organizer-digest"]["task"] == "petitions.tasks.start_organizer_digest"
    assert schedule["organizer-digest"]["schedule"].hour == {settings.ORGANIZER_DIGEST_HOUR}
    assert schedule["resume-organizer-digests"]["task"] == "petitions.tasks.resume_organizer_digests"
