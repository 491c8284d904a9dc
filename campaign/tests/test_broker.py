"""The embedded broker (campaign/broker.py): a SQLite file that hands each message out once."""

import pytest
from kombu import Connection, Exchange, Queue

from campaign.broker import Transport


@pytest.fixture
def connection(tmp_path):
    with Connection(f"sqlite:///{tmp_path / 'broker.sqlite3'}", transport=Transport) as conn:
        yield conn


def test_every_message_is_handed_out_once_in_order_and_then_deleted(connection):
    queue = Queue("letters", Exchange("letters", "direct"), "letters")
    with connection.Producer() as producer:
        for number in range(200):
            producer.publish({"n": number}, exchange=queue.exchange, routing_key="letters", declare=[queue])
    channel = connection.default_channel
    assert channel._size("letters") == 200

    received = []
    while (message := queue(channel).get(no_ack=True)) is not None:
        received.append(message.payload["n"])

    assert received == list(range(200))
    assert channel.session.query(channel.message_cls).count() == 0, "taken messages are not kept"


def test_the_file_uses_write_ahead_logging(connection):
    channel = connection.default_channel
    channel._new_queue("mail")
    assert channel.session.connection().exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
