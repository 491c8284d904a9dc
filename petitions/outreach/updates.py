"""Updates to signers: who receives one, the unsubscribe link, and sending it to one person at most once."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from .. import reminders
from ..models import Signature, Update, UpdateDelivery
from ..signing import emails, services

_UNSUBSCRIBE_SALT = "petitions.unsubscribe"


def audience(petition):
    """Confirmed signers of PETITION who agreed to receive updates and have an address."""
    return Signature.objects.filter(petition=petition, status=Signature.Status.CONFIRMED, wants_updates=True).exclude(
        email=""
    )


def unsubscribe_token(signature):
    return services.make_token(signature, _UNSUBSCRIBE_SALT)


def signature_from_unsubscribe(token):
    return services.signature_from_token(token, _UNSUBSCRIBE_SALT)


def unsubscribe(signature):
    """Stop updates to this signer; the signature and its letters stay as they are."""
    return Signature.objects.filter(pk=signature.pk, wants_updates=True).update(wants_updates=False) == 1


def _email_context(update, signature):
    language = signature.language
    with translation.override(language):
        unsubscribe_url = services.absolute(reverse("petitions:unsubscribe", args=[unsubscribe_token(signature)]))
    return {
        "update": update,
        "update_subject": update.subject_in(language),
        "update_body": update.body_in(language),
        "unsubscribe_url": unsubscribe_url,
    }


def preview(update):
    """The update as each language's signers will read it: subject, text and HTML bodies."""
    previews = []
    for language, _name in settings.LANGUAGES:
        signature = Signature(petition=update.petition, language=language, first_name="…")
        context = {"signature": signature, "petition": update.petition, "site_url": settings.SITE_URL}
        context.update(services.signer_links(signature))
        context.update(_email_context(update, signature))
        with translation.override(language):
            previews.append(
                {
                    "language": language,
                    "subject": " ".join(render_to_string("emails/update_subject.txt", context).split()),
                    "text": render_to_string("emails/update_body.txt", context),
                    "body": context["update_body"],
                }
            )
    return previews


def send_test(update, email, name=""):
    """Send the update in every language to EMAIL, as a signer would receive it, links and all."""
    for language, _name in settings.LANGUAGES:
        signature = Signature(petition=update.petition, language=language, first_name=name, email=email)
        emails.send_to_signer(signature, "update", {**_email_context(update, signature), "is_test": True})


def start_sending(update):
    """Move a draft update to "sending" and hand it to a worker; False when it was not a draft."""
    with transaction.atomic():
        started = Update.objects.filter(pk=update.pk, status=Update.Status.DRAFT).update(
            status=Update.Status.SENDING, started_at=timezone.now()
        )
        if started:
            transaction.on_commit(lambda: reminders.enqueue("send_update", update.pk))
    return bool(started)


def send_test_later(update, email, name=""):
    """Have a worker send the update in every language to EMAIL (`send_test`) once the transaction commits."""
    transaction.on_commit(lambda: reminders.enqueue("send_update_test", update.pk, email, name))


def create_deliveries(update, chunk=5000):
    """One pending row per person in the audience, made once in one transaction.

    Done by the worker rather than the admin request, since an audience can be a million people.
    Signers who consent after this moment are not added: the update went out before they joined.
    """
    with transaction.atomic():
        if update.deliveries.exists():
            return 0
        ids = audience(update.petition).order_by("pk").values_list("pk", flat=True)
        batch, made = [], 0
        for pk in ids.iterator(chunk_size=chunk):
            batch.append(UpdateDelivery(update=update, signature_id=pk))
            if len(batch) == chunk:
                UpdateDelivery.objects.bulk_create(batch, ignore_conflicts=True)
                made, batch = made + len(batch), []
        UpdateDelivery.objects.bulk_create(batch, ignore_conflicts=True)
        return made + len(batch)


def skip_lapsed(update):
    """Mark as skipped the waiting rows of people who withdrew or unsubscribed since sending began."""
    lapsed = Q(signature__wants_updates=False) | ~Q(signature__status=Signature.Status.CONFIRMED)
    return update.deliveries.filter(lapsed, status=UpdateDelivery.Status.PENDING).update(
        status=UpdateDelivery.Status.SKIPPED
    )


def send_one(delivery_id):
    """Send one person their update, at most once.

    1. Claim the row with a conditional UPDATE (pending -> sending): of two workers, or a task
       that runs twice, only one gets it.
    2. Check again that the person still consents: they may have unsubscribed a moment ago.
    3. Send, then record sent or failed. A worker killed between 1 and 3 leaves the row in
       "sending"; it is never sent again (see fail_interrupted), since it may have gone out.
    Returns the row's new status, or None when another worker had it.
    """
    claimed = UpdateDelivery.objects.filter(pk=delivery_id, status=UpdateDelivery.Status.PENDING).update(
        status=UpdateDelivery.Status.SENDING, claimed_at=timezone.now()
    )
    if not claimed:
        return None
    delivery = UpdateDelivery.objects.select_related("update__petition", "signature__petition").get(pk=delivery_id)
    signature = delivery.signature
    if signature.status != Signature.Status.CONFIRMED or not signature.wants_updates or not signature.email:
        status, fields = UpdateDelivery.Status.SKIPPED, {}
    else:
        try:
            emails.send_to_signer(signature, "update", _email_context(delivery.update, signature))
            status, fields = UpdateDelivery.Status.SENT, {"sent_at": timezone.now()}
        except Exception as exc:  # Recorded per person for organizers to see; the rest go on.
            status, fields = UpdateDelivery.Status.FAILED, {"error": f"{type(exc).__name__}: {exc}"[:1000]}
    UpdateDelivery.objects.filter(pk=delivery_id, status=UpdateDelivery.Status.SENDING).update(status=status, **fields)
    return status


def fail_interrupted(update, now=None):
    """Rows claimed longer ago than UPDATE_CLAIM_SECONDS were cut off by a crash: mark them failed.

    They are not sent again because the e-mail may already have left before the crash, and a
    missed update is better than a duplicate one.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.UPDATE_CLAIM_SECONDS)
    return update.deliveries.filter(status=UpdateDelivery.Status.SENDING, claimed_at__lt=cutoff).update(
        status=UpdateDelivery.Status.FAILED, error="Interrupted while sending; not sent again to avoid a duplicate."
    )


def finish_if_done(update):
    """Mark the update sent once no row waits or is in flight."""
    busy = update.deliveries.filter(status__in=[UpdateDelivery.Status.PENDING, UpdateDelivery.Status.SENDING])
    if busy.exists():
        return False
    return bool(
        Update.objects.filter(pk=update.pk, status=Update.Status.SENDING).update(
            status=Update.Status.SENT, finished_at=timezone.now()
        )
    )


def stalled(update, now=None, after_seconds=120):
    """True when sending started but no row was claimed for AFTER_SECONDS: its worker is gone."""
    now = now or timezone.now()
    last = update.deliveries.aggregate(last=Max("claimed_at"))["last"] or update.started_at
    return last is None or (now - last).total_seconds() >= after_seconds


def progress(update):
    """Rows per status, for the admin."""
    rows = update.deliveries.values("status").annotate(n=Count("pk")).order_by()
    return {row["status"]: row["n"] for row in rows}
