"""The e-mail channel: the letter as plain text to a recipient's staff intake address, Reply-To the signer."""

import smtplib
from email.utils import parseaddr

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from .. import smtp
from . import Channel, Outcome


def _smtp_outcome(code, error):
    """SMTP's own rule: 4xx means try later, 5xx means never; anything else is treated as later."""
    return Outcome.permanent(error) if 500 <= code < 600 else Outcome.temporary(error)


class EmailChannel(Channel):
    @classmethod
    def settings_errors(cls, channel_settings, recipient=None):
        address = (channel_settings or {}).get("address", "")
        try:
            validate_email(address)
        except ValidationError:
            return {"address": _("Enter the office's intake e-mail address, for example letters@example.senate.gov.")}
        return {}

    def send(self, letter):
        recipient = letter.recipient
        signature = letter.signature
        domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
        message_id = f"<{letter.delivery_id}@{domain}>"
        message = EmailMessage(
            subject=signature.petition.letter_subject,
            body=letter.body,
            to=[recipient.channel_settings["address"]],
            reply_to=[signature.email] if signature.email else None,
            # The delivery id in the Message-ID lets a receiving system drop a duplicate.
            headers={"Message-ID": message_id, "X-Delivery-Id": letter.delivery_id},
        )
        try:
            smtp.send(message)
        except smtplib.SMTPResponseException as exc:
            return _smtp_outcome(exc.smtp_code, f"SMTP {exc.smtp_code}: {exc.smtp_error!r}")
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _msg in exc.recipients.values()]
            error = f"SMTP recipients refused: {exc.recipients!r}"
            return _smtp_outcome(max(codes, default=0), error)
        except (OSError, smtplib.SMTPException) as exc:
            return Outcome.temporary(f"{type(exc).__name__}: {exc}")
        return Outcome.delivered(f"Message-ID {message_id}")
