"""The e-mail channel keeps one SMTP connection per worker process, and opens a new one when it must."""

from aiosmtpd.controller import Controller

from petitions import smtp
from petitions.models import Letter
from petitions.tasks import deliver_letter

from .conftest import make_senator
from .letters import confirmed_signature


def _letters(petition, count):
    senator = make_senator(channel="email", channel_settings={"address": "intake@ernst.test"})
    return [confirmed_signature(petition, [senator]).letters.get() for _ in range(count)]


def _deliver(letter):
    deliver_letter(letter.pk)
    letter.refresh_from_db()
    return letter.status


def test_letters_one_after_another_share_one_smtp_connection(petition, smtp_server, sessions):
    letters = _letters(petition, 3)
    assert [_deliver(letter) for letter in letters] == [Letter.Status.DELIVERED] * 3
    assert len(sessions) == 3 and len(set(sessions)) == 1


def test_a_connection_the_server_dropped_between_letters_is_opened_again_and_the_letter_sent(
    petition, smtp_server, sessions
):
    first, second = _letters(petition, 2)
    assert _deliver(first) == Letter.Status.DELIVERED
    # The server goes away and comes back on the same port: the kept connection is dead.
    smtp_server.controller.stop()
    smtp_server.controller = Controller(smtp_server.handler, hostname="127.0.0.1", port=smtp_server.port)
    smtp_server.controller.start()

    assert _deliver(second) == Letter.Status.DELIVERED
    assert len(set(sessions)) == 2


def test_after_a_refusal_the_next_letter_goes_out_on_a_new_connection(petition, smtp_server, sessions):
    first, second = _letters(petition, 2)
    smtp_server.refuse("451 4.3.0 Try again later")
    assert _deliver(first) == Letter.Status.QUEUED
    smtp_server.accept()
    assert _deliver(second) == Letter.Status.DELIVERED
    assert len(smtp_server.messages) == 1


def test_a_worker_process_shutting_down_closes_the_kept_connection(petition, smtp_server, sessions):
    from celery import signals

    assert _deliver(_letters(petition, 1)[0]) == Letter.Status.DELIVERED
    assert smtp.kept.connection is not None
    signals.worker_process_shutdown.send(sender=None, pid=0, exitcode=0)
    assert smtp.kept.connection is None
