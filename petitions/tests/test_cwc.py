"""The CWC channel: the XML a senator's office receives, and how each answer of the CWC service is taken."""

import re
from zoneinfo import ZoneInfo

import pytest
from lxml import etree

from petitions.delivery import cwc
from petitions.models import Letter
from petitions.tasks import deliver_letter, sweep_letters

from .conftest import SHARED_DATA, free_port, make_president, make_senator
from .letters import confirmed_signature
from .receivers import HOUSE_OFFICE, SENATE_OFFICE, senate_schema

EASTERN = ZoneInfo("America/New_York")


@pytest.fixture
def senator(db):
    return make_senator("IA", 2, "Joni Ernst", "Ernst", channel="cwc")


def _letter(petition, senator, **fields):
    return confirmed_signature(petition, [senator], **fields).letters.get()


def test_the_xml_for_a_senator_validates_against_the_senate_schema(petition, senator, cwc_receiver):
    letter = _letter(
        petition,
        senator,
        first_name="<b>Ada</b>",
        last_name='& "Lovelace"',
        phone="(515) 555-0134",
        state="ia",
        note="I have a friend in prison in Minsk. " * 600,
    )

    xml = cwc.render_message(letter)

    document = etree.fromstring(xml)
    assert senate_schema().validate(document), senate_schema().error_log
    assert document.nsmap == {} and document.tag == "CWC"
    assert [child.tag for child in document] == ["CWCVersion", "Delivery", "Recipient", "Constituent", "Message"]
    assert document.findtext("CWCVersion") == "2.0"
    assert document.findtext("Delivery/DeliveryId") == letter.delivery_id
    assert re.fullmatch(r"\d{8}", document.findtext("Delivery/DeliveryDate"))
    assert document.findtext("Recipient/MemberOffice") == "SIA02"
    assert document.findtext("Constituent/Prefix") == "Ms."
    assert document.findtext("Constituent/FirstName") == "<b>Ada</b>"
    assert document.findtext("Constituent/LastName") == '& "Lovelace"'
    assert b"&lt;b&gt;Ada&lt;/b&gt;" in xml and b"&amp; " in xml
    assert document.findtext("Constituent/Phone") == "515-555-0134"
    assert document.findtext("Constituent/StateAbbreviation") == "IA"
    assert document.findtext("Constituent/Zip") == "50309"
    assert document.findtext("Message/LibraryOfCongressTopics/LibraryOfCongressTopic") == "International Affairs"
    message = document.findtext("Message/ConstituentMessage")
    assert 6 <= len(message) <= 10_000
    assert message.startswith("Dear Senator Ernst,")
    assert message.endswith("1007 Grand Ave\nDes Moines, ia 50309\n(515) 555-0134")
    # The long note was cut when the letter was written, so the stored letter is what was sent.
    assert message == letter.body
    assert "…" in message


@pytest.mark.parametrize("phone", ["+375 29 123 45 67", "555-0134", "call me"])
def test_a_phone_number_cwc_cannot_take_is_left_out(petition, senator, cwc_receiver, phone):
    document = etree.fromstring(cwc.render_message(_letter(petition, senator, phone=phone)))
    assert document.find("Constituent/Phone") is None


def test_a_us_phone_with_country_code_is_reformatted(petition, senator, cwc_receiver):
    document = etree.fromstring(cwc.render_message(_letter(petition, senator, phone="+1 515.555.0134")))
    assert document.findtext("Constituent/Phone") == "515-555-0134"


def test_the_shipped_schema_is_cwcs_own_widened_to_senate_offices():
    original = SHARED_DATA / "cwc" / "cwc_schema_v2.rng"
    if not original.exists():
        pytest.skip("the shared CWC data is not beside this checkout")
    parser = etree.XMLParser(remove_comments=True, remove_blank_text=True)
    widened = etree.fromstring(original.read_text().replace(HOUSE_OFFICE, SENATE_OFFICE).encode(), parser)
    shipped = etree.parse(str(cwc.SCHEMA_PATH), parser).getroot()
    assert etree.tostring(shipped, method="c14n") == etree.tostring(widened, method="c14n")


