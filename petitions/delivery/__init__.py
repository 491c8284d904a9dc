"""Delivery channels: each sends one letter its own way and says how it went.

A channel never retries and never writes to the database; `petitions.tasks.deliver_letter` decides
what an outcome means for the letter. Channels are looked up by the recipient's `channel` value.
"""

from dataclasses import dataclass

from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Outcome:
    DELIVERED = "delivered"
    TEMPORARY = "temporary"
    PERMANENT = "permanent"
    NEEDS_ACTION = "needs_action"

    kind: str
    detail: str = ""

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


class Channel:
    """One way of delivering letters. Subclasses implement `send` and may check their settings."""

    def send(self, letter):
        raise NotImplementedError

    @classmethod
    def settings_errors(cls, settings):
        """Problems with a recipient's channel settings, as {key: message}; empty when usable."""
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
