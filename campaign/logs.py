"""Log lines for every process: one line per event, tagged with a request id, without e-mail addresses or tokens.

The web process, the workers and gunicorn itself all log through these filters and this formatter
(settings.LOGGING and gunicorn.conf.py, both built by logging_config), so one grep for a request id
follows a signature from the sign form to the worker that mailed its confirmation.
This module imports nothing of Django's: gunicorn reads its settings before Django is set up.
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
    # Most lines (every access line) have no "@": the test is a hundredth of the regex's cost.
    if "@" not in text:
        return text
    return _EMAIL.sub(EMAIL_PLACEHOLDER, text)


# The signer's links carry a signed token in the path: whoever reads it from a log could confirm,
# withdraw or read a signature. Tokens after these paths, and anything shaped like a value of
# django.core.signing (payload:timestamp:signature, the signature 27 or more URL-safe characters),
# are replaced wherever they appear.
_TOKEN_PATH = re.compile(r"/(confirm|thanks|status|withdraw|unsubscribe|followup)/[^/\s\"'?#]+")
_SIGNED_VALUE = re.compile(r"[\w.-]+:[\w-]{4,}:[\w-]{27,}")
TOKEN_PLACEHOLDER = "[token]"  # noqa: S105 - what replaces a token, not one
_TOKEN_NAMES = ("confirm", "thanks", "status", "withdraw", "unsubscribe", "followup")


def redact_tokens(text):
    if ":" not in text and not any(f"/{name}/" in text for name in _TOKEN_NAMES):
        return text
    text = _TOKEN_PATH.sub(lambda match: f"/{match.group(1)}/{TOKEN_PLACEHOLDER}", text)
    return _SIGNED_VALUE.sub(TOKEN_PLACEHOLDER, text)


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


class RedactTokensFilter(logging.Filter):
    """Replaces the signed tokens of signers' links in the message and traceback (see redact_tokens)."""

    def filter(self, record):
        try:
            message = record.getMessage()
        except Exception:  # A broken format string: let logging report it as it always does.
            return True
        record.msg, record.args = redact_tokens(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_tokens(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_tokens(record.stack_info)
        return True


class OneLineFormatter(logging.Formatter):
    """Keeps a traceback on its event's line, so a log collector never splits one event in many."""

    def format(self, record):
        return super().format(record).replace("\r", "").replace("\n", "\\n")


# The columns of every line: time, level, logger, the request (or task) id, the message.
LINE_FORMAT = "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s"
# gunicorn's access lines: the same columns, with the request id at the start of the message itself
# (access_log_format in gunicorn.conf.py) instead of from the filter.
ACCESS_LINE_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def logging_config(formats, handlers, root, loggers=None):
    """A logging.config.dictConfig for one process: its handlers, on one-line formatters and these filters.

    FORMATS maps each formatter's name to its format; every handler may name the filters
    "request_id", "scrub_email" and "redact_tokens".
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": "campaign.logs.RequestIdFilter"},
            "scrub_email": {"()": "campaign.logs.ScrubEmailFilter"},
            "redact_tokens": {"()": "campaign.logs.RedactTokensFilter"},
        },
        "formatters": {
            name: {"()": "campaign.logs.OneLineFormatter", "format": line_format}
            for name, line_format in formats.items()
        },
        "handlers": handlers,
        "root": root,
        "loggers": loggers or {},
    }
