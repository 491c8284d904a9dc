"""Reminding workers: the messages the campaign's services put on the broker, each naming its task.

The database is the record of what remains to be done; a message only reminds a worker to look.
Services send their messages from here by the task's name ("petitions.tasks.<name>", as the routes
and the beat schedule name them), so that only the worker imports petitions.tasks and the imports
run one way (docs/architecture.md). Celery routes a message sent by name as it routes `delay()`.
"""

from celery import current_app
from django.core.cache import cache


def enqueue(name, *args, **kwargs):
    """Send task NAME of petitions/tasks.py to the broker with ARGS and KWARGS (not Celery's options)."""
    current_app.send_task(f"petitions.tasks.{name}", args=args, kwargs=kwargs)


# Set while a send_confirmations message waits for a worker: a signer who finds it set has nothing
# to enqueue. It lapses on its own should that message be lost, and the sweeper covers the rest.
CONFIRMATIONS_REMINDED_KEY = "petitions:confirmations-reminded"
CONFIRMATIONS_REMINDED_SECONDS = 60


def remind_confirmations():
    """Have a worker send the confirmations that are due, unless one has already been asked to.

    Called when a transaction that made a confirmation due has committed. A message per signature
    cost the web process a fifth of its CPU in a surge (Celery's publish), and the worker Celery's
    own work per message (docs/benchmarks.md). One message covers every signature that becomes due
    before a worker picks it up: the database says which they are, and a signer pays one Redis SET.
    """
    if cache.add(CONFIRMATIONS_REMINDED_KEY, 1, CONFIRMATIONS_REMINDED_SECONDS):
        enqueue("send_confirmations")


# Letters per claim: per deliver_letters task when the sweeper or organizers queue many at once, and
# per batch of deliver_due_letters. A task's fixed cost (Celery's, the claim, the read) shared by
# twenty letters is a fraction of sending one. Twenty e-mail letters take well under a second;
# through CWC at its rate limit of 5 a second, about four: far inside half a lease.
LETTER_BATCH_SIZE = 20


def letter_batches(ids):
    """IDS in chunks of LETTER_BATCH_SIZE, one deliver_letters message each."""
    ids = list(ids)
    return [ids[i : i + LETTER_BATCH_SIZE] for i in range(0, len(ids), LETTER_BATCH_SIZE)]


def deliver_letters(ids):
    """Have workers deliver the letters IDS, LETTER_BATCH_SIZE to a message."""
    for chunk in letter_batches(ids):
        enqueue("deliver_letters", chunk)


# Set while a deliver_due_letters message waits for a worker: a confirmation that finds it set has
# nothing to enqueue. It lapses on its own should that message be lost, and the sweeper covers the rest.
LETTERS_REMINDED_KEY = "petitions:letters-reminded"
LETTERS_REMINDED_SECONDS = 60


def remind_letters():
    """Have a worker deliver the letters that are due, unless one has already been asked to.

    Called when a confirmation has committed its letters. A message per confirmed signature cost
    the letters worker Celery's own work and a claim and a read for every two or three letters, more
    than sending them (bench/mail_cpu.py); one message covers every letter that becomes due before a
    worker picks it up, and the worker takes them LETTER_BATCH_SIZE at a time.
    """
    if cache.add(LETTERS_REMINDED_KEY, 1, LETTERS_REMINDED_SECONDS):
        enqueue("deliver_due_letters")
