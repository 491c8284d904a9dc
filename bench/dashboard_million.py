"""How long the dashboard's numbers take at a million signatures on PostgreSQL.

Usage (makes and fills its own database, then drops it):
    DATABASE_URL=postgres://campaign:campaign@127.0.0.1:5432/campaign_bench_dashboard \
    DEBUG=1 .venv/bin/python bench/dashboard_million.py [signatures]
"""

import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campaign.settings")
os.environ.setdefault("DEBUG", "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main(count):
    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection

    from petitions.models import Petition, Recipient
    from petitions.organizers import dashboard

    call_command("migrate", verbosity=0)
    petition = Petition.objects.create(slug="bench", title_en="Bench", letter_en="Text", status="open")
    president = Recipient.objects.create(kind="president", name="The President", channel="http")
    started = time.monotonic()
    with connection.cursor() as cursor:
        # States cycle through the fifty and DC; one signer in twenty lives abroad; days spread
        # over ninety; every signer writes to the President.
        cursor.execute(
            """
            INSERT INTO petitions_signature (petition_id, status, title, first_name, last_name, email,
                email_normalized, address, city, state, zip_code, country, phone, note, language,
                letter_hash, letter_text, wants_updates, ip_hash, ip_prefix_hash, quarantine_reason, created_at,
                confirmed_at)
            SELECT %s, CASE WHEN i %% 10 = 0 THEN 'pending' ELSE 'confirmed' END, 'Ms.', 'First', 'Last',
                'p' || i || '@example.org', 'p' || i || '@example.org', '1 Main St', 'Town',
                CASE WHEN i %% 20 = 0 THEN '' ELSE (ARRAY['AL','AK','AZ','AR','CA','CO','CT','DE','FL','GA',
                'HI','ID','IL','IN','IA','KS','KY','LA','ME','MD','MA','MI','MN','MS','MO','MT','NE','NV',
                'NH','NJ','NM','NY','NC','ND','OH','OK','OR','PA','RI','SC','SD','TN','TX','UT','VT','VA',
                'WA','WV','WI','WY','DC'])[1 + i %% 51] END, '', CASE WHEN i %% 20 = 0 THEN 'Lithuania'
                ELSE 'United States' END, '', '', 'be', '', '', i %% 2 = 0, '', '', '', now(),
                CASE WHEN i %% 10 = 0 THEN NULL ELSE now() - (i %% 90) * interval '1 day' END
            FROM generate_series(1, %s) AS i
            """,
            [petition.pk, count],
        )
        cursor.execute(
            """
            INSERT INTO petitions_letter (signature_id, recipient_id, delivery_id, status, channel, body,
                attempts, last_error, response, created_at, delivered_at)
            SELECT id, %s, md5(id::text), CASE WHEN id %% 3 = 0 THEN 'queued' ELSE 'delivered' END, 'http',
                '', 0, '', '', now(), now()
            FROM petitions_signature WHERE status = 'confirmed'
            """,
            [president.pk],
        )
        cursor.execute("ANALYZE")
    print(f"filled {count} signatures in {time.monotonic() - started:.1f}s")
    for label in ("one petition", "all petitions"):
        cache.clear()
        started = time.monotonic()
        numbers = dashboard.numbers(petition if label == "one petition" else None)
        cold = time.monotonic() - started
        started = time.monotonic()
        dashboard.numbers(petition if label == "one petition" else None)
        warm = time.monotonic() - started
        print(f"{label}: {numbers['confirmed']} confirmed; numbers in {cold:.2f}s, cached {warm * 1000:.1f}ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
