"""The CWC channel: a senator's letter as Communicating with Congress 2.0 XML, validated, then POSTed.

The schema is CWC's own (cwc_schema_v2.rng beside this file, widened to Senate office codes). A
message that does not validate is never sent: it is a permanent failure with the schema's words.
The Senate's maintenance windows and its rate limit make a letter wait; they never fail it.
"""

import random
import re
import time
from datetime import datetime, timedelta
from datetime import time as clock_time
from functools import cache as memoize
from pathlib import Path
from zoneinfo import ZoneInfo

import requests
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from lxml import etree

from ..models import STATES_WITH_SENATORS, Letter, Recipient
from . import Channel, Outcome

SCHEMA_PATH = Path(__file__).with_name("cwc_schema_v2.rng")
TOPIC = "International Affairs"
EASTERN = ZoneInfo("America/New_York")

# Characters XML 1.0 cannot carry at all; a pasted note may hold them.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_EMAIL = re.compile(r"^[^@]+@[^.]+\..+$")  # The schema's own pattern: a dot after the @.
_PHONE = re.compile(r"^\d{3}-\d{3}-\d{4}$")


@memoize
def schema():
    return etree.RelaxNG(etree.parse(str(SCHEMA_PATH)))


def _text(value):
    return _NOT_XML.sub("", str(value)).strip()


def _phone(value):
    """A US phone number as CWC takes it (###-###-####), or None: CWC refuses every other form."""
    value = (value or "").strip()
    digits = re.sub(r"\D", "", value)
    if value.startswith("+"):
        if not digits.startswith("1"):  # A number abroad.
            return None
        digits = digits[1:]
    elif len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) != 10:
        return None
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"


def _fit(text, low, high, filler):
    """TEXT between LOW and HIGH characters: cut at the end, or lengthened with FILLER."""
    text = _text(text)
    if len(text) < low:
        text = f"{filler} {text}".strip()
    if len(text) > high:
        text = text[: high - 1].rstrip() + "…"
    return text


def _message_text(body):
    """The letter for ConstituentMessage; a letter over CWC's limit loses its middle, never its closing."""
    body = _text(body)
    if len(body) <= Letter.MAX_CHARS:
        return body
    head, sep, closing = body.rpartition("\n\nSincerely,")
    if not sep or len(closing) > Letter.MAX_CHARS // 2:
        return body[: Letter.MAX_CHARS - 1] + "…"
    closing = sep + closing
    return head[: Letter.MAX_CHARS - len(closing) - 2].rstrip() + " …" + closing


def build_message(letter, today=None):
    """The CWC 2.0 document for LETTER, as an lxml element tree (not yet validated)."""
    signature = letter.signature
    recipient = letter.recipient
    today = today or timezone.now().astimezone(EASTERN).date()

    root = etree.Element("CWC")

    def add(parent, name, value=None):
        element = etree.SubElement(parent, name)
        if value is not None:
            element.text = _text(value)
        return element

    add(root, "CWCVersion", "2.0")
    delivery = add(root, "Delivery")
    add(delivery, "DeliveryId", letter.delivery_id)
    add(delivery, "DeliveryDate", today.strftime("%Y%m%d"))
    add(delivery, "DeliveryAgent", settings.CWC_DELIVERY_AGENT)
    add(delivery, "DeliveryAgentAckEmailAddress", settings.CWC_DELIVERY_AGENT_ACK_EMAIL)
    contact = add(delivery, "DeliveryAgentContact")
    add(contact, "DeliveryAgentContactName", settings.CWC_DELIVERY_AGENT_CONTACT_NAME)
    add(contact, "DeliveryAgentContactEmail", settings.CWC_DELIVERY_AGENT_CONTACT_EMAIL)
    add(contact, "DeliveryAgentContactPhone", settings.CWC_DELIVERY_AGENT_CONTACT_PHONE)
    add(delivery, "CampaignId", settings.CWC_CAMPAIGN_ID or signature.petition.slug)

    add(add(root, "Recipient"), "MemberOffice", recipient.cwc_office_code)

    constituent = add(root, "Constituent")
    add(constituent, "Prefix", signature.title)
    add(constituent, "FirstName", signature.first_name)
    add(constituent, "LastName", signature.last_name)
    add(constituent, "Address1", signature.address)
    add(constituent, "City", signature.city)
    add(constituent, "StateAbbreviation", signature.state.upper())
    add(constituent, "Zip", signature.zip_code)
    add(constituent, "Email", signature.email)
    phone = _phone(signature.phone)
    if phone:
        add(constituent, "Phone", phone)
    # The signer confirmed their address by following the link we e-mailed them.
    add(constituent, "EmailValidation", "Y")

    message = add(root, "Message")
    add(message, "Subject", _fit(signature.petition.letter_subject, 6, 500, "Letter:"))
    add(add(message, "LibraryOfCongressTopics"), "LibraryOfCongressTopic", TOPIC)
    add(message, "ConstituentMessage", _message_text(letter.body))
    return root


