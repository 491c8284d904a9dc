"""Log lines for every process: one line per event, tagged with a request id, without e-mail addresses.

The web process, the workers and gunicorn itself all log through these filters and this formatter
(settings.LOGGING and gunicorn.conf.py), so one grep for a request id follows a signature from the
sign form to the worker that mailed its confirmation.
"""

import contextvars
import logging
import re

# The id of the request (or task) this thread is working on: set by campaign.middleware for
# requests and by campaign.celery for tasks, "-" outside both.
request_id = contextvars.ContextVar("request_id", default="-")

# Loose on purpose: anything that looks like local@domain.tld goes, a false positive costs nothing.
_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
EMAIL_PLACEHOLDER = "[e-mail]"


def scrub(text):
    return _EMAIL.sub(EMAIL_PLACEHOLDER, text)


class RequestIdFilter(logging.Filter):
    """Gives every record a `request_id` attribute for the formatter."""

    def filter(self, record):
        record.request_id = request_id.get()
        return True


class ScrubEmailFilter(logging.Filter):
    """Replaces e-mail addresses in the message and traceback.

    Code never logs a signer's address on purpose; this is the second line of defence for the
    messages it does not write itself: an SMTP error that quotes the refused recipient, an exception
    raised with a form value.
    """

    def filter(self, record):
        try:
            message = record.getMessage()
        except Exception:  # A broken format string: let logging report it as it always does.
            return True
        record.msg, record.args = scrub(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


class OneLineFormatter(logging.Formatter):
    """Keeps a traceback on its event's line, so a log collector never splits one event in many."""

    def format(self, record):
        return super().format(record).replace("\r", "").replace("\n", "\\n")
