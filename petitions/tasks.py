"""Celery tasks: confirmation and receipt e-mails, letter delivery, and the periodic sweeps.

Tasks take primary keys and load their row, so a message that arrives late or twice does no harm:
the database, not the broker, is the record of what remains to be done.
"""

import logging
import random
import smtplib
import socket
import time
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db.models import F, Q
from django.utils import timezone, translation

from .delivery import Outcome, channel_class, next_second, paced_channels, settings_problem, slots_left
from .models import Letter, Petition, Signature, Update, UpdateDelivery
from .organizers import digest
from .outreach import followups, updates
from .reminders import (
    CONFIRMATIONS_REMINDED_KEY,
    CONFIRMATIONS_REMINDED_SECONDS,
    LETTER_BATCH_SIZE,
    LETTERS_REMINDED_KEY,
    LETTERS_REMINDED_SECONDS,
    remind_confirmations,
    remind_letters,
)
from .signing import emails, services

log = logging.getLogger(__name__)

# Mail errors worth another try: the server is down, slow or says "try later".
_TEMPORARY_MAIL_ERRORS = (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, socket.error, TimeoutError)


def _is_temporary(exc):
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    return isinstance(exc, _TEMPORARY_MAIL_ERRORS)


# What the confirmation's templates and links use. The whole rows (the petition's texts in both
# languages, the signer's address) took a quarter of the task's database CPU (bench/mail_cpu.py);
# a test counts the task's queries, so a template that wants another field shows up there.
_CONFIRMATION_FIELDS = (
    "status", "language", "email", "first_name",
    "petition__slug", "petition__title_be", "petition__title_en",
)  # fmt: skip

# Confirmations one claim takes. Each takes a few milliseconds to render and send, so a batch is
# done in well under a second and a worker that dies mid-batch leaves few for the lease to hold up.
CONFIRMATION_BATCH_SIZE = 20
# Batches one task sends before it hands over to a fresh message: a surge never keeps one message
# unacknowledged for long (Redis hands those to another worker after its visibility timeout).
_CONFIRMATION_BATCHES_PER_TASK = 50
# How long a claim holds. A batch starts no e-mail after half of it, so a slow mail server (each
# send may wait EMAIL_TIMEOUT) cannot make two workers send one signer's link.
CONFIRMATION_LEASE_SECONDS = 300
# After an error that is not the mail server's (a bug, an address the server refuses): the signature
# is tried again this much later, not in a loop, and the error is logged each time.
CONFIRMATION_FAILED_RETRY_SECONDS = 3600

# Set while a held send_confirmations waits out its countdown, so that one message, not one per
# reminder, looks again. It lapses on its own should that message be lost.
CONFIRMATIONS_HELD_KEY = "petitions:confirmations-held"
# How soon a held task looks at the web's CPU again: PSI's ten-second average moves little faster.
CONFIRMATIONS_HOLD_LOOK_SECONDS = 2


@shared_task(acks_late=True)
def send_confirmations(held=False):
    """E-mail the link that confirms their signature to every pending signer still waiting for one.

    The reminder is forgotten before the first look, so a signature committed after that look
    reminds a worker again. Quarantined signatures get nothing until organizers release them.
    While the web is short of CPU the task sends nothing and looks again shortly (HELD: it is that
    look), unless a confirmation has already waited CONFIRMATION_MAX_HOLD_SECONDS.
    """
    if held:
        cache.delete(CONFIRMATIONS_HELD_KEY)
    for batch in range(_CONFIRMATION_BATCHES_PER_TASK):
        if _confirmations_held():
            _look_again_soon()
            return
        if batch == 0:
            cache.delete(CONFIRMATIONS_REMINDED_KEY)
        if not _send_confirmation_batch():
            return
        if batch == 0:
            # More than a batch was due: a backlog, such as a surge leaves once it is no longer held
            # back. Another worker process helps, and it asks the next, so a backlog is sent by
            # every free process at once: one alone sent a backlog of 13,800 at about 220 a second,
            # six at a time drain such a backlog at about 500 to 600 (docs/benchmarks.md).
            remind_confirmations()
    remind_confirmations()


