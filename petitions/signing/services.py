"""The campaign's rules that span records: signing, confirming, withdrawing and writing letters."""

import hashlib
import json
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation

from .. import reminders
from ..delivery import settings_problem
from ..delivery.printing import BATCH_PREFIX
from ..models import Letter, Petition, Recipient, Signature
from .abuse import HELD_CONFIRMATION_REASONS

# Providers that deliver user+tag@ to user@, and those that also ignore dots in the local part.
# One person must not count many times by writing their address differently.
_PLUS_TAG_DOMAINS = {
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "icloud.com",
    "me.com", "fastmail.com", "protonmail.com", "proton.me", "pm.me", "yandex.ru", "ya.ru",
}  # fmt: skip
_DOTLESS_DOMAINS = {"gmail.com", "googlemail.com"}

_CONFIRM_SALT = "petitions.confirm"
_STATUS_SALT = "petitions.status"
_WITHDRAW_SALT = "petitions.withdraw"


def normalize_email(email):
    """The form of an address used to find duplicates: case, dots and +tags folded where ignored."""
    local, _at, domain = email.strip().lower().rpartition("@")
    if domain == "googlemail.com":
        domain = "gmail.com"
    if domain in _PLUS_TAG_DOMAINS:
        local = local.split("+", 1)[0]
    if domain in _DOTLESS_DOMAINS:
        local = local.replace(".", "")
    return f"{local}@{domain}"


def recipients_for(petition, state, abroad):
    """Who a signer from STATE (or abroad) may write to under PETITION's rules: senators, then the President.

    Every signature asks this, so it reads the officials this process keeps in memory
    (`Recipient.objects.kept_active`): the state's senators by class, and the President that
    `RecipientQuerySet.president` names (the first by id).
    """
    senators, presidents = [], []
    for recipient in Recipient.objects.kept_active():
        if recipient.kind == Recipient.Kind.SENATOR:
            if petition.allow_senators and not abroad and state and recipient.state == state:
                senators.append(recipient)
        elif recipient.kind == Recipient.Kind.PRESIDENT and petition.allow_president:
            presidents.append(recipient)
    # kept_active lists them by senate class, then id: the first President here is the first by id.
    return senators + presidents[:1]


# The fields of a signature that a signer types or chooses, in the order details_hash reads them.
_SIGNER_FIELDS = (
    "title", "first_name", "last_name", "email", "address", "city", "state", "zip_code", "country",
    "phone", "note", "wants_updates",
)  # fmt: skip


def details_hash(fields, recipients):
    """A hash of exactly what one signing attempt sent: the details, the letter seen and the recipients."""
    # The address as normalized: the same person typing it another way is the same attempt.
    names = [name for name in _SIGNER_FIELDS if name != "email"]
    sent = [fields[name] for name in (*names, "email_normalized", "language", "letter_hash")]
    sent.append(sorted(getattr(recipient, "pk", recipient) for recipient in recipients))
    return hashlib.sha256(json.dumps(sent, ensure_ascii=False).encode()).hexdigest()


def sign(petition, data, language, ip_hash="", ip_prefix_hash="", quarantine_reason=""):
    """Record a signing attempt from the cleaned form DATA and send it a confirmation e-mail.

    1. Every attempt is a row of its own, with its own confirmation link, and nothing ever changes
       the details of another: whoever signs with someone else's address only makes an attempt that
       the address's owner can confirm or ignore. Confirming one voids the others of that address
       (`confirm_signature`). The answer is the same whether or not the address signed before.
    2. The same details sent again (a double click, a signer who lost the e-mail) find the attempt
       they made: the unique constraint on the petition, address and `details_hash` of the pending
       and quarantined attempts says so, and that attempt gets its link again.
    3. With a QUARANTINE_REASON (a rate limit, a bot trap, a blocked network) a new attempt is kept
       quarantined, without a confirmation, for organizers to review; an existing one is left as it
       is. A clean attempt later takes the same details, quarantined, back to pending.
    4. The confirmation e-mail is due from then on, and a worker is reminded once the transaction
       commits (`reminders.remind_confirmations`). If the broker is down the signature is saved all the
       same, and `sweep_confirmations` sends it later.
    """
    fields = {name: data[name] for name in _SIGNER_FIELDS}
    fields.update(
        email_normalized=normalize_email(data["email"]),
        language=language,
        letter_hash=petition.letter_hash(),
        letter_text=petition.letter_en,
        ip_hash=ip_hash,
        ip_prefix_hash=ip_prefix_hash,
    )
    chosen = data["recipients"]
    fields["details_hash"] = details_hash(fields, chosen)
    status = Signature.Status.QUARANTINED if quarantine_reason else Signature.Status.PENDING
    for _attempt in range(2):
        try:
            signature = Signature.objects.insert_with_recipients(
                Signature(petition=petition, status=status, quarantine_reason=quarantine_reason, **fields), chosen
            )
        except IntegrityError:
            signature = _sent_again(petition, fields, quarantine_reason)
            if signature is None:
                continue  # confirmed or erased since the INSERT: this attempt is a new one after all
            return signature
        _confirm_after_commit(signature)
        return signature
    return None


