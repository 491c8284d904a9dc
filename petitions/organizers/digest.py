"""Telling organizers which letters need them: a daily digest, and an alarm when a channel fails in bulk.

Each e-mail is a row (OrganizerDigest) before it is sent. The row's unique key names the day or
the alarm's period, so beat running twice or two workers seeing the same failures make one row;
`send` claims the row and records each address as soon as it took the e-mail, so a worker that
dies mid-way is followed by one that sends only to those still missing.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Q, Value
from django.db.models.functions import Concat
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from .. import reminders, smtp
from ..models import Letter, OrganizerDigest, Recipient
from ..signing import services

log = logging.getLogger(__name__)

ORGANIZERS_GROUP = "Organizers"
# How long a claimed digest may take before another worker may finish it: a few e-mails, each
# bounded by EMAIL_TIMEOUT.
DIGEST_LEASE_SECONDS = 300
# Reasons listed per recipient and status; the rest are counted as "other reasons".
_REASONS_SHOWN = 5
_REASON_LENGTH = 300


def organizer_addresses():
    """[(address, language)]: active staff in the Organizers group with an address, then ORGANIZER_DIGEST_TO.

    Each organizer reads the digest in their language preference when the account has one (an
    attribute `language`), otherwise in the site's default language.
    """
    users = (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True, groups__name=ORGANIZERS_GROUP)
        .exclude(email="")
        .order_by("pk")
        .distinct()
    )
    found = {}
    for user in users:
        language = getattr(user, "language", "") or settings.LANGUAGE_CODE
        found.setdefault(user.email.strip().lower(), (user.email.strip(), language))
    for address in settings.ORGANIZER_DIGEST_TO:
        found.setdefault(address.lower(), (address, settings.LANGUAGE_CODE))
    return list(found.values())


def _letters(digest):
    """The letters DIGEST lists: failed and waiting for organizers; for an alarm, its channel's retries too."""
    statuses = Q(status__in=[Letter.Status.FAILED, Letter.Status.NEEDS_ACTION])
    if digest.kind == OrganizerDigest.Kind.ALARM:
        retrying = Q(status=Letter.Status.QUEUED, attempts__gt=0) & ~Q(last_error="")
        return Letter.objects.filter(statuses | retrying, channel=digest.channel)
    return Letter.objects.filter(statuses)


_STATUS_ORDER = [Letter.Status.FAILED, Letter.Status.NEEDS_ACTION, Letter.Status.QUEUED]


def sections(digest):
    """The digest's content: per recipient, per status, the count and the reasons, most frequent first."""
    counts = {}
    for recipient_id, status, error in _letters(digest).values_list("recipient_id", "status", "last_error").iterator():
        reasons = counts.setdefault(recipient_id, {}).setdefault(status, {})
        reason = " ".join(error.split())[:_REASON_LENGTH]
        reasons[reason] = reasons.get(reason, 0) + 1
    recipients = Recipient.objects.in_bulk(list(counts))
    result = []
    for recipient_id, by_status in counts.items():
        statuses = []
        for status in _STATUS_ORDER:
            reasons = by_status.get(status)
            if not reasons:
                continue
            ranked = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
            statuses.append(
                {
                    "status": status,
                    "count": sum(reasons.values()),
                    "reasons": ranked[:_REASONS_SHOWN],
                    "other": sum(n for _reason, n in ranked[_REASONS_SHOWN:]),
                    "query": f"?status__exact={status}&recipient__id__exact={recipient_id}",
                }
            )
        result.append(
            {"recipient": recipients[recipient_id], "statuses": statuses, "count": sum(s["count"] for s in statuses)}
        )
    result.sort(key=lambda section: (-section["count"], str(section["recipient"])))
    return result


def _message(digest, content, address, language):
    with translation.override(language):
        letters_url = services.absolute(reverse("admin:petitions_letter_changelist"))
        for section in content:
            for status in section["statuses"]:
                status["label"] = Letter.Status(status["status"]).label
                status["url"] = letters_url + status["query"]
                if status["status"] == Letter.Status.QUEUED:
                    status["label"] = translation.gettext("Being retried")
        context = {
            "digest": digest,
            "sections": content,
            "total": sum(section["count"] for section in content),
            "channel": Recipient.Channel(digest.channel).label,
            "minutes": settings.ORGANIZER_ALARM_MINUTES,
            "letters_url": letters_url,
            "failed_url": f"{letters_url}?status__exact={Letter.Status.FAILED}",
            "waiting_url": f"{letters_url}?status__exact={Letter.Status.NEEDS_ACTION}",
            "recipients_url": services.absolute(reverse("admin:petitions_recipient_changelist")),
            "site_url": settings.SITE_URL,
        }
        subject = " ".join(render_to_string("emails/organizer_digest_subject.txt", context).split())
        text = render_to_string("emails/organizer_digest_body.txt", context)
        html = render_to_string("emails/organizer_digest_body.html", context)
    message = EmailMultiAlternatives(
        subject=subject, body=text, to=[address], headers={"Auto-Submitted": "auto-generated"}
    )
    message.attach_alternative(html, "text/html")
    return message


