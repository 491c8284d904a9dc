"""The e-mail channel: the letter as plain text to a recipient's staff intake address, Reply-To the signer."""

import contextlib
import smtplib
import threading
from email.utils import parseaddr

from celery import signals
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from . import Channel, Outcome


def _smtp_outcome(code, error):
    """SMTP's own rule: 4xx means try later, 5xx means never; anything else is treated as later."""
    return Outcome.permanent(error) if 500 <= code < 600 else Outcome.temporary(error)


class _KeptConnection:
    """One SMTP connection per worker process, kept open between letters.

    Opening a connection (TCP, EHLO, STARTTLS, AUTH) costs more than sending a letter, and a letters
    worker sends them back to back. The connection is closed after any error, so the next letter
    starts afresh, and at the worker process's shutdown. A lock keeps it to one letter at a time
    should the worker run threads. The settings it was opened with are part of it: if they change
    (tests point EMAIL_PORT at a new server), a new connection is opened.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.connection = None
        self.opened_with = None

    @staticmethod
    def _settings():
        return (
            settings.EMAIL_BACKEND,
            settings.EMAIL_HOST,
            settings.EMAIL_PORT,
            settings.EMAIL_HOST_USER,
            settings.EMAIL_USE_TLS,
            settings.EMAIL_USE_SSL,
        )

    def send(self, message):
        """Send MESSAGE; a kept connection the server dropped meanwhile is replaced once, silently."""
        with self.lock:
            reused = self.connection is not None and self.opened_with == self._settings()
            try:
                self._send(message, fresh=not reused)
            except (smtplib.SMTPServerDisconnected, ConnectionError):
                if not reused:
                    raise
                # The server closed the connection while it sat idle between letters: nothing was sent.
                self._send(message, fresh=True)

    def _send(self, message, fresh):
        if fresh:
            self._close()
            self.connection = get_connection(fail_silently=False)
            self.opened_with = self._settings()
        try:
            self.connection.open()
            self.connection.send_messages([message])
        except BaseException:
            self._close()
            raise

    def close(self):
        with self.lock:
            self._close()

    def _close(self):
        connection, self.connection, self.opened_with = self.connection, None, None
        if connection is not None:
            # Already broken, perhaps: then there is nothing left to close politely.
            with contextlib.suppress(OSError, smtplib.SMTPException):
                connection.close()


_kept = _KeptConnection()


@signals.worker_process_shutdown.connect
@signals.worker_shutdown.connect
def _close_kept_connection(**kwargs):
    _kept.close()


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
            _kept.send(message)
        except smtplib.SMTPResponseException as exc:
            return _smtp_outcome(exc.smtp_code, f"SMTP {exc.smtp_code}: {exc.smtp_error!r}")
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _msg in exc.recipients.values()]
            error = f"SMTP recipients refused: {exc.recipients!r}"
            return _smtp_outcome(max(codes, default=0), error)
        except (OSError, smtplib.SMTPException) as exc:
            return Outcome.temporary(f"{type(exc).__name__}: {exc}")
        return Outcome.delivered(f"Message-ID {message_id}")