def _sent_again(petition, fields, quarantine_reason):
    """The attempt with exactly these details, sent once more: its link again, or out of quarantine if clean now."""
    attempt = Signature.objects.filter(
        petition=petition,
        email_normalized=fields["email_normalized"],
        details_hash=fields["details_hash"],
        status__in=[Signature.Status.PENDING, Signature.Status.QUARANTINED],
    )
    signature = attempt.first()
    if signature is None or quarantine_reason:
        return signature
    # Conditional on the status read, so a confirmation or a review meanwhile is left as it is.
    # The link goes out again, even if a worker is sending it now: the signer asked again.
    if attempt.filter(pk=signature.pk, status=signature.status).update(
        status=Signature.Status.PENDING, quarantine_reason="", confirmation_sent_at=None, confirmation_lease_until=None
    ):
        signature.status = Signature.Status.PENDING
        _confirm_after_commit(signature)
    return signature


def _confirm_after_commit(signature):
    if signature.status == Signature.Status.PENDING:
        transaction.on_commit(reminders.remind_confirmations, robust=True)


def resend_confirmation(petition, email):
    """Send a new link to a pending signature of this address, if there is one; say nothing either way."""
    resent = Signature.objects.filter(
        petition=petition, email_normalized=normalize_email(email), status=Signature.Status.PENDING
    ).update(confirmation_sent_at=None, confirmation_lease_until=None)
    if resent:
        transaction.on_commit(reminders.remind_confirmations, robust=True)


def make_token(signature, salt):
    return signing.dumps(signature.pk, salt=salt, compress=True)


def confirmation_token(signature):
    return make_token(signature, _CONFIRM_SALT)


def status_token(signature):
    return make_token(signature, _STATUS_SALT)


def withdraw_token(signature):
    return make_token(signature, _WITHDRAW_SALT)


def signature_from_token(token, salt, max_age=None):
    """The signature a signed link names, or None when the link is forged, expired or stale."""
    try:
        pk = signing.loads(token, salt=salt, max_age=max_age)
    except signing.BadSignature:
        return None
    return Signature.objects.select_related("petition").filter(pk=pk).first()


def signature_from_confirmation(token):
    max_age = settings.CONFIRMATION_MAX_AGE_DAYS * 86400
    return signature_from_token(token, _CONFIRM_SALT, max_age=max_age)


def petition_of_expired_confirmation(token):
    """The petition a genuine but expired confirmation link was for, or None for a forged one."""
    signature = signature_from_token(token, _CONFIRM_SALT)
    return signature.petition if signature else None


def _signer_link_max_age():
    return settings.SIGNER_LINK_MAX_AGE_DAYS * 86400


def signature_from_status(token):
    """The signature a status link names, or None when forged, stale or older than SIGNER_LINK_MAX_AGE_DAYS."""
    return signature_from_token(token, _STATUS_SALT, max_age=_signer_link_max_age())


def signature_from_withdraw(token):
    """The signature a withdraw link names, or None when forged, stale or older than SIGNER_LINK_MAX_AGE_DAYS."""
    return signature_from_token(token, _WITHDRAW_SALT, max_age=_signer_link_max_age())


def petition_of_expired_signer_link(token):
    """The petition a genuine status or withdraw link was for, once it is too old; None for any other token."""
    for salt in (_STATUS_SALT, _WITHDRAW_SALT):
        if signature_from_token(token, salt, max_age=_signer_link_max_age()) is not None:
            return None
        signature = signature_from_token(token, salt)
        if signature is not None:
            return signature.petition
    return None


def send_new_links(petition, email):
    """E-mail new status and withdraw links to this address's signature, if it has one; say nothing either way."""
    signature = (
        Signature.objects.filter(petition=petition, email_normalized=normalize_email(email))
        .filter(status=Signature.Status.CONFIRMED)
        .first()
    )
    if signature is not None:
        transaction.on_commit(lambda: reminders.enqueue("send_links", signature.pk), robust=True)


def absolute(path):
    return settings.SITE_URL + path


def signer_links(signature):
    """The signed links a signer's e-mails carry, in the language they signed in."""
    with translation.override(signature.language):
        return {
            "confirm_url": absolute(reverse("petitions:confirm", args=[confirmation_token(signature)])),
            "status_url": absolute(reverse("petitions:status", args=[status_token(signature)])),
            "withdraw_url": absolute(reverse("petitions:withdraw", args=[withdraw_token(signature)])),
            "petition_url": absolute(signature.petition.get_absolute_url()),
        }


