"""One SMTP connection per worker process, kept open between the e-mails it sends (signers' and letters)."""

import contextlib
import smtplib
import threading

from celery import signals
from django.conf import settings
from django.core.mail import get_connection


class KeptConnection:
    """A mail connection kept open between messages, replaced when it broke or the settings changed.

    Opening a connection (TCP, EHLO, STARTTLS, AUTH) costs more CPU than sending a message, and a
    worker sends confirmations and letters back to back. The connection is closed after any error,
    so the next message starts afresh, and at the worker process's shutdown. A lock keeps it to one
    message at a time should the worker run threads. The settings it was opened with are part of
    it: if they change (tests point EMAIL_PORT at a new server), a new connection is opened.
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
            except (smtplib.SMTPServerDisconnected, ConnectionError, smtplib.SMTPResponseException) as exc:
                if not reused or not _dropped(exc):
                    raise
                # The server closed the connection while it sat idle between messages: nothing was sent.
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


def _dropped(exc):
    """Whether EXC says the server had closed an idle connection before this message.

    A server that times out an idle client either just closes the socket, or first answers 421
    ("closing transmission channel"), which smtplib reports on the next command. Neither accepted
    the message, so sending it again on a new connection cannot send it twice.
    """
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code == 421
    return True


kept = KeptConnection()


def send(message):
    """Send MESSAGE (a Django EmailMessage) over this process's kept connection."""
    kept.send(message)


@signals.worker_process_shutdown.connect
@signals.worker_shutdown.connect
def _close_kept_connection(**kwargs):
    kept.close()
