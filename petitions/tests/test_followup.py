"""The follow-up: asked once after delivery, reminded once, answered by POST, counted per office."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone, translation

from petitions import tasks
from petitions.models import FollowUp, FollowUpAnswer, Letter, Signature
from petitions.organizers import dashboard
from petitions.outreach import followups

from .campaign_data import offices, signer

pytestmark = pytest.mark.django_db


def _deliver(signature, recipient, days_ago, status=Letter.Status.DELIVERED):
    delivered_at = timezone.now() - timedelta(days=days_ago) if status == Letter.Status.DELIVERED else None
    return Letter.objects.create(
        signature=signature, recipient=recipient, body="…", status=status, delivered_at=delivered_at
    )


@pytest.fixture
def signers(petition):
    cache.clear()
    recipients = offices()
    ernst, grassley = recipients["IA"]
    president = recipients["president"]
    Signature.objects.bulk_create([signer(petition, n) for n in range(5)])
    due_en, due_be, too_recent, unsettled, withdrawn = Signature.objects.order_by("pk")
    Signature.objects.filter(pk=due_be.pk).update(language="be")
    Signature.objects.filter(pk=due_en.pk).update(language="en")
    for signature in (due_en, due_be, withdrawn):
        _deliver(signature, ernst, 20)
        _deliver(signature, president, 15)
    _deliver(due_be, grassley, 16)
    _deliver(too_recent, ernst, 3)
    _deliver(unsettled, ernst, 30)
    _deliver(unsettled, president, 0, status=Letter.Status.QUEUED)
    Signature.objects.filter(pk=withdrawn.pk).update(status=Signature.Status.WITHDRAWN, email="")
    return {
        "due_en": Signature.objects.get(pk=due_en.pk),
        "due_be": Signature.objects.get(pk=due_be.pk),
        "ernst": ernst,
        "grassley": grassley,
        "president": president,
    }


def _link(message):
    return re.search(r"https?://\S+(/(be|en)/followup/\S+/)", message.body).group(1)


def test_the_followup_goes_once_to_signers_whose_letters_were_delivered_two_weeks_ago(signers):
    assert settings.FOLLOWUP_DAYS == 14
    assert tasks.send_followups() == {"asked": 2, "reminded": 0}
    assert sorted(m.to[0] for m in mail.outbox) == sorted([signers["due_en"].email, signers["due_be"].email])
    by_address = {m.to[0]: m for m in mail.outbox}
    assert by_address[signers["due_en"].email].subject == "Did an office reply to your letter?"
    assert "/be/followup/" in by_address[signers["due_be"].email].body
    assert "Сенатар Chuck Grassley (Аёва)" in by_address[signers["due_be"].email].body
    assert tasks.send_followups() == {"asked": 0, "reminded": 0}
    assert len(mail.outbox) == 2


def test_one_reminder_at_most_and_none_to_those_who_answered(signers):
    tasks.send_followups()
    followups.record_answer(signers["due_en"], signers["ernst"].pk, FollowUpAnswer.Answer.NO)
    FollowUp.objects.update(sent_at=timezone.now() - timedelta(days=settings.FOLLOWUP_REMINDER_DAYS + 1))
    mail.outbox.clear()
    assert tasks.send_followups() == {"asked": 0, "reminded": 1}
    assert [m.to[0] for m in mail.outbox] == [signers["due_be"].email]
    assert tasks.send_followups() == {"asked": 0, "reminded": 0}
    assert len(mail.outbox) == 1


def test_the_answer_page_records_only_a_post_one_click_per_office(client, signers):
    tasks.send_followups()
    message = next(m for m in mail.outbox if m.to[0] == signers["due_en"].email)
    url = _link(message)
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    for recipient in (signers["ernst"], signers["president"]):
        for answer in FollowUpAnswer.Answer.values:
            assert f'value="{recipient.pk}:{answer}"' in html
    assert not FollowUpAnswer.objects.exists(), "a mail scanner's GET must not answer"
    assert client.post(url, {"answer": f"{signers['ernst'].pk}:yes"}).status_code == 302
    assert client.post(url, {"answer": f"{signers['president'].pk}:not_yet"}).status_code == 302
    assert client.post(url, {"answer": f"{signers['president'].pk}:no"}).status_code == 302
    answers = dict(FollowUpAnswer.objects.values_list("recipient_id", "answer"))
    assert answers == {signers["ernst"].pk: "yes", signers["president"].pk: "no"}
    # An office the signer did not write to, or a made-up answer, is refused.
    client.post(url, {"answer": f"{signers['grassley'].pk}:yes"})
    client.post(url, {"answer": f"{signers['ernst'].pk}:maybe"})
    assert FollowUpAnswer.objects.count() == 2
    assert 'aria-pressed="true"' in client.get(url).content.decode()


def test_the_responsiveness_table_matches_the_answers_and_is_public_only_when_switched_on(client, petition, signers):
    tasks.send_followups()
    followups.record_answer(signers["due_en"], signers["ernst"].pk, "yes")
    followups.record_answer(signers["due_be"], signers["ernst"].pk, "no")
    followups.record_answer(signers["due_be"], signers["grassley"].pk, "yes")
    followups.record_answer(signers["due_en"], signers["president"].pk, "not_yet")
    rows = {row["recipient"].pk: row for row in dashboard.responsiveness(petition)}
    ernst, grassley, president = rows[signers["ernst"].pk], rows[signers["grassley"].pk], rows[signers["president"].pk]
    delivered = Letter.objects.filter(status=Letter.Status.DELIVERED)
    assert ernst["delivered"] == delivered.filter(recipient=signers["ernst"]).count() == 5
    assert (ernst["answered"], ernst["replied"], ernst["share"]) == (2, 1, 50)
    assert (grassley["answered"], grassley["replied"], grassley["share"]) == (1, 1, 100)
    assert (president["answered"], president["replied"], president["share"]) == (1, 0, 0)
    assert list(rows)[0] == signers["president"].pk, "the President comes first"

    with translation.override("en"):
        url = reverse("petitions:detail", args=[petition.slug])
        assert 'id="public-responsiveness"' not in client.get(url).content.decode()
        petition.show_responsiveness = True
        petition.save()
        html = client.get(url).content.decode()
    assert 'id="public-responsiveness"' in html
    assert '<th scope="row">Senator Joni Ernst (Iowa)</th><td>5</td><td>2</td><td>1 (50%)</td>' in html
    assert signers["due_en"].last_name not in html


def test_the_followup_runs_from_celery_beat():
    assert settings.CELERY_BEAT_SCHEDULE["send-followups"]["task"] == "petitions.tasks.send_followups"