def web_cpu_pressure():
    """How short of CPU the web is: the share of time in which some of its work waited for a
    processor (Linux PSI, a percentage), or None when WEB_CPU_PRESSURE_FILE is not set or cannot be read.

    The web's own control group tells its need apart from the host's: with signing paced at 100 a
    second the web's read 22 to 42 %, flat out 66 to 85 %, while the host's read 67 % and 80 to 93 %
    (it counts the worker's own waits). docs/benchmarks.md has the runs.

    The kernel's ten-second average ("some avg10") comes first, and costs one read. It lags: a
    surge's last seconds keep it over the limit for several seconds after the web has gone quiet,
    and confirmations waited for nothing (the benchmark's p95 at 100 a second rose from 0.07 to
    1.4 s). So when it is over the limit, the stall counter ("total", microseconds) is read again
    a moment later, and the lower of the two shares is the answer: a surge has to be on now too.
    """
    path = settings.WEB_CPU_PRESSURE_FILE
    if not path:
        return None
    try:
        average, stalled = _read_pressure(path)
        if average < settings.WEB_CPU_PRESSURE_LIMIT:
            return average
        started = time.monotonic()
        time.sleep(_PRESSURE_SAMPLE_SECONDS)
        _average, stalled_since = _read_pressure(path)
        now = 100 * (stalled_since - stalled) / 1e6 / (time.monotonic() - started)
        return min(average, now)
    except (OSError, ValueError, KeyError) as exc:
        # Sending, not holding, is the safe side: a signer's link goes out as it would without this.
        # Said once per process and file, since the file is read before every batch.
        if path not in _unreadable_pressure_files:
            _unreadable_pressure_files.add(path)
            log.warning("confirmations do not wait for the web: %s cannot be read (%s)", path, exc)
        return None


def _read_pressure(path):
    """PATH's "some" line: its ten-second average (percent) and its total stall (microseconds)."""
    with open(path) as pressure:
        # "some avg10=71.52 avg60=43.08 avg300=12.10 total=183922516"
        kind, *fields = pressure.readline().split()
    if kind != "some":
        raise ValueError(f"{kind!r} where 'some' was expected")
    values = dict(field.split("=", 1) for field in fields)
    return float(values["avg10"]), int(values["total"])


# Long enough for the share to mean something at the kernel's microsecond counts, short enough that
# a worker looking while the web is busy loses little: it looks every two seconds while held.
_PRESSURE_SAMPLE_SECONDS = 0.25

_unreadable_pressure_files = set()


def _confirmations_held():
    """Whether confirmations should wait: the web is short of CPU, and none has waited too long.

    Kept because, signing flat out on a shared host, the confirmation side (mail worker and SMTP)
    took 0.35 to 0.51 ms of CPU per signature with the hold and 2.0 to 2.1 ms without it, about a
    tenth of a signature's whole CPU (bench/run.py --only sign, alternating runs with and without
    WEB_CPU_PRESSURE_FILE, 6 December 2026).
    """
    pressure = web_cpu_pressure()
    if pressure is None or pressure < settings.WEB_CPU_PRESSURE_LIMIT:
        return False
    now = timezone.now()
    # The lowest key due is the longest waiting: one row from the index, not a count of the backlog.
    oldest = Signature.objects.confirmations_due(now).order_by("pk").values_list("created_at", flat=True).first()
    return oldest is not None and oldest > now - timedelta(seconds=settings.CONFIRMATION_MAX_HOLD_SECONDS)


def _look_again_soon():
    """Have one message look again in a moment, and tell signers meanwhile that one is on its way."""
    cache.set(CONFIRMATIONS_REMINDED_KEY, 1, CONFIRMATIONS_REMINDED_SECONDS)
    if cache.add(CONFIRMATIONS_HELD_KEY, 1, CONFIRMATIONS_REMINDED_SECONDS):
        send_confirmations.apply_async(kwargs={"held": True}, countdown=CONFIRMATIONS_HOLD_LOOK_SECONDS)