@dataclass(frozen=True)
class ComposedLetter:
    """One letter as it will be sent, in its parts; `body` is the text every channel sends unchanged."""

    recipient: Recipient
    salutation: str
    text: str
    note: str
    closing: str

    @property
    def body(self):
        return "\n\n".join(part for part in (self.salutation, self.text, self.note, self.closing) if part)


def compose_letter(signature, recipient):
    """The letter SIGNATURE sends RECIPIENT: salutation, the English letter, the note, the closing.

    The confirmation page shows these letters and `confirm_signature` stores their `body`, so what a
    signer sees is what is sent. A personal note too long for the letter to fit Letter.MAX_CHARS is
    cut, so that every channel sends this text unchanged and it stays the record of what was sent.
    """
    salutation, text = recipient.salutation, signature.letter_text.strip()
    closing = "Sincerely,\n" + signature.closing()
    note = signature.note.strip()
    room = Letter.MAX_CHARS - len("\n\n".join([salutation, text, closing])) - 2
    if len(note) > room:
        note = note[: max(0, room - 1)].rstrip() + "…" if room > 20 else ""
    return ComposedLetter(recipient=recipient, salutation=salutation, text=text, note=note, closing=closing)


def render_letter(signature, recipient):
    """The text of one letter exactly as it will be sent (see `compose_letter`)."""
    return compose_letter(signature, recipient).body


def letters_to_confirm(signature):
    """The letters a pending SIGNATURE would send, one per chosen recipient still in office, as composed."""
    return [compose_letter(signature, recipient) for recipient in signature.recipients.filter(is_active=True)]


def confirm_signature(signature, recipient_ids=None):
    """Confirm a pending signature and queue one letter per chosen recipient, in one transaction.

    1. Lock the row and check it is still pending, so two clicks confirm once.
    2. Narrow the recipients to those the signer kept ticked on the confirmation page.
    3. Confirm it, unless another attempt of the same address was confirmed first (the unique
       constraint says so): then this attempt is void and deleted. Otherwise every other attempt
       of the address is void and deleted.
    4. Create the letters, and once the transaction commits remind a worker that letters are due.
    Returns True when this call confirmed the signature.
    """
    with transaction.atomic():
        locked = Signature.objects.select_for_update().filter(pk=signature.pk).first()
        if locked is None or locked.status != Signature.Status.PENDING:
            return False
        recipients = list(locked.recipients.filter(is_active=True))
        if recipient_ids is not None:
            recipients = [r for r in recipients if r.pk in set(recipient_ids)]
            locked.recipients.set(recipients)
        locked.status = Signature.Status.CONFIRMED
        locked.confirmed_at = timezone.now()
        try:
            with transaction.atomic():
                locked.save(update_fields=["status", "confirmed_at"])
        except IntegrityError:
            # Another attempt of this address was confirmed first: that one stands, this one is void.
            locked.delete()
            return False
        # The other attempts of this address are void: their links stop working, their details go.
        locked.other_attempts().delete()
        letters = [
            Letter.objects.create(
                signature=locked,
                recipient=recipient,
                channel=recipient.channel,
                body=render_letter(locked, recipient),
                # With no channel set, organizers must route the letter by hand.
                status=Letter.Status.QUEUED if recipient.channel else Letter.Status.NEEDS_ACTION,
            )
            for recipient in recipients
        ]
        letter_ids = [letter.pk for letter in letters if letter.status == Letter.Status.QUEUED]

        def _enqueue():
            if letter_ids:  # The database says which letters are due; a worker takes them in batches.
                reminders.remind_letters()
            reminders.enqueue("send_receipt", locked.pk)

        # Robust: with the broker down the letters are saved and the sweeper sends them later.
        transaction.on_commit(_enqueue, robust=True)
    signature.refresh_from_db()
    signature.petition.forget_count()
    return True


def hold_confirmation(signature, recipient_ids, reason):
    """Keep a confirmation that came past a confirmation limit, for organizers to release; True if held.

    The signature is quarantined with REASON and the recipients the signer kept ticked, so that
    releasing it (release_quarantined) confirms exactly what the signer confirmed.
    """
    with transaction.atomic():
        locked = Signature.objects.select_for_update().filter(pk=signature.pk).first()
        if locked is None or locked.status != Signature.Status.PENDING:
            return False
        if recipient_ids is not None:
            wanted = set(recipient_ids)
            locked.recipients.set([r for r in locked.recipients.filter(is_active=True) if r.pk in wanted])
        locked.status = Signature.Status.QUARANTINED
        locked.quarantine_reason = reason
        locked.save(update_fields=["status", "quarantine_reason"])
    signature.refresh_from_db()
    return True