def test_a_letter_is_delivered_with_its_delivery_id(petition, senator, cwc_receiver):
    letter = _letter(petition, senator)
    deliver_letter(letter.pk)
    letter.refresh_from_db()
    assert letter.status == Letter.Status.DELIVERED
    assert letter.channel == "cwc"
    assert letter.response.startswith("CWC 201")
    assert cwc_receiver.accepted == {letter.delivery_id: 1}


def test_a_400_from_cwc_fails_the_letter_with_the_endpoints_error_text_and_is_not_retried(
    petition, senator, cwc_receiver
):
    letter = _letter(petition, senator)
    cwc_receiver.answer = (400, "<Errors><Error>Constituent address could not be verified</Error></Errors>")

    deliver_letter(letter.pk)

    letter.refresh_from_db()
    assert letter.status == Letter.Status.FAILED
    assert letter.last_error == "CWC 400: Constituent address could not be verified"
    assert letter.attempts == 1 and letter.next_attempt_at is None
    assert sweep_letters() == 0
    deliver_letter(letter.pk)
    assert len(cwc_receiver.posts()) == 1


def test_a_repeated_delivery_id_answered_409_counts_as_delivered(petition, senator, cwc_receiver):
    letter = _letter(petition, senator)
    deliver_letter(letter.pk)
    # As if the first answer had been lost: the letter is sent again with the same DeliveryId.
    Letter.objects.filter(pk=letter.pk).update(status=Letter.Status.QUEUED, response="")
    deliver_letter(letter.pk)

    letter.refresh_from_db()
    assert letter.status == Letter.Status.DELIVERED
    assert letter.response.startswith("CWC 409")
    assert [status for _id, status, _t in cwc_receiver.posts()] == [201, 409]


def test_a_5xx_answer_waits_for_a_later_attempt(petition, senator, cwc_receiver):
    letter = _letter(petition, senator)
    cwc_receiver.answer = (503, "<Errors><Error>Service unavailable</Error></Errors>")
    deliver_letter(letter.pk)
    letter.refresh_from_db()
    assert letter.status == Letter.Status.QUEUED
    assert letter.attempts == 1 and letter.next_attempt_at > letter.created_at
    assert letter.last_error.startswith("CWC 503")


def test_a_refused_connection_waits_and_never_stores_the_api_key(petition, senator, cwc_receiver, settings):
    settings.CWC_ENDPOINT = f"http://127.0.0.1:{free_port()}/v2/message"
    letter = _letter(petition, senator)
    deliver_letter(letter.pk)
    letter.refresh_from_db()
    assert letter.status == Letter.Status.QUEUED
    assert "ConnectionError" in letter.last_error
    assert settings.CWC_API_KEY not in letter.last_error


def test_a_message_the_schema_refuses_fails_without_being_sent(petition, senator, cwc_receiver):
    letter = _letter(petition, senator, email="ada@localhost")
    deliver_letter(letter.pk)
    letter.refresh_from_db()
    assert letter.status == Letter.Status.FAILED
    assert letter.last_error.startswith("CWC schema:") and "Email" in letter.last_error
    assert cwc_receiver.posts() == []


def test_the_rate_limit_spreads_sends_over_seconds(db):
    seconds = [cwc.take_slot(limit=3, wait_seconds=5) for _ in range(7)]
    assert None not in seconds
    assert max(seconds.count(second) for second in seconds) <= 3
    assert len(set(seconds)) >= 3


def test_cwc_refuses_a_recipient_it_cannot_reach_and_a_server_without_its_key(db, cwc_receiver, settings):
    assert cwc.CWCChannel.settings_errors({}, make_senator("OH", 1, "Bernie Moreno", "Moreno")) == {}
    assert "recipient" in cwc.CWCChannel.settings_errors({}, make_president())
    settings.CWC_API_KEY = ""
    assert "CWC_API_KEY" in str(cwc.CWCChannel.settings_errors({})["server"])