def send(digest_id):
    """Send the digest DIGEST_ID to every organizer it has not reached yet; how many e-mails went.

    1. Claim the row: waiting, or sending with a lapsed claim. Nothing to do when another has it.
    2. Read what it lists now; with nothing left to list it is done without an e-mail.
    3. Send to each address not yet recorded, recording each as soon as it is sent.
    4. Mark it sent. An error hands the row back for `resume_digests` to finish later.
    """
    now = timezone.now()
    lease = now + timedelta(seconds=DIGEST_LEASE_SECONDS)
    claimed = (
        OrganizerDigest.objects.filter(pk=digest_id)
        .filter(
            Q(status=OrganizerDigest.Status.PENDING) | Q(status=OrganizerDigest.Status.SENDING, claimed_until__lt=now)
        )
        .update(status=OrganizerDigest.Status.SENDING, claimed_until=lease)
    )
    if not claimed:
        return 0
    digest = OrganizerDigest.objects.get(pk=digest_id)
    mine = OrganizerDigest.objects.filter(pk=digest_id, status=OrganizerDigest.Status.SENDING, claimed_until=lease)
    content = sections(digest)
    total = sum(section["count"] for section in content)
    done = set(digest.sent_to.split())
    sent = 0
    try:
        if total:
            addresses = organizer_addresses()
            if not addresses:
                log.warning("organizer digest %s: no organizer has an e-mail address to send it to", digest.key)
            for address, language in addresses:
                if address in done:
                    continue
                smtp.send(_message(digest, content, address, language))
                mine.update(sent_to=Concat("sent_to", Value(address + "\n")))
                sent += 1
    except Exception:
        mine.update(status=OrganizerDigest.Status.PENDING, claimed_until=None)
        raise
    mine.update(status=OrganizerDigest.Status.SENT, claimed_until=None, sent_at=timezone.now(), letters=total)
    log.info("organizer digest %s: %d letters listed, %d e-mails sent", digest.key, total, sent)
    return sent


def _enqueue(digest):
    transaction.on_commit(lambda: reminders.enqueue("send_organizer_digest", digest.pk), robust=True)


def _create(key, **fields):
    """The new digest row KEY, or None when it exists already (another process made it)."""
    try:
        with transaction.atomic():
            return OrganizerDigest.objects.create(key=key, **fields)
    except IntegrityError:
        return None


def start_daily(now=None):
    """Make today's digest and hand it to a worker, once a day however often this runs; the row or None."""
    now = now or timezone.now()
    if not Letter.objects.filter(status__in=[Letter.Status.FAILED, Letter.Status.NEEDS_ACTION]).exists():
        return None
    digest = _create(f"daily:{now:%Y-%m-%d}", kind=OrganizerDigest.Kind.DAILY)
    if digest is not None:
        _enqueue(digest)
    return digest


def resume(now=None):
    """Hand back to workers the digests whose message was lost or whose worker died; how many."""
    now = now or timezone.now()
    stalled = OrganizerDigest.objects.filter(
        Q(status=OrganizerDigest.Status.PENDING, created_at__lt=now - timedelta(minutes=1))
        | Q(status=OrganizerDigest.Status.SENDING, claimed_until__lt=now)
    )
    ids = list(stalled.values_list("pk", flat=True)[:100])
    for pk in ids:
        reminders.enqueue("send_organizer_digest", pk)
    return len(ids)


def _failure_key(channel, minute):
    return f"petitions:channel-failures:{channel or '-'}:{minute}"


def count_failure(channel, now=None):
    """Count a failed attempt through CHANNEL; raise the alarm when the channel fails in bulk.

    In bulk: ORGANIZER_ALARM_FAILURES failed attempts within ORGANIZER_ALARM_MINUTES, counted in
    the shared cache per minute. At most one alarm per channel every ORGANIZER_ALARM_EVERY_MINUTES:
    the period is in the row's key, and a cache key spares the database the later failures.
    Counting is best effort (the daily digest lists every failed letter anyway): a cache error is logged.
    """
    now = now or timezone.now()
    minute = int(now.timestamp() // 60)
    window = settings.ORGANIZER_ALARM_MINUTES
    try:
        key = _failure_key(channel, minute)
        cache.add(key, 0, (window + 1) * 60)
        cache.incr(key)
        failures = sum(
            (cache.get_many([_failure_key(channel, m) for m in range(minute - window + 1, minute + 1)]) or {}).values()
        )
    except Exception:
        log.exception("could not count a failure of channel %r", channel)
        return None
    if failures < settings.ORGANIZER_ALARM_FAILURES:
        return None
    every = max(settings.ORGANIZER_ALARM_EVERY_MINUTES, 1)
    period = minute // every
    alarm_key = f"alarm:{channel or '-'}:{period * every * 60}"
    if not cache.add(f"petitions:{alarm_key}", 1, every * 60):
        return None
    digest = _create(alarm_key, kind=OrganizerDigest.Kind.ALARM, channel=channel, failures=failures)
    if digest is not None:
        log.warning("channel %r: %d failed attempts in %d minutes; telling organizers", channel, failures, window)
        _enqueue(digest)
    return digest
