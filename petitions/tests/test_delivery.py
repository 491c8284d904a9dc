"""Letter delivery through every channel, by real workers and in-process, and what organizers and signers see."""

import io
import re
import zipfile

import pytest
from django.urls import reverse
from django.utils import translation

from petitions.delivery.printing import BATCH_PREFIX
from petitions.models import Letter, Recipient
from petitions.organizers.admin import RecipientForm
from petitions.signing import services
from petitions.tasks import deliver_letter

from .conftest import make_president, make_senator, wait_until
from .letters import confirmed_letters, confirmed_signature
from .receivers import cwc_settings

WHITE_HOUSE = "The White House\n1600 Pennsylvania Avenue NW\nWashington, DC 20500"


def _delivery_ids(messages):
    return [message["X-Delivery-Id"] for message in messages if message["X-Delivery-Id"]]


def _all_delivered(count):
    return lambda: Letter.objects.filter(status=Letter.Status.DELIVERED).count() == count


@pytest.mark.slow
def test_every_confirmed_letter_is_delivered_once_through_each_channel(
    petition, cwc_receiver, smtp_server, http_receiver, start_worker
):
    ernst = make_senator("IA", 2, "Joni Ernst", "Ernst", channel="cwc")
    grassley = make_senator(
        "IA", 3, "Chuck Grassley", "Grassley", channel="email", channel_settings={"address": "intake@grassley.test"}
    )
    president = make_president(channel="http", channel_settings={"url": http_receiver.url, "format": "json"})
    start_worker(env={**cwc_settings(cwc_receiver.endpoint), "CWC_RATE_LIMIT": 50})

    signatures = [confirmed_signature(petition, [ernst, grassley, president]) for _ in range(6)]

    wait_until(_all_delivered(18), timeout=60, message="18 letters delivered")
    letters = {letter.recipient_id: letter for letter in Letter.objects.all()}
    by_recipient = {
        r.pk: set(Letter.objects.filter(recipient=r).values_list("delivery_id", flat=True))
        for r in (ernst, grassley, president)
    }
    assert dict(cwc_receiver.accepted) == dict.fromkeys(by_recipient[ernst.pk], 1)
    assert len(cwc_receiver.posts()) == 6
    mailed = _delivery_ids(smtp_server.messages)
    assert sorted(mailed) == sorted(by_recipient[grassley.pk])
    posted = [body["delivery_id"] for _headers, body in http_receiver.received]
    assert sorted(posted) == sorted(by_recipient[president.pk])

    letter = letters[grassley.pk]
    [message] = [m for m in smtp_server.messages if m["X-Delivery-Id"] == letter.delivery_id]
    assert message["To"] == "intake@grassley.test"
    assert message["Reply-To"] == letter.signature.email
    assert message["Message-ID"].startswith(f"<{letter.delivery_id}@")
    assert message.get_content().replace("\r\n", "\n").strip() == letter.body.strip()
    assert {s.status for s in signatures} == {"confirmed"}


@pytest.mark.slow
def test_two_workers_racing_on_the_same_letters_send_each_once(petition, cwc_receiver, start_worker):
    senator = make_senator("IA", 2, "Joni Ernst", "Ernst", channel="cwc")
    cwc_receiver.delay = 0.3
    env = {**cwc_settings(cwc_receiver.endpoint), "CWC_RATE_LIMIT": 50}
    start_worker(env=env, queues="letters", concurrency=2)
    start_worker(env=env, queues="letters", concurrency=2)

    letters = confirmed_letters(petition, senator, 5)
    for letter in letters:  # Four more reminders each, as a redelivered message or the sweeper would.
        for _ in range(4):
            deliver_letter.delay(letter.pk)

    wait_until(_all_delivered(5), timeout=60, message="5 letters delivered")
    assert len(cwc_receiver.posts()) == 5
    assert dict(cwc_receiver.accepted) == {letter.delivery_id: 1 for letter in letters}
    assert set(Letter.objects.values_list("attempts", flat=True)) == {1}


def test_the_http_channel_posts_mapped_form_fields_with_a_token_from_the_environment(petition, http_receiver, settings):
    settings.DELIVERY_HTTP_TOKENS = {"crm": "s3cret-token"}
    fields = {"id": "delivery_id", "text": "body", "from": "email"}
    president = make_president(
        channel="http", channel_settings={"url": http_receiver.url, "format": "form", "fields": fields, "token": "crm"}
    )
    letter = confirmed_signature(petition, [president]).letters.get()

    deliver_letter(letter.pk)

    letter.refresh_from_db()
    assert letter.status == Letter.Status.DELIVERED
    [(headers, body)] = http_receiver.received
    assert body == {"id": letter.delivery_id, "text": letter.body, "from": letter.signature.email}
    assert headers["Authorization"] == "Bearer s3cret-token"
    assert headers["Idempotency-Key"] == letter.delivery_id
    assert "s3cret" not in str(Recipient.objects.values().get(pk=president.pk)) + letter.response


