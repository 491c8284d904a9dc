"""Whether every recipient a signer may choose can be reached: the admin and `check --deploy` name those who cannot."""

from django.core import checks
from django.db import DatabaseError
from django.utils import translation
from django.utils.translation import gettext as _

from ..delivery import channel_class
from ..models import Recipient
from .digest import organizer_addresses


def reachability_problem(recipient):
    """Why no letter can reach RECIPIENT through its channel, as one sentence; empty when one can."""
    channel = channel_class(recipient.channel)
    if channel is None:
        return _("No delivery channel is set.")
    errors = channel.settings_errors(recipient.channel_settings or {}, recipient)
    return " ".join(str(message) for message in errors.values())


def unreachable_recipients(petition=None):
    """[(recipient, problem)] for the active recipients nobody can reach yet.

    With PETITION, only those its signers may choose: senators when it allows senators, the
    President when it allows the President.
    """
    recipients = Recipient.objects.active()
    if petition is not None:
        kinds = [Recipient.Kind.SENATOR] * petition.allow_senators + [
            Recipient.Kind.PRESIDENT
        ] * petition.allow_president
        recipients = recipients.filter(kind__in=kinds)
    found = []
    for recipient in recipients.order_by("kind", "state", "senate_class", "pk"):
        problem = reachability_problem(recipient)
        if problem:
            found.append((recipient, problem))
    return found


@checks.register(checks.Tags.database, deploy=True)
def check_recipients_reachable(app_configs=None, databases=None, **kwargs):
    """`manage.py check --deploy --database default`: a warning naming each recipient nobody can reach.

    Like Django's own database checks it reads the database only when asked to (`--database`), so
    `check --deploy` on a host without a database still runs.
    """
    if not databases or "default" not in databases:
        return []
    try:
        with translation.override("en"):  # Like Django's own checks, for whoever deploys.
            unreachable = unreachable_recipients()
            organizers = organizer_addresses()
    except DatabaseError:  # Not migrated yet: `migrate` comes first, and `check` says so elsewhere.
        return []
    found = []
    if not organizers:
        found.append(
            checks.Warning(
                "No organizer gets the digest of letters that failed or wait for organizers.",
                hint="Give the staff of the Organizers group e-mail addresses, or set ORGANIZER_DIGEST_TO.",
                id="petitions.W002",
            )
        )
    return found + [
        checks.Warning(
            f"Nobody can reach this recipient yet: {problem}",
            hint="Set its delivery channel in the admin (Recipients, or the bulk actions on the list).",
            obj=recipient,
            id="petitions.W001",
        )
        for recipient, problem in unreachable
    ]
