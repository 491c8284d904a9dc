"""The embedded Celery broker: kombu's SQLAlchemy transport on a SQLite file under var/.

A message is a row, written and taken in one transaction each, so a worker never reads a message
that is still being written, as kombu's filesystem transport can (a half-written file is a
JSONDecodeError that stops the worker). The only change to kombu's transport: a message is deleted
when a worker takes it instead of being kept, hidden, for ever; kept rows would make every poll
scan all the messages the site ever sent. Once taken, a message lives on in the worker's memory
until it is acknowledged, as with every virtual transport, and goes back to the queue at a warm
shutdown; a killed worker loses it, and the sweeper sends its letter (docs/deploy.md).
"""

import os
from json import loads
from queue import Empty

from kombu.transport import sqlalchemy
from kombu.utils.encoding import bytes_to_str
from sqlalchemy import create_engine, event, text

# The site, the worker and beat write to the file at once: each waits its turn rather than failing
# with "database is locked" (SQLite's own default is 5 s).
BUSY_TIMEOUT_SECONDS = 30


def _tune(connection, record):
    # Write-ahead logging: readers and the one writer do not block each other. The broker only
    # carries reminders (the database is the record of letters), so a commit need not wait for the
    # disk, which also makes a few thousand messages a matter of seconds.
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")


class Channel(sqlalchemy.Channel):
    def _engine_from_config(self):
        # kombu's version hands every transport option to create_engine, polling_interval included,
        # which SQLAlchemy refuses.
        engine = create_engine(self.connection.client.hostname, connect_args={"timeout": BUSY_TIMEOUT_SECONDS})
        event.listen(engine, "connect", _tune)
        return engine

    def _get(self, queue):
        owner = self._get_or_create(queue)
        # BEGIN IMMEDIATE takes SQLite's write lock before reading, as kombu's own _get does, so two
        # workers never take the same message.
        self.session.execute(text("BEGIN IMMEDIATE TRANSACTION"))
        try:
            message = (
                self.session.query(self.message_cls)
                .filter(self.message_cls.queue_id == owner.id)
                .order_by(self.message_cls.sent_at, self.message_cls.id)
                .limit(1)
                .first()
            )
            if message is None:
                raise Empty()
            payload = message.payload
            self.session.delete(message)
            return loads(bytes_to_str(payload))
        finally:
            self.session.commit()

    def _size(self, queue):
        owner = self._get_or_create(queue)
        return self.session.query(self.message_cls).filter(self.message_cls.queue_id == owner.id).count()


class Transport(sqlalchemy.Transport):
    Channel = Channel


# A process forked from one that had opened the file (the prefork pool, embedded beat, gunicorn's
# workers) opens its own connections: SQLite's are not to be shared across a fork.
os.register_at_fork(after_in_child=Channel._engines.clear)