@pytest.mark.parametrize(("answer", "status"), [(429, "queued"), (503, "queued"), (404, "failed"), (400, "failed")])
def test_the_http_channel_retries_429_and_5xx_and_fails_other_4xx(petition, http_receiver, answer, status):
    president = make_president(channel="http", channel_settings={"url": http_receiver.url})
    letter = confirmed_signature(petition, [president]).letters.get()
    http_receiver.answers = [answer]
    deliver_letter(letter.pk)
    letter.refresh_from_db()
    assert letter.status == status
    assert letter.last_error.startswith(f"HTTP {answer}")


@pytest.mark.parametrize(("reply", "status"), [("451 4.3.0 Try again later", "queued"), ("550 5.1.1 No", "failed")])
def test_the_email_channel_retries_smtp_4xx_and_fails_5xx(petition, smtp_server, reply, status):
    senator = make_senator(channel="email", channel_settings={"address": "intake@ernst.test"})
    letter = confirmed_signature(petition, [senator]).letters.get()
    smtp_server.refuse(reply)
    deliver_letter(letter.pk)
    letter.refresh_from_db()
    assert letter.status == status
    assert letter.last_error.startswith(f"SMTP {reply[:3]}")


def _run_action(admin_client, action, letters):
    return admin_client.post(
        reverse("admin:petitions_letter_changelist"),
        {"action": action, "_selected_action": [letter.pk for letter in letters]},
    )


def test_a_print_batch_has_one_page_per_letter_and_only_its_letters_are_marked_delivered(petition, admin_client):
    president = make_president(channel="print", office_address=WHITE_HOUSE)
    letters = confirmed_letters(petition, president, 2)
    letters.append(confirmed_signature(petition, [president], first_name="Алеся", last_name="Бяляцкая").letters.get())
    for letter in letters:
        deliver_letter(letter.pk)
    assert set(Letter.objects.values_list("status", "channel")) == {("needs_action", "print")}

    response = _run_action(admin_client, "download_print_batch", letters)

    assert response["Content-Type"] == "application/pdf"
    pdf = response.content
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 3
    assert b"/FontFile2" in pdf  # DejaVu Sans embedded, so the Cyrillic name prints.
    stamps = set(Letter.objects.values_list("response", flat=True))
    assert len(stamps) == 1 and stamps.pop().startswith(BATCH_PREFIX)

    late = confirmed_signature(petition, [president]).letters.get()
    deliver_letter(late.pk)
    _run_action(admin_client, "mark_printed_delivered", [*letters, late])

    assert Letter.objects.filter(status=Letter.Status.DELIVERED).count() == 3
    late.refresh_from_db()
    assert late.status == Letter.Status.NEEDS_ACTION and late.response == ""


def test_print_batches_for_several_recipients_download_as_one_pdf_each(petition, admin_client):
    president = make_president(channel="print", office_address=WHITE_HOUSE)
    senator = make_senator(channel="print", office_address="730 Hart Senate Office Building\nWashington, DC 20510")
    signature = confirmed_signature(petition, [president, senator])
    for letter in signature.letters.all():
        deliver_letter(letter.pk)

    response = _run_action(admin_client, "download_print_batch", signature.letters.all())

    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert len(archive.namelist()) == 2
    for name in archive.namelist():
        assert len(re.findall(rb"/Type\s*/Page\b", archive.read(name))) == 1


def _recipient_form(**fields):
    data = {"kind": "senator", "name": "Joni Ernst", "state": "IA", "senate_class": 2, "is_active": True}
    data.update(fields)
    return RecipientForm(data=data)


@pytest.mark.parametrize(
    ("channel", "settings_json", "message"),
    [
        ("email", "{}", "intake e-mail address"),
        ("email", '{"address": "not an address"}', "intake e-mail address"),
        ("http", '{"url": "htp//crm"}', "starting with https://"),
        ("http", '{"url": "https://crm.test/in", "fields": {"x": "password"}}', "Map the receiver's field names"),
        ("http", '{"url": "https://crm.test/in", "token": "nope"}', "DELIVERY_HTTP_TOKENS"),
        ("print", "{}", "office address"),
        ("email", '["intake@ernst.test"]', "JSON object"),
    ],
)
def test_a_recipient_with_a_broken_channel_setting_is_refused(db, channel, settings_json, message):
    form = _recipient_form(channel=channel, channel_settings=settings_json)
    with translation.override("en"):
        assert not form.is_valid()
        assert message in " ".join(form.errors["channel_settings"])