def _send_confirmation_batch():
    """Claim up to CONFIRMATION_BATCH_SIZE due confirmations and send them; False when no more are due.

    1. Claim them with one conditional UPDATE that sets a new lease end: only confirmations still
       due move, so two workers cannot send one link. The lease end is the claim's token.
    2. Send each over the worker's kept SMTP connection, in its signer's language.
    3. Record the sent ones in one UPDATE, even when a later one failed. A temporary failure of the
       mail server leaves the rest of the batch due again after CONFIRMATION_RETRY_SECONDS, when
       the sweeper finds them: no retry waits in the broker. Any
       other error holds that one signature back for CONFIRMATION_FAILED_RETRY_SECONDS and is
       raised, so it is logged and seen.
    """
    now = timezone.now()
    ids = list(
        Signature.objects.confirmations_due(now).order_by("pk").values_list("pk", flat=True)[:CONFIRMATION_BATCH_SIZE]
    )
    if not ids:
        return False
    lease = now + timedelta(seconds=CONFIRMATION_LEASE_SECONDS)
    if not Signature.objects.confirmations_due(now).filter(pk__in=ids).update(confirmation_lease_until=lease):
        return True  # another worker claimed them first: look again
    signatures = list(
        Signature.objects.select_related("petition")
        .only(*_CONFIRMATION_FIELDS)
        .filter(pk__in=ids, confirmation_lease_until=lease)
        .order_by("pk")
    )
    start_by = now + timedelta(seconds=CONFIRMATION_LEASE_SECONDS / 2)
    sent = []
    try:
        for n, signature in enumerate(signatures):
            if n and timezone.now() > start_by:
                _release_confirmations(signatures[n:], lease, None)
                break
            try:
                emails.send_to_signer(signature, "confirm")
            except Exception as exc:
                if _is_temporary(exc):
                    log.warning("confirmations not sent yet, the mail server failed: %s", type(exc).__name__)
                    _release_confirmations(signatures[n:], lease, settings.CONFIRMATION_RETRY_SECONDS)
                    return False
                _release_confirmations([signature], lease, CONFIRMATION_FAILED_RETRY_SECONDS)
                _release_confirmations(signatures[n + 1 :], lease, None)
                raise
            sent.append(signature.pk)
    finally:
        # Only the claim's holder records: a signer who asked for a new link meanwhile gets it.
        Signature.objects.filter(pk__in=sent, confirmation_lease_until=lease).update(
            confirmation_sent_at=timezone.now(), confirmation_lease_until=None
        )
    return len(ids) == CONFIRMATION_BATCH_SIZE


def _release_confirmations(signatures, lease, wait_seconds):
    """Hand claimed, unsent confirmations back: due at once (WAIT_SECONDS None) or that much later."""
    until = timezone.now() + timedelta(seconds=wait_seconds) if wait_seconds else None
    Signature.objects.filter(pk__in=[s.pk for s in signatures], confirmation_lease_until=lease).update(
        confirmation_lease_until=until
    )


@shared_task(bind=True, acks_late=True, max_retries=10)
def send_receipt(self, signature_id):
    """E-mail a confirmed signer the text of their letter and the link to its status page, once.

    A reminder from the sweeper, or a task run again after a worker was lost, finds the receipt
    recorded and sends nothing: the signer never asked for it, so one copy is enough.
    """
    signature = Signature.objects.select_related("petition").filter(pk=signature_id).first()
    if signature is None or signature.status != Signature.Status.CONFIRMED or signature.receipt_sent_at:
        return
    letters = signature.letters.select_related("recipient")
    try:
        emails.send_to_signer(signature, "receipt", {"letters": letters})
    except Exception as exc:
        if not _is_temporary(exc):
            raise
        raise self.retry(exc=exc, countdown=min(600, 10 * 2**self.request.retries)) from None
    Signature.objects.filter(pk=signature_id).update(receipt_sent_at=timezone.now())


