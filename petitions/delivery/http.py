"""The HTTP channel: a letter POSTed as JSON or form fields to an organizer's CRM or an office's endpoint.

A recipient's settings (in the admin) hold only what is not secret:
    {"url": "https://crm.example.org/letters", "format": "json" or "form",
     "fields": {"their_field": "our_field", ...}, "token": "crm"}
"fields" maps the receiver's names to the letter's (FIELDS below); without it every one of
FIELDS is sent under its own name. "token" names a bearer token in the DELIVERY_HTTP_TOKENS
environment variable, so the secret itself never enters the database.
"""

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

from . import Channel, Outcome

# What a receiver can ask for, by name.
FIELDS = {
    "delivery_id": lambda letter: letter.delivery_id,
    "subject": lambda letter: letter.signature.petition.letter_subject,
    "body": lambda letter: letter.body,
    "recipient": lambda letter: str(letter.recipient),
    "recipient_bioguide_id": lambda letter: letter.recipient.bioguide_id or "",
    "petition": lambda letter: letter.signature.petition.slug,
    "title": lambda letter: letter.signature.title,
    "first_name": lambda letter: letter.signature.first_name,
    "last_name": lambda letter: letter.signature.last_name,
    "email": lambda letter: letter.signature.email,
    "address": lambda letter: letter.signature.address,
    "city": lambda letter: letter.signature.city,
    "state": lambda letter: letter.signature.state,
    "zip_code": lambda letter: letter.signature.zip_code,
    "country": lambda letter: letter.signature.country,
    "phone": lambda letter: letter.signature.phone,
    "note": lambda letter: letter.signature.note,
}
FORMATS = ("json", "form")


class HTTPChannel(Channel):
    @classmethod
    def settings_errors(cls, channel_settings, recipient=None):
        channel_settings = channel_settings or {}
        errors = {}
        try:
            URLValidator(schemes=["http", "https"])(channel_settings.get("url", ""))
        except ValidationError:
            errors["url"] = _("Enter the full address letters are POSTed to, starting with https://.")
        if channel_settings.get("format", "json") not in FORMATS:
            errors["format"] = _("Choose “json” or “form”.")
        fields = channel_settings.get("fields", {})
        if not isinstance(fields, dict) or not all(
            isinstance(theirs, str) and ours in FIELDS for theirs, ours in fields.items()
        ):
            errors["fields"] = _("Map the receiver's field names to these: %(names)s.") % {"names": ", ".join(FIELDS)}
        token = channel_settings.get("token")
        if token and token not in settings.DELIVERY_HTTP_TOKENS:
            errors["token"] = _("No token named “%(name)s” in the server's DELIVERY_HTTP_TOKENS.") % {"name": token}
        return errors

    def send(self, letter):
        channel_settings = letter.recipient.channel_settings
        mapping = channel_settings.get("fields") or {name: name for name in FIELDS}
        payload = {theirs: FIELDS[ours](letter) for theirs, ours in mapping.items()}
        # The delivery id lets the receiver drop a letter it has already taken.
        headers = {"Idempotency-Key": letter.delivery_id, "X-Delivery-Id": letter.delivery_id}
        token = channel_settings.get("token")
        if token:
            headers["Authorization"] = f"Bearer {settings.DELIVERY_HTTP_TOKENS[token]}"
        as_json = channel_settings.get("format", "json") == "json"
        try:
            response = requests.post(
                channel_settings["url"],
                json=payload if as_json else None,
                data=None if as_json else payload,
                headers=headers,
                timeout=settings.DELIVERY_TIMEOUT_SECONDS,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            return Outcome.temporary(f"HTTP {type(exc).__name__}: {exc}"[:2000])
        answer = f"HTTP {response.status_code}: {response.text[:1000]}".strip()
        if 200 <= response.status_code < 300:
            return Outcome.delivered(answer)
        if response.status_code == 429 or response.status_code >= 500:
            return Outcome.temporary(answer)
        return Outcome.permanent(answer)