def test_the_admin_refuses_a_recipient_with_a_broken_channel_setting_with_a_clear_message(admin_client):
    data = {"kind": "senator", "name": "Joni Ernst", "state": "IA", "senate_class": 2, "is_active": "on"}
    response = admin_client.post(
        reverse("admin:petitions_recipient_add"),
        {**data, "channel": "email", "channel_settings": "{}"},
    )
    assert response.status_code == 200
    assert re.search(r'id="id_channel_settings_error"><li>address: ', response.content.decode())
    assert not Recipient.objects.exists()
    admin_client.post(
        reverse("admin:petitions_recipient_add"),
        {**data, "channel": "email", "channel_settings": '{"address": "intake@ernst.test"}'},
    )
    assert Recipient.objects.get().channel_settings == {"address": "intake@ernst.test"}


def test_letters_for_a_recipient_whose_settings_broke_wait_for_organizers(petition):
    senator = make_senator(channel="email", channel_settings={})
    letter = confirmed_signature(petition, [senator]).letters.get()
    deliver_letter(letter.pk)
    letter.refresh_from_db()
    assert letter.status == Letter.Status.NEEDS_ACTION
    assert "intake e-mail address" in letter.last_error


def test_organizers_re_route_a_waiting_letter_and_it_is_delivered(petition, admin_client, smtp_server):
    senator = make_senator(channel="", channel_settings={"address": "intake@ernst.test"})
    unroutable = make_senator("OH", 1, "Bernie Moreno", "Moreno")
    letter = confirmed_signature(petition, [senator]).letters.get()
    stuck = confirmed_signature(petition, [unroutable], state="OH", email="ohio@example.org").letters.get()
    assert {letter.status, stuck.status} == {Letter.Status.NEEDS_ACTION}

    response = _run_action(admin_client, "reroute_to_email", [letter, stuck])
    assert response.status_code == 302

    letter.refresh_from_db()
    stuck.refresh_from_db()
    assert (letter.status, letter.channel) == (Letter.Status.QUEUED, "email")
    assert (stuck.status, stuck.channel) == (Letter.Status.NEEDS_ACTION, "")
    deliver_letter(letter.pk)
    letter.refresh_from_db()
    assert letter.status == Letter.Status.DELIVERED
    assert _delivery_ids(smtp_server.messages) == [letter.delivery_id]


def test_retrying_a_failed_letter_uses_its_recipients_channel_and_starts_counting_again(petition, admin_client):
    senator = make_senator(channel="email", channel_settings={"address": "intake@ernst.test"})
    letter = confirmed_signature(petition, [senator]).letters.get()
    Letter.objects.filter(pk=letter.pk).update(status=Letter.Status.FAILED, attempts=8, channel="http")
    _run_action(admin_client, "retry_letters", [letter])
    letter.refresh_from_db()
    assert (letter.status, letter.channel, letter.attempts) == (Letter.Status.QUEUED, "email", 0)


def test_the_petition_summary_counts_letters_by_recipient_and_status(petition, admin_client):
    senator = make_senator(channel="")
    confirmed_letters(petition, senator, 2)
    page = admin_client.get(reverse("admin:petitions_petition_change", args=[petition.pk])).content.decode()
    assert "Сенатар Joni Ernst (Аёва)" in page
    assert re.search(r"status__exact=needs_action'>2</a>", page)


def test_the_signers_page_offers_the_contact_form_for_an_unrouted_letter_and_says_when_it_waits_for_print(
    petition, client
):
    senator = make_senator(channel="", contact_form="https://www.ernst.senate.gov/contact")
    president = make_president(channel="print", office_address=WHITE_HOUSE)
    signature = confirmed_signature(petition, [senator, president])
    for letter in signature.letters.all():
        deliver_letter(letter.pk)

    page = client.get(reverse("petitions:status", args=[services.status_token(signature)])).content.decode()

    assert "https://www.ernst.senate.gov/contact" in page
    assert signature.letters.get(recipient=senator).body.split("\n")[0] in page
    assert page.count("<pre") == 1  # The printed letter is not offered for copying: it will be posted.


def test_the_public_page_counts_delivered_letters_and_names_no_signer(petition, client, cwc_receiver):
    senator = make_senator(channel="cwc")
    for letter in confirmed_letters(petition, senator, 2):
        deliver_letter(letter.pk)
    detail = client.get(reverse("petitions:detail", args=[petition.slug])).content.decode()
    url = reverse("petitions:delivered", args=[petition.slug])
    assert url in detail

    page = client.get(url).content.decode()
    assert re.search(r"Сенатар Joni Ernst \(Аёва\)</th><td>2</td>", page)
    assert "Lovelace" not in page and "ada" not in page.lower().replace("canada", "")
