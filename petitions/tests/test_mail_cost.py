"""What confirmations and one e-mail letter cost the database: a fixed, small number of queries."""

import pytest

from petitions import smtp, tasks
from petitions.models import Letter, Signature
from petitions.tasks import deliver_letter, send_confirmations

from .conftest import make_senator
from .letters import confirmed_signature

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_connection():
    smtp.kept.close()
    yield
    smtp.kept.close()


def _pending(petition, language, n=0):
    return Signature.objects.create(
        petition=petition, title="Ms.", first_name="Ada", last_name="Lovelace", email=f"ada{n}@example.org",
        email_normalized=f"ada{n}@example.org", address="1007 Grand Ave", city="Des Moines", state="IA",
        zip_code="50309", language=language, letter_hash=petition.letter_hash(),
    )  # fmt: skip


@pytest.mark.parametrize("language", ["be", "en"])
def test_a_confirmation_is_found_claimed_read_and_recorded_in_four_queries_with_everything_its_email_shows(
    petition, smtp_server, django_assert_num_queries, language
):
    _pending(petition, language)

    # The due ids, the claim, one SELECT of the fields the e-mail uses, one UPDATE of
    # confirmation_sent_at: a field the templates use but the task does not load would cost a query
    # more and fail here.
    with django_assert_num_queries(4):
        send_confirmations()

    [message] = smtp_server.messages
    title = getattr(petition, f"title_{language}")
    assert title in str(message["Subject"])
    text = message.get_body(("plain",)).get_content()
    assert "Ada" in text and title in text
    assert f"/{language}/confirm/" in text and f"/{language}/withdraw/" in text
    assert Signature.objects.get().confirmation_sent_at is not None


def test_a_batch_of_confirmations_costs_the_queries_of_one(petition, smtp_server, django_assert_num_queries):
    for n in range(tasks.CONFIRMATION_BATCH_SIZE - 1):
        _pending(petition, ("be", "en")[n % 2], n)

    with django_assert_num_queries(4):
        send_confirmations()

    assert len(smtp_server.messages) == tasks.CONFIRMATION_BATCH_SIZE - 1
    assert not Signature.objects.filter(confirmation_sent_at__isnull=True).exists()


def test_an_email_letter_is_claimed_read_and_recorded_in_three_queries(
    petition, smtp_server, django_assert_num_queries
):
    senator = make_senator(channel="email", channel_settings={"address": "intake@ernst.test"})
    letter = confirmed_signature(petition, [senator]).letters.get()

    with django_assert_num_queries(3):
        deliver_letter(letter.pk)

    assert Letter.objects.get().status == Letter.Status.DELIVERED
    [message] = smtp_server.messages
    assert message["To"] == "intake@ernst.test"
    assert message["Subject"] == petition.letter_subject
