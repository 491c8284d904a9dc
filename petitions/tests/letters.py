"""Confirmed signatures and their letters, built the way the site builds them, for the delivery tests."""

import itertools

from petitions.models import Letter, Signature
from petitions.signing import services

_numbers = itertools.count(1)


def confirmed_signature(petition, recipients, **fields):
    """A signer from Iowa who confirmed, with one letter per recipient queued by confirm_signature."""
    number = next(_numbers)
    values = {
        "title": "Ms.",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": f"ada{number}@example.org",
        "address": "1007 Grand Ave",
        "city": "Des Moines",
        "state": "IA",
        "zip_code": "50309",
        "country": "United States",
        "language": "en",
        "letter_hash": petition.letter_hash(),
        "letter_text": petition.letter_en,
    }
    values.update(fields)
    values["email_normalized"] = services.normalize_email(values["email"])
    signature = Signature.objects.create(petition=petition, **values)
    signature.recipients.set(recipients)
    assert services.confirm_signature(signature)
    return signature


def confirmed_letters(petition, recipient, count):
    """COUNT letters to RECIPIENT from as many signers; returns them by primary key."""
    for _ in range(count):
        confirmed_signature(petition, [recipient])
    return list(Letter.objects.filter(recipient=recipient).order_by("pk"))