@shared_task(bind=True, acks_late=True, max_retries=10)
def send_links(self, signature_id):
    """E-mail a confirmed signer new status and withdraw links, as they asked on an expired link's page."""
    signature = Signature.objects.select_related("petition").filter(pk=signature_id).first()
    if signature is None or signature.status != Signature.Status.CONFIRMED:
        return
    try:
        emails.send_to_signer(signature, "links")
    except Exception as exc:
        if not _is_temporary(exc):
            raise
        raise self.retry(exc=exc, countdown=min(600, 10 * 2**self.request.retries)) from None


def _retry_delay(attempts):
    """Exponential backoff with jitter, so retries from a burst do not arrive together."""
    base = settings.LETTER_RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1)
    return timedelta(seconds=min(base, 6 * 3600) * random.uniform(0.8, 1.2))


# Reminders due further ahead than this are left to the sweeper: a Redis broker hands an
# unacknowledged message to another worker after its visibility timeout, so far-off ETAs multiply.
_MAX_ETA_SECONDS = 600


# Batches one deliver_due_letters task delivers before it hands over to a fresh message. Through CWC
# at its rate limit, shared by every process, a batch may take many seconds: ten keep a message
# unacknowledged for minutes at most, far inside the broker's visibility timeout of an hour.
_LETTER_BATCHES_PER_TASK = 10


# Set while a deliver_due_letters message waits out the second until a paced channel (CWC) may send
# again: one such message, not one per letter or per worker. It lapses on its own should it be lost.
PACED_LETTERS_REMINDED_KEY = "petitions:paced-letters-reminded"


def _remind_paced_letters():
    """Have a worker look again at the start of the next second, when a paced channel may send again."""
    if cache.add(PACED_LETTERS_REMINDED_KEY, 1, 10):
        countdown = max(0.0, (next_second() - timezone.now()).total_seconds())
        deliver_due_letters.apply_async(kwargs={"paced": True}, countdown=countdown)


def _due_batch(now):
    """The next batch's letter ids, claimed by channel, and whether letters are left for later.

    1. Up to LETTER_BATCH_SIZE letters of the channels without a rate limit (e-mail, HTTP, print).
    2. For each paced channel (CWC), no more than it may still start in this second. A letter of
       one never holds a process waiting for its turn, so the first kind never waits behind it.
    Returns (ids, more: another batch may start now, paced_waiting: a paced channel has letters
    due that must wait for the next second).
    """
    due = Letter.objects.due(now).filter(attempts__lt=settings.LETTER_MAX_ATTEMPTS).order_by("pk")
    paced = paced_channels()
    ids = list(due.exclude(channel__in=paced).values_list("pk", flat=True)[:LETTER_BATCH_SIZE])
    more = len(ids) == LETTER_BATCH_SIZE
    paced_waiting = False
    for name, limit in paced.items():
        free = slots_left(name, limit)
        take = min(free, LETTER_BATCH_SIZE)
        # One more than taken tells whether any are left.
        found = list(due.filter(channel=name).values_list("pk", flat=True)[: take + 1])
        ids += found[:take]
        if len(found) > take:
            if take < free:
                more = True
            else:
                paced_waiting = True
    return ids, more, paced_waiting


@shared_task(acks_late=True, reject_on_worker_lost=True)
def deliver_due_letters(paced=False):
    """Deliver every letter that is due, LETTER_BATCH_SIZE at a time, each at most once, by channel.

    The reminder is forgotten before the first look, so a letter committed after that look reminds
    a worker again (PACED: this is the look a paced channel asked for, a second after the last). A
    full first batch means a backlog: the task reminds another worker process to help before it goes
    on, as send_confirmations does. Letters of a paced channel past its rate this second are left for
    one look at the start of the next.
    """
    cache.delete(PACED_LETTERS_REMINDED_KEY if paced else LETTERS_REMINDED_KEY)
    paced_waiting = False
    for batch in range(_LETTER_BATCHES_PER_TASK):
        ids, more, waiting = _due_batch(timezone.now())
        paced_waiting = paced_waiting or waiting
        if ids:
            _deliver(ids)
        if not more:
            break
        if batch == 0:
            remind_letters()
    else:
        remind_letters()
    if paced_waiting:
        _remind_paced_letters()