def render_message(letter, today=None):
    """The XML bytes CWC receives for LETTER, after validating them against the schema.

    Raises etree.DocumentInvalid, whose text names what the schema refused.
    """
    root = build_message(letter, today)
    schema().assertValid(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def maintenance_ends(moment):
    """When the Senate's maintenance window around MOMENT ends, or None outside the windows.

    The windows (settings.CWC_MAINTENANCE_WINDOWS) are kept in Eastern wall-clock hours, so on the
    night a DST change falls in one it lasts an hour more or less in real time, as the Senate's does.
    """
    eastern = moment.astimezone(EASTERN)
    for weekday, start, end in settings.CWC_MAINTENANCE_WINDOWS:
        if eastern.weekday() == weekday and start <= eastern.hour < end:
            day = eastern.date() + timedelta(days=end // 24)
            return datetime.combine(day, clock_time(end % 24), EASTERN)
    return None


def take_slot(limit, wait_seconds=3.0):
    """Reserve one of LIMIT sends in the current second, shared by all workers through the cache.

    Returns the second (a Unix time) the send belongs to, or None when no slot came free within
    WAIT_SECONDS. The counter is atomic on Redis, the production cache.
    """
    deadline = time.monotonic() + wait_seconds
    while True:
        now = time.time()
        second = int(now)
        key = f"cwc:sent:{second}"
        cache.add(key, 0, timeout=10)
        try:
            if cache.incr(key) <= limit:
                return second
        except ValueError:  # The key expired between add and incr: take the next second's turn.
            pass
        pause = second + 1 - now + random.uniform(0, 0.05)
        if time.monotonic() + pause > deadline:
            return None
        time.sleep(pause)


def _errors(response):
    """The text of the <Error> elements CWC returns, or the start of its answer."""
    try:
        root = etree.fromstring(response.content, etree.XMLParser(resolve_entities=False, no_network=True))
        texts = [" ".join(e.itertext()).strip() for e in root.iter("Error")]
    except etree.XMLSyntaxError:
        texts = []
    return "; ".join(t for t in texts if t) or response.text[:2000]


def _server_problems():
    """What the server's CWC settings lack, as sentences."""
    problems = []
    try:
        URLValidator(schemes=["http", "https"])(settings.CWC_ENDPOINT)
    except ValidationError:
        problems.append(_("Set CWC_ENDPOINT to the CWC service's URL."))
    if not settings.CWC_API_KEY:
        problems.append(_("Set CWC_API_KEY in the server's environment."))
    if len(settings.CWC_DELIVERY_AGENT) < 4:
        problems.append(_("Set CWC_DELIVERY_AGENT to the delivering organization's name."))
    for name in ("CWC_DELIVERY_AGENT_ACK_EMAIL", "CWC_DELIVERY_AGENT_CONTACT_EMAIL"):
        if not _EMAIL.match(getattr(settings, name)):
            problems.append(_("Set %(name)s to an e-mail address.") % {"name": name})
    if len(settings.CWC_DELIVERY_AGENT_CONTACT_NAME) < 6:
        problems.append(_("Set CWC_DELIVERY_AGENT_CONTACT_NAME to a contact's full name."))
    if not _PHONE.match(settings.CWC_DELIVERY_AGENT_CONTACT_PHONE):
        problems.append(_("Set CWC_DELIVERY_AGENT_CONTACT_PHONE as ###-###-####."))
    return problems


class CWCChannel(Channel):
    @classmethod
    def settings_errors(cls, channel_settings, recipient=None):
        errors = {}
        if recipient is not None and (
            recipient.kind != Recipient.Kind.SENATOR
            or recipient.state not in STATES_WITH_SENATORS
            or recipient.senate_class not in (1, 2, 3)
        ):
            errors["recipient"] = _("CWC reaches senators only: set the senator's state and class (1, 2 or 3).")
        problems = _server_problems()
        if problems:
            errors["server"] = " ".join(str(p) for p in problems)
        return errors

    def send(self, letter):
        """1. Wait out a maintenance window. 2. Build and validate. 3. Take a rate slot. 4. POST."""
        now = timezone.now()
        ends = maintenance_ends(now)
        if ends:
            # Spread the backlog over a few minutes after the window rather than all at its end.
            later = ends + timedelta(seconds=random.uniform(0, 300))
            return Outcome.deferred(f"CWC maintenance window until {ends:%Y-%m-%d %H:%M %Z}", later)
        try:
            xml = render_message(letter)
        except etree.DocumentInvalid as exc:
            return Outcome.permanent(f"CWC schema: {exc.error_log}"[:2000])
        if take_slot(settings.CWC_RATE_LIMIT) is None:
            return Outcome.deferred("CWC rate limit", timezone.now() + timedelta(seconds=random.uniform(1, 3)))
        try:
            response = requests.post(
                settings.CWC_ENDPOINT,
                params={"apikey": settings.CWC_API_KEY},
                data=xml,
                headers={"Content-Type": "application/xml; charset=utf-8"},
                timeout=settings.DELIVERY_TIMEOUT_SECONDS,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            # The exception's text holds the URL, and with it the API key: never store that.
            return Outcome.temporary(f"CWC {type(exc).__name__}: {exc}".replace(settings.CWC_API_KEY, "…")[:2000])
        status = response.status_code
        if status in (200, 201):
            return Outcome.delivered(f"CWC {status}: {response.text[:500]}".strip())
        if status == 409:
            return Outcome.delivered(f"CWC 409: this DeliveryId was delivered before. {response.text[:500]}".strip())
        if status == 429 or status >= 500:
            return Outcome.temporary(f"CWC {status}: {response.text[:500]}".strip())
        return Outcome.permanent(f"CWC {status}: {_errors(response)}")
