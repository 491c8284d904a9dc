"""The e-mail channel: the letter as plain text to a recipient's staff intake address, Reply-To the signer."""

import smtplib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from . import Channel, Outcome


class EmailChannel(Channel):
    @classmethod
    def settings_errors(cls, channel_settings):
        address = (channel_settings or {}).get("address", "")
        try:
            validate_email(address)
        except ValidationError:
            return {"address": _("Enter the office's intake e-mail address.")}
        return {}

    def send(self, letter):
        recipient = letter.recipient
        signature = letter.signature
        domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].rstrip(">") or "localhost"
        message = EmailMessage(
            subject=signature.petition.letter_subject,
            body=letter.body,
            to=[recipient.channel_settings["address"]],
            reply_to=[signature.email] if signature.email else None,
            # The delivery id in the Message-ID lets a receiving system drop a duplicate.
            headers={"Message-ID": f"<{letter.delivery_id}@{domain}>", "X-Delivery-Id": letter.delivery_id},
        )
        try:
            message.send(fail_silently=False)
        except smtplib.SMTPResponseException as exc:
            error = f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"
            return Outcome.temporary(error) if 400 <= exc.smtp_code < 500 else Outcome.permanent(error)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _msg in exc.recipients.values()]
            error = f"SMTP recipients refused: {exc.recipients!r}"
            return Outcome.temporary(error) if all(400 <= c < 500 for c in codes) else Outcome.permanent(error)
        except (OSError, smtplib.SMTPException, TimeoutError) as exc:
            return Outcome.temporary(f"{type(exc).__name__}: {exc}")
        return Outcome.delivered(f"Message-ID <{letter.delivery_id}@{domain}>")