def enqueue_letter(letter_id, when=None):
    """Remind a worker to deliver a letter now, or at WHEN; `sweep_letters` covers lost or far-off reminders."""
    if when is not None and (when - timezone.now()).total_seconds() > _MAX_ETA_SECONDS:
        return
    deliver_letter.apply_async((letter_id,), eta=when)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def deliver_letter(letter_id):
    """Deliver one letter through its channel, at most once: a retry's reminder (enqueue_letter)."""
    _deliver([letter_id])


@shared_task(acks_late=True, reject_on_worker_lost=True)
def deliver_letters(letter_ids):
    """Deliver the letters LETTER_IDS (a sweep's chunk, organizers' re-send) in one task, each at most once.

    Celery's own work per task (~2 ms) and the claim and read are paid once for the batch, not per
    letter (bench/mail_cpu.py); each letter's send and outcome stay its own, as in deliver_letter.
    """
    _deliver(letter_ids)


def _deliver(letter_ids):
    """Claim, send and record the letters LETTER_IDS, each on its own from the claim on.

    1. Claim them with one conditional UPDATE: only letters that are due (or whose claim has lapsed)
       move to "sending", so two workers, or a redelivered message, cannot both send one. The new
       lease end doubles as the claim's token: only its holder reads the letters and records outcomes.
    2. Hand each to its channel (the recipient's, unless organizers re-routed the letter) and record
       what the channel says. A channel with broken settings leaves that letter to organizers; a
       channel that crashes costs that letter an attempt, not the rest of the batch.
    3. Temporary failures wait with backoff until the attempts run out; permanent ones fail now.
    """
    now = timezone.now()
    lease = now + timedelta(seconds=settings.LETTER_LEASE_SECONDS)
    claimed = (
        Letter.objects.due(now)
        .filter(pk__in=letter_ids, attempts__lt=settings.LETTER_MAX_ATTEMPTS)
        .update(status=Letter.Status.SENDING, attempts=F("attempts") + 1, lease_until=lease)
    )
    if not claimed:
        return
    letters = list(
        Letter.objects.select_related("recipient", "signature__petition")
        .filter(pk__in=letter_ids, status=Letter.Status.SENDING, lease_until=lease)
        .order_by("pk")
    )
    # One lease covers the batch, not one per letter: a killed worker's letters would then wait that
    # many leases for the sweeper. A batch must not outlive it: through a slow channel (CWC's
    # timeouts and rate limit, an HTTP receiver's timeout) the letters left once half the lease is
    # gone are handed back, uncounted, to a task of their own. One send waits at most about
    # DELIVERY_TIMEOUT_SECONDS (CWC, HTTP; 30 s by default) or a few EMAIL_TIMEOUTs (SMTP; 20 s), well
    # under half a lease (150 s), so a letter started in time is recorded in time.
    start_by = now + timedelta(seconds=settings.LETTER_LEASE_SECONDS / 2)
    # Letters of channels without a rate limit first: none waits behind a paced channel's turn.
    paced = paced_channels()
    letters.sort(key=lambda letter: _channel_of(letter) in paced)
    n = 0
    while n < len(letters):
        letter = letters[n]
        if n and timezone.now() > start_by:
            _hand_back(letters[n:], lease)
            return
        name = _channel_of(letter)
        if name in paced and not slots_left(name, paced[name]):
            # The channel's turn this second is used up (a sweep's or organizers' batch, another
            # worker's claim): its letters wait for the next second rather than hold this process.
            _pace_later([rest for rest in letters[n:] if _channel_of(rest) == name], lease)
            letters[n:] = [rest for rest in letters[n:] if _channel_of(rest) != name]
            continue
        _record(letter, _send(letter), lease)
        n += 1


