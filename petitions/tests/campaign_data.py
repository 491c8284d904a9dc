"""A campaign's worth of rows, made quickly with bulk_create, for the dashboard, follow-up and export tests."""

import random
from datetime import timedelta

from django.utils import timezone

from petitions.models import STATES, Letter, Recipient, Signature

from .conftest import make_president, make_senator

# Signers in a handful of states, abroad, and in DC, which has no senators.
SPREAD = ["IA", "IA", "IA", "CA", "CA", "NY", "TX", "OH", "DC", "", ""]


def offices():
    """Two senators for Iowa, one each for California and New York, and the President."""
    return {
        "IA": [make_senator("IA", 2, "Joni Ernst", "Ernst"), make_senator("IA", 3, "Chuck Grassley", "Grassley")],
        "CA": [make_senator("CA", 1, "Alex Padilla", "Padilla", channel=Recipient.Channel.EMAIL)],
        "NY": [make_senator("NY", 1, "Kirsten Gillibrand", "Gillibrand", channel=Recipient.Channel.CWC)],
        "president": make_president(channel=Recipient.Channel.HTTP),
    }


def signer(petition, number, **fields):
    state = fields.pop("state", "IA")
    values = {
        "petition": petition,
        "status": Signature.Status.CONFIRMED,
        "title": "Ms.",
        "first_name": f"Signer{number}",
        "last_name": f"Family{number}",
        "email": f"signer{number}@example.org",
        "email_normalized": f"signer{number}@example.org",
        "address": f"{number} Main Street",
        "city": "Springfield",
        "state": state,
        "country": "United States" if state else "Lithuania",
        "language": "be" if number % 2 else "en",
        "letter_hash": petition.letter_hash(),
        "letter_text": petition.letter_en,
    }
    values.update(fields)
    return Signature(**values)


def build_campaign(petition, recipients, count=120, seed=8, start_number=0):
    """COUNT signatures of mixed status, state and day, each with letters of mixed status.

    Returns the signatures. Confirmed days spread over the last three weeks.
    """
    rng = random.Random(seed)
    now = timezone.now()
    statuses = [Signature.Status.CONFIRMED] * 6 + [Signature.Status.PENDING, Signature.Status.WITHDRAWN]
    signatures = []
    for i in range(count):
        number = start_number + i
        state = rng.choice(SPREAD + [rng.choice(STATES)[0]])
        status = rng.choice(statuses)
        confirmed_at = now - timedelta(days=rng.randrange(21), hours=rng.randrange(12)) if status != "pending" else None
        signatures.append(
            signer(
                petition,
                number,
                state=state,
                status=status,
                confirmed_at=confirmed_at,
                wants_updates=rng.random() < 0.5,
            )
        )
    signatures = Signature.objects.bulk_create(signatures)
    letter_statuses = [s for s in Letter.Status.values if s != Letter.Status.CANCELLED] + [Letter.Status.DELIVERED] * 3
    letters = []
    for signature in signatures:
        if signature.status == Signature.Status.PENDING:
            continue
        chosen = list(recipients.get(signature.state, [])) + [recipients["president"]]
        for recipient in chosen:
            status = rng.choice(letter_statuses)
            letters.append(
                Letter(
                    signature=signature,
                    recipient=recipient,
                    channel=recipient.channel,
                    body="Dear ...",
                    status=status,
                    delivered_at=now - timedelta(days=rng.randrange(30)) if status == Letter.Status.DELIVERED else None,
                )
            )
    Letter.objects.bulk_create(letters)
    return signatures