def release_quarantined(signatures):
    """Release the quarantined ones of SIGNATURES: (links sent again, confirmations confirmed).

    A signature quarantined when signed goes back to pending and gets its confirmation e-mail. A
    held confirmation was confirmed by its signer already: releasing it confirms it, letters and
    receipt as usual (or voids it, when another attempt of the address was confirmed meanwhile).
    """
    quarantined = signatures.filter(status=Signature.Status.QUARANTINED)
    held = list(quarantined.filter(quarantine_reason__in=HELD_CONFIRMATION_REASONS).values_list("pk", flat=True))
    with transaction.atomic():
        ids = list(quarantined.exclude(pk__in=held).values_list("pk", flat=True))
        # Conditional on the status, so one released by someone else meanwhile is not sent twice.
        sent = Signature.objects.filter(pk__in=ids, status=Signature.Status.QUARANTINED).update(
            status=Signature.Status.PENDING, quarantine_reason="", confirmation_sent_at=None,
            confirmation_lease_until=None,
        )  # fmt: skip
        if sent:
            transaction.on_commit(reminders.remind_confirmations, robust=True)
    confirmed = 0
    for pk in held:
        # Back to pending (its e-mail went out long ago), then confirmed as if its signer pressed now.
        if Signature.objects.filter(pk=pk, status=Signature.Status.QUARANTINED).update(
            status=Signature.Status.PENDING, quarantine_reason=""
        ):
            confirmed += confirm_signature(Signature.objects.select_related("petition").get(pk=pk))
    return sent, confirmed


def withdraw(signature):
    """Erase a signer's personal data, keep an anonymous count, and stop letters not yet sent.

    Every other unconfirmed attempt with the signer's address goes too: the address is theirs.
    """
    with transaction.atomic():
        locked = Signature.objects.select_for_update().get(pk=signature.pk)
        if locked.status == Signature.Status.WITHDRAWN:
            return False
        locked.letters.filter(status__in=[Letter.Status.QUEUED, Letter.Status.NEEDS_ACTION]).update(
            status=Letter.Status.CANCELLED
        )
        if locked.email_normalized:
            locked.other_attempts().delete()
        erase_personal_data(locked)
        locked.status = Signature.Status.WITHDRAWN
        locked.withdrawn_at = timezone.now()
        locked.save()
    signature.petition.forget_count()
    return True


def erase_personal_data(signature):
    """Blank every field that names or locates a person, in SIGNATURE and in every copy of its letters.

    The signature's row stays for counting (the caller saves it). Its letters keep their delivery
    id, recipient, channel, status and dates, so counts and the audit still add up, and a print
    batch's stamp, which names no signer; their text, and the channels' answers and errors, which
    may quote it, are blanked. So are the errors of updates sent to the signer, which may name the
    address.
    """
    for field in (
        "first_name", "last_name", "email", "email_normalized", "address", "city", "zip_code", "phone", "note",
        "ip_hash", "ip_prefix_hash", "letter_text", "details_hash",
    ):  # fmt: skip
        setattr(signature, field, "")
    signature.letters.update(body="", last_error="")
    signature.letters.exclude(response__startswith=BATCH_PREFIX).exclude(response="").update(response="")
    signature.update_deliveries.update(error="")


def petition_for_signing(slug):
    return Petition.objects.open().filter(slug=slug).first()


def reroute_letters(letters, channel=None):
    """Queue LETTERS again, through CHANNEL or, when None, each through its recipient's channel now.

    Only letters not on their way move (queued, failed, waiting for organizers), and never one that
    went out in a print batch not yet marked delivered: it may be in the post already. A letter
    whose recipient lacks what the channel needs stays as it is. Returns (moved, [(letter, why)]).
    """
    movable = [Letter.Status.QUEUED, Letter.Status.FAILED, Letter.Status.NEEDS_ACTION]
    candidates = (
        letters.filter(status__in=movable)
        .exclude(status=Letter.Status.NEEDS_ACTION, response__startswith=BATCH_PREFIX)
        .select_related("recipient")
    )
    routes, refused = {}, []
    for letter in candidates:
        name = letter.recipient.channel if channel is None else channel
        problem = settings_problem(name, letter.recipient)
        if problem:
            refused.append((letter, problem))
        else:
            routes.setdefault(name, []).append(letter.pk)
    moved = 0
    with transaction.atomic():
        for name, ids in routes.items():
            # Conditional, so a letter a worker claimed meanwhile is left to that worker.
            moved += Letter.objects.filter(pk__in=ids, status__in=movable).update(
                channel=name, status=Letter.Status.QUEUED, attempts=0, next_attempt_at=timezone.now()
            )
        ids = [pk for pks in routes.values() for pk in pks]
        transaction.on_commit(lambda: reminders.deliver_letters(ids))
    return moved, refused