def _channel_of(letter):
    """The channel LETTER goes through: its own once organizers re-routed it, else its recipient's."""
    return letter.channel or letter.recipient.channel


def _pace_later(letters, lease):
    """Return claimed letters of a paced channel to the queue, uncounted, due at the next second."""
    Letter.objects.filter(
        pk__in=[letter.pk for letter in letters], status=Letter.Status.SENDING, lease_until=lease
    ).update(status=Letter.Status.QUEUED, attempts=F("attempts") - 1, lease_until=None, next_attempt_at=next_second())
    _remind_paced_letters()


def _send(letter):
    letter.channel = _channel_of(letter)
    with translation.override("en"):  # Stored for organizers beside the receivers' own English answers.
        problem = settings_problem(letter.channel, letter.recipient)
    if problem:
        return Outcome.needs_action(problem)
    try:
        return channel_class(letter.channel)().send(letter)
    except Exception as exc:  # A bug in a channel must not leave the letter claimed forever.
        log.exception("channel %s crashed on letter %s", letter.channel, letter.pk)
        return Outcome.temporary(f"{type(exc).__name__}: {exc}")


def _hand_back(letters, lease):
    """Return claimed letters not yet tried to the queue, as if never claimed, and remind a worker now."""
    ids = [letter.pk for letter in letters]
    handed = Letter.objects.filter(pk__in=ids, status=Letter.Status.SENDING, lease_until=lease).update(
        status=Letter.Status.QUEUED, attempts=F("attempts") - 1, lease_until=None
    )
    log.info("letters %s: batch out of time, %d handed back", ids, handed)
    if handed:
        deliver_letters.delay(ids)


def _record(letter, outcome, lease):
    now = timezone.now()
    fields = {"channel": letter.channel, "lease_until": None}
    if outcome.kind == Outcome.DELIVERED:
        fields.update(status=Letter.Status.DELIVERED, delivered_at=now, response=outcome.detail, last_error="")
    elif outcome.kind == Outcome.NEEDS_ACTION:
        fields.update(status=Letter.Status.NEEDS_ACTION, last_error=outcome.detail, next_attempt_at=None)
    elif outcome.kind == Outcome.DEFERRED:
        # The receiver asked us to wait (a maintenance window, a rate limit): not an attempt.
        fields.update(
            status=Letter.Status.QUEUED,
            last_error=outcome.detail,
            next_attempt_at=outcome.not_before,
            attempts=F("attempts") - 1,
        )
    elif outcome.kind == Outcome.TEMPORARY and letter.attempts < settings.LETTER_MAX_ATTEMPTS:
        fields.update(
            status=Letter.Status.QUEUED, last_error=outcome.detail, next_attempt_at=now + _retry_delay(letter.attempts)
        )
    else:
        fields.update(status=Letter.Status.FAILED, last_error=outcome.detail)
    # Only the claim's holder records: if its lease lapsed and another worker took the letter over,
    # that worker's outcome is the one that counts.
    recorded = Letter.objects.filter(pk=letter.pk, status=Letter.Status.SENDING, lease_until=lease).update(**fields)
    if not recorded:
        log.warning("letter %s: claim lapsed before its outcome (%s) was recorded", letter.pk, outcome.kind)
        return
    log.info("letter %s: %s", letter.pk, fields["status"])
    if fields["status"] == Letter.Status.QUEUED:
        enqueue_letter(letter.pk, fields["next_attempt_at"])
    if _is_failure(letter, outcome):
        digest.count_failure(letter.channel)


def _is_failure(letter, outcome):
    """Whether OUTCOME is an attempt that failed: a print letter waits for organizers by design."""
    if outcome.kind == Outcome.NEEDS_ACTION:
        return letter.channel != "print"
    return outcome.kind in (Outcome.TEMPORARY, Outcome.PERMANENT)


