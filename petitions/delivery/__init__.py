"""Delivery channels: each sends one letter its own way and says how it went.

A channel never retries and never writes to the database; `petitions.tasks.deliver_letters` decides
what an outcome means for the letter. Channels are looked up by the letter's `channel` value, which
starts as its recipient's channel and changes when organizers re-route the letter.
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Outcome:
    DELIVERED = "delivered"
    TEMPORARY = "temporary"
    PERMANENT = "permanent"
    NEEDS_ACTION = "needs_action"
    # Not an attempt at all: the receiver asked us to wait (a maintenance window, a rate limit).
    DEFERRED = "deferred"

    kind: str
    detail: str = ""
    not_before: datetime | None = None

    @classmethod
    def delivered(cls, reference=""):
        return cls(cls.DELIVERED, reference)

    @classmethod
    def temporary(cls, error):
        return cls(cls.TEMPORARY, error)

    @classmethod
    def permanent(cls, error):
        return cls(cls.PERMANENT, error)

    @classmethod
    def needs_action(cls, reason):
        return cls(cls.NEEDS_ACTION, reason)

    @classmethod
    def deferred(cls, reason, not_before):
        return cls(cls.DEFERRED, reason, not_before)


class Channel:
    """One way of delivering letters. Subclasses implement `send` and may check their settings."""

    def send(self, letter):
        raise NotImplementedError

    @classmethod
    def settings_errors(cls, channel_settings, recipient=None):
        """Problems with a recipient's channel settings, as {key: message}; empty when usable.

        RECIPIENT, when given, lets a channel check what it needs of the recipient itself (a
        senator's state and class for CWC, an office address for print).
        """
        return {}


_CHANNELS = {
    "cwc": "petitions.delivery.cwc.CWCChannel",
    "email": "petitions.delivery.email.EmailChannel",
    "http": "petitions.delivery.http.HTTPChannel",
    "print": "petitions.delivery.printing.PrintChannel",
}


def channel_class(name):
    """The channel class for a recipient's `channel` value, or None when none is set."""
    path = _CHANNELS.get(name)
    return import_string(path) if path else None


def settings_problem(name, recipient):
    """Why channel NAME cannot deliver to RECIPIENT, as one sentence; empty when it can."""
    channel = channel_class(name)
    if channel is None:
        return "No delivery channel is set."
    errors = channel.settings_errors(recipient.channel_settings or {}, recipient)
    return " ".join(f"{key}: {message}" for key, message in errors.items())


# Channels whose receiver takes only so many letters a second, counted across every worker, and the
# setting that holds the rate. Their letters are claimed no faster than that (petitions.tasks), so a
# backlog of them never holds a worker process that e-mail and HTTP letters are waiting for.
_PACED = {"cwc": "CWC_RATE_LIMIT"}


def paced_channels():
    """{channel name: letters a second} for every channel with a rate limit."""
    return {name: getattr(settings, setting) for name, setting in _PACED.items()}


def slots_left(name, limit):
    """How many more letters channel NAME may start in the current second, of LIMIT.

    The channel counts its sends per second in the cache, under "<name>:sent:<Unix second>", as
    `cwc.take_slot` does; this only reads the count.
    """
    used = cache.get(f"{name}:sent:{int(time.time())}") or 0
    return max(0, limit - used)


def next_second():
    """The start of the next second, when a paced channel's count starts again."""
    return datetime.fromtimestamp(int(time.time()) + 1, UTC)
