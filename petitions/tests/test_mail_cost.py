"""What one confirmation and one e-mail letter cost the database: a fixed, small number of queries."""

import pytest

from petitions import smtp
from petitions.models import Letter, Signature
from petitions.tasks import deliver_letter, send_confirmation

from .conftest import make_senator
from .letters import confirmed_signature

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_connection():
    smtp.kept.close()
    yield
    smtp.kept.close()


@pytest.mark.parametrize("language", ["be", "en"])
def test_a_confirmation_reads_one_row_and_writes_one_with_everything_its_email_shows(
    petition, smtp_server, django_assert_num_queries, language
):
    signature = Signature.objects.create(
        petition=petition, title="Ms.", first_name="Ada", last_name="Lovelace", email="ada@example.org",
        email_normalized="ada@example.org", address="1007 Grand Ave", city="Des Moines", state="IA",
        zip_code="50309", language=language, letter_hash=petition.letter_hash(),
    )  # fmt: skip

    # One SELECT of the fields the e-mail uses, one UPDATE of confirmation_sent_at: a field the
    # templates use but the task does not load would cost a query more and fail here.
    with django_assert_num_queries(2):
        send_confirmation(signature.pk)

    [message] = smtp_server.messages
    title = getattr(petition, f"title_{language}")
    assert title in str(message["Subject"])
    text = message.get_body(("plain",)).get_content()
    assert "Ada" in text and title in text
    assert f"/{language}/confirm/" in text and f"/{language}/withdraw/" in text
    assert Signature.objects.get().confirmation_sent_at is not None


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