# Letters due this long with no worker at them have most likely lost their reminder: a worker died
# holding it (and its key, LETTERS_REMINDED_KEY, still stops a new one for up to a minute), or the
# broker was flushed. The sweep runs every LETTER_REMINDER_GRACE_SECONDS too (CELERY_BEAT_SCHEDULE),
# so such a letter is reminded within twice this: a minute.
LETTER_REMINDER_GRACE_SECONDS = 30


@shared_task
def sweep_letters(limit=1000):
    """Remind a worker of letters whose reminder was lost: due for LETTER_REMINDER_GRACE_SECONDS, or
    stuck in sending past their lease.

    A lost broker message, a flushed Redis or a killed worker so delays a letter, never loses it.
    The reminder is sent whatever LETTERS_REMINDED_KEY says: a dead worker's key would hold it back.
    One deliver_due_letters is enough, as it asks other processes to help with a backlog. Letters
    due only a moment ago are left alone: their reminder is most likely still in the queue.
    """
    now = timezone.now()
    # A letter whose worker died every time it tried (a crash the letter causes, say) stops here.
    Letter.objects.filter(
        status=Letter.Status.SENDING, lease_until__lt=now, attempts__gte=settings.LETTER_MAX_ATTEMPTS
    ).update(status=Letter.Status.FAILED, lease_until=None, last_error="The worker sending it stopped every time.")
    overdue = now - timedelta(seconds=LETTER_REMINDER_GRACE_SECONDS)
    ids = list(
        Letter.objects.due(now)
        .filter(attempts__lt=settings.LETTER_MAX_ATTEMPTS)
        .filter(
            Q(status=Letter.Status.SENDING)
            | Q(next_attempt_at__lte=overdue)
            | Q(next_attempt_at__isnull=True, created_at__lte=overdue)
        )
        .values_list("pk", flat=True)[:limit]
    )
    if ids:
        cache.set(LETTERS_REMINDED_KEY, 1, LETTERS_REMINDED_SECONDS)
        deliver_due_letters.delay()
    return len(ids)


