"""How long a worker's look for due letters takes on a letters table of a million rows, most delivered.

    .venv/bin/python bench/letter_look.py [--signatures 330000] [--backlog 5000 200000 20] [--without-index]

deliver_due_letters asks for the oldest twenty due letters before every batch. This makes a table
of SIGNATURES confirmed signatures with a delivered letter to each of three senators, then for
each BACKLOG marks that many of the newest letters queued (as a surge's letters wait behind the
delivered ones), runs VACUUM ANALYZE, and prints PostgreSQL's plan and the look's time. Its database
(LETTER_LOOK_DATABASE_URL, default campaign_look) is dropped and made afresh; making the rows takes
about half a minute.
"""

import argparse
import os
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "bench"))

from run import reset_stores  # noqa: E402

DATABASE_URL = os.environ.get("LETTER_LOOK_DATABASE_URL", "postgres://campaign:campaign@127.0.0.1:5432/campaign_look")
ENV = {
    "DJANGO_SETTINGS_MODULE": "campaign.settings",
    "DEBUG": "0",
    "SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
    "CAMPAIGN_VAR_DIR": str(BASE_DIR / "var" / "letter-look"),
    "DATABASE_URL": DATABASE_URL,
    "ALLOWED_HOSTS": "127.0.0.1",
    "LOG_LEVEL": "WARNING",
}


def make_rows(signatures):
    """SIGNATURES confirmed signatures and a delivered letter from each to each of three senators, in SQL."""
    from django.db import connection

    from petitions.models import Petition, Recipient

    petition = Petition.objects.create(slug="look", title_en="Look", title_be="Look", goal=1, status="open")
    for n in (1, 2, 3):
        Recipient.objects.create(
            kind="senator", name=f"Senator {n}", last_name=f"Senator{n}", state="IA", senate_class=n,
            bioguide_id=f"L{n}", channel="email", channel_settings={"address": f"intake-{n}@senate.example"},
        )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO petitions_signature (petition_id, status, title, first_name, last_name, email,
              email_normalized, address, city, state, zip_code, country, phone, note, language, letter_hash,
              letter_text, wants_updates, ip_hash, ip_prefix_hash, quarantine_reason, created_at, confirmed_at)
            SELECT %s, 'confirmed', 'Ms.', 'Ada', 'Look', 's' || g || '@example.org', 's' || g || '@example.org',
              '1 Main St', 'Des Moines', 'IA', '50309', 'United States', '', '', 'en', '', '', false, '', '', '',
              now(), now()
            FROM generate_series(1, %s) g
            """,
            [petition.pk, signatures],
        )
        cursor.execute(
            """
            INSERT INTO petitions_letter (signature_id, recipient_id, delivery_id, status, channel, body, attempts,
              last_error, response, created_at, delivered_at)
            SELECT s.id, r.id, md5(s.id || '-' || r.id), 'delivered', 'email', 'Dear Senator', 1, '', '', now(), now()
            FROM petitions_signature s CROSS JOIN petitions_recipient r
            """
        )


def queue_newest(backlog):
    """Mark the newest BACKLOG letters queued and the rest delivered, then VACUUM ANALYZE, as autovacuum would."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("UPDATE petitions_letter SET status = 'delivered' WHERE status <> 'delivered'")
        cursor.execute(
            "UPDATE petitions_letter SET status = 'queued' WHERE id > (SELECT max(id) FROM petitions_letter) - %s",
            [backlog],
        )
        cursor.execute("VACUUM ANALYZE petitions_letter")


def look():
    """The look deliver_due_letters makes before each batch, as a fresh queryset."""
    from django.conf import settings
    from django.utils import timezone

    from petitions.models import Letter
    from petitions.tasks import LETTER_BATCH_SIZE

    return (
        Letter.objects.due(timezone.now())
        .filter(attempts__lt=settings.LETTER_MAX_ATTEMPTS)
        .order_by("pk")
        .values_list("pk", flat=True)[:LETTER_BATCH_SIZE]
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--signatures", type=int, default=330_000)
    parser.add_argument("--backlog", type=int, nargs="+", default=[5000, 200_000, 20])
    parser.add_argument("--without-index", action="store_true", help="drop the letter_due index first")
    args = parser.parse_args()

    reset_stores(DATABASE_URL, None)
    os.environ.update(ENV)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    make_rows(args.signatures)
    if args.without_index:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("DROP INDEX letter_due")
    print(f"{args.signatures * 3:,} letters made in {time.perf_counter() - started:.1f} s")
    for backlog in args.backlog:
        queue_newest(backlog)
        plan = look().explain(analyze=True)
        times = []
        for _ in range(5):
            started = time.perf_counter()
            assert len(list(look())) == min(backlog, 20)
            times.append((time.perf_counter() - started) * 1000)
        print(f"\n{backlog:,} queued behind the delivered ones: the look took {sorted(times)[2]:.2f} ms (median of 5)")
        print(plan)


if __name__ == "__main__":
    main()
