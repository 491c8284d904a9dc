"""The follow-up: asking signers, some days after their letters were delivered, whether offices replied."""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q
from django.urls import reverse
from django.utils import timezone, translation

from ..models import FollowUp, FollowUpAnswer, Letter, Recipient, Signature
from ..signing import emails, services

_FOLLOWUP_SALT = "petitions.followup"


def followup_token(signature):
    return services.make_token(signature, _FOLLOWUP_SALT)


def signature_from_followup(token):
    return services.signature_from_token(token, _FOLLOWUP_SALT)


def due_signatures(now=None):
    """Confirmed signers not asked yet whose letters are all settled, the last delivered FOLLOWUP_DAYS ago."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.FOLLOWUP_DAYS)
    return (
        Signature.objects.filter(status=Signature.Status.CONFIRMED, followup__isnull=True)
        .exclude(email="")
        .annotate(
            last_delivered=Max("letters__delivered_at", filter=Q(letters__status=Letter.Status.DELIVERED)),
            unsettled=Count("letters", filter=Q(letters__status__in=[Letter.Status.QUEUED, Letter.Status.SENDING])),
        )
        .filter(last_delivered__lte=cutoff, unsettled=0)
    )


def due_reminders(now=None):
    """Follow-ups asked FOLLOWUP_REMINDER_DAYS ago, never reminded, and not answered at all."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.FOLLOWUP_REMINDER_DAYS)
    return FollowUp.objects.filter(
        sent_at__lte=cutoff,
        reminder_sent_at__isnull=True,
        answers__isnull=True,
        signature__status=Signature.Status.CONFIRMED,
    ).exclude(signature__email="")


def offices(signature):
    """The recipients whose letters from SIGNATURE were delivered: the ones we ask about."""
    return Recipient.objects.filter(letters__signature=signature, letters__status=Letter.Status.DELIVERED).order_by(
        "-kind", "state", "senate_class"
    )


def _send(signature, reminder):
    with translation.override(signature.language):
        url = services.absolute(reverse("petitions:followup", args=[followup_token(signature)]))
    emails.send_to_signer(
        signature, "followup", {"followup_url": url, "offices": list(offices(signature)), "reminder": reminder}
    )


def ask(signature):
    """Ask SIGNATURE's signer once: the FollowUp row is the claim, so a second run finds it and stops.

    When the e-mail fails, the row goes away again and a later run asks anew.
    """
    try:
        with transaction.atomic():
            followup = FollowUp.objects.create(signature=signature, sent_at=timezone.now())
    except IntegrityError:
        return False
    try:
        _send(signature, reminder=False)
    except Exception:
        followup.delete()
        raise
    return True


def remind(followup):
    """The one reminder, claimed with a conditional UPDATE so that it goes out once."""
    claimed = FollowUp.objects.filter(pk=followup.pk, reminder_sent_at__isnull=True).update(
        reminder_sent_at=timezone.now()
    )
    if not claimed:
        return False
    try:
        _send(followup.signature, reminder=True)
    except Exception:
        FollowUp.objects.filter(pk=followup.pk).update(reminder_sent_at=None)
        raise
    return True


def answers_of(signature):
    """Recipient id -> the signer's answer so far."""
    followup = FollowUp.objects.filter(signature=signature).first()
    if followup is None:
        return {}
    return dict(followup.answers.values_list("recipient_id", "answer"))


def record_answer(signature, recipient_id, answer):
    """Record what SIGNATURE's signer says about one office; False for an office they did not write to."""
    if answer not in FollowUpAnswer.Answer.values or not offices(signature).filter(pk=recipient_id).exists():
        return False
    followup, _created = FollowUp.objects.get_or_create(signature=signature)
    FollowUpAnswer.objects.update_or_create(followup=followup, recipient_id=recipient_id, defaults={"answer": answer})
    return True