@shared_task
def sweep_confirmations(limit=1000):
    """Send confirmations and receipts that were never sent: the broker was down when they were due."""
    now = timezone.now()
    grace = timedelta(seconds=settings.CONFIRMATION_SWEEP_GRACE_SECONDS)
    receipts = list(
        Signature.objects.filter(
            status=Signature.Status.CONFIRMED,
            receipt_sent_at__isnull=True,
            confirmed_at__lt=now - grace,
            confirmed_at__gt=now - timedelta(days=settings.CONFIRMATION_MAX_AGE_DAYS),
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in receipts:
        send_receipt.delay(pk)
    # Confirmations due for longer than the grace: their reminder was lost, or the mail server failed.
    due = Signature.objects.confirmations_due(now).filter(created_at__lt=now - grace).count()
    if due:
        send_confirmations.delay()
    return due + len(receipts)


@shared_task
def purge_personal_data():
    """Erase unconfirmed signatures past their time, signers' data on long-closed petitions, old log-in records."""
    now = timezone.now()
    stale = Signature.objects.filter(
        status__in=[Signature.Status.PENDING, Signature.Status.QUARANTINED],
        created_at__lt=now - timedelta(days=settings.UNCONFIRMED_RETENTION_DAYS),
    )
    deleted, _ = stale.delete()
    closed = Petition.objects.filter(
        status=Petition.Status.CLOSED,
        closed_at__lt=now - timedelta(days=settings.CLOSED_PETITION_RETENTION_DAYS),
    )
    erased = 0
    for signature in Signature.objects.filter(petition__in=closed).exclude(email="").iterator():
        if signature.letters.filter(status__in=[Letter.Status.QUEUED, Letter.Status.SENDING]).exists():
            continue
        services.erase_personal_data(signature)
        signature.save()
        erased += 1
    # Address hashes serve rate limits and the review of a flood; after that they only track people.
    dropped = (
        Signature.objects.filter(created_at__lt=now - timedelta(days=settings.IP_HASH_RETENTION_DAYS))
        .exclude(ip_hash="", ip_prefix_hash="")
        .update(ip_hash="", ip_prefix_hash="")
    )
    return {
        "deleted_unconfirmed": deleted,
        "erased_closed": erased,
        "dropped_ip_hashes": dropped,
        "dropped_login_records": _purge_login_records(now),
    }


def _purge_login_records(now):
    """Drop django-axes' records of staff log-ins older than STAFF_LOGIN_RETENTION_DAYS; how many went."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    before = now - timedelta(days=settings.STAFF_LOGIN_RETENTION_DAYS)
    return sum(
        model.objects.filter(attempt_time__lt=before).delete()[0]
        for model in (AccessAttempt, AccessFailureLog, AccessLog)
    )


@shared_task(acks_late=True)
def send_update(update_id):
    """Send an update to one batch of its signers at UPDATE_SEND_RATE, then hand over to the next batch.

    Each person's row is claimed before sending (see updates.send_one), so a redelivered message,
    a second task or a restarted worker never sends anyone the update twice. Small batches, each a
    task of its own, let a restarted worker pick up where the last one stopped.
    """
    import time

    update = Update.objects.filter(pk=update_id, status=Update.Status.SENDING).first()
    if update is None:
        return 0
    updates.create_deliveries(update)
    updates.skip_lapsed(update)
    ids = list(
        update.deliveries.filter(status=UpdateDelivery.Status.PENDING)
        .order_by("pk")
        .values_list("pk", flat=True)[: settings.UPDATE_BATCH_SIZE]
    )
    interval = 1 / settings.UPDATE_SEND_RATE if settings.UPDATE_SEND_RATE > 0 else 0
    sent = 0
    for pk in ids:
        started = time.monotonic()
        if updates.send_one(pk) == UpdateDelivery.Status.SENT:
            sent += 1
        time.sleep(max(0, interval - (time.monotonic() - started)))
    if update.deliveries.filter(status=UpdateDelivery.Status.PENDING).exists():
        send_update.delay(update_id)
    else:
        updates.finish_if_done(update)
    return sent


@shared_task
def send_update_test(update_id, email, name=""):
    """Send an organizer the update in every language, as signers will get it."""
    update = Update.objects.select_related("petition").filter(pk=update_id).first()
    if update is not None:
        updates.send_test(update, email, name)


@shared_task
def resume_updates(stalled_after_seconds=120):
    """Restart updates whose worker died: fail rows cut off mid-send, enqueue the rest again."""
    resumed = 0
    for update in Update.objects.filter(status=Update.Status.SENDING):
        updates.fail_interrupted(update)
        if updates.finish_if_done(update) or not updates.stalled(update, after_seconds=stalled_after_seconds):
            continue
        send_update.delay(update.pk)
        resumed += 1
    return resumed


@shared_task
def send_followups(limit=500):
    """Ask signers whose letters were delivered FOLLOWUP_DAYS ago whether offices replied; remind once."""
    asked = reminded = 0
    for signature in followups.due_signatures().select_related("petition")[:limit]:
        try:
            asked += followups.ask(signature)
        except Exception:
            log.exception("follow-up to signature %s not sent; a later run asks again", signature.pk)
    for followup in followups.due_reminders().select_related("signature__petition")[:limit]:
        try:
            reminded += followups.remind(followup)
        except Exception:
            log.exception("reminder for follow-up %s not sent; a later run tries again", followup.pk)
    return {"asked": asked, "reminded": reminded}


@shared_task(acks_late=True)
def send_organizer_digest(digest_id):
    """Send one organizers' digest (petitions/organizers/digest.py) to the organizers it has not reached yet."""
    return digest.send(digest_id)


@shared_task
def start_organizer_digest():
    """Make today's organizers' digest of letters that need them, once a day, and send it."""
    made = digest.start_daily()
    return made.pk if made else None


@shared_task
def resume_organizer_digests():
    """Finish digests whose message was lost or whose worker died, without sending anyone one twice."""
    return digest.resume()
