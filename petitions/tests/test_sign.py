"""Signing: every rule of the sign form in both languages, what a valid signature saves, and repeats."""

import re
from datetime import timedelta

import lxml.html
import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from petitions import tasks
from petitions.models import Petition, Recipient, Signature
from petitions.signing import services

from .catalogue import in_language
from .conftest import make_petition, make_president, make_senator, purge_broker, sign_data
from .queues import queued_tasks

pytestmark = pytest.mark.django_db

LANGUAGES = ["be", "en"]
REQUIRED = "This field is required."


def _url(language, name, *args):
    with translation.override(language):
        return reverse(name, args=args)


def _sign(client, petition, language, **overrides):
    return client.post(_url(language, "petitions:detail", petition.slug), sign_data(**overrides))


def field_errors(response, field):
    """The error texts shown inside FIELD's own block of the form, next to the field."""
    page = lxml.html.fromstring(response.content)
    blocks = page.xpath(f'//*[@id="div_id_{field}"]//*[@id="id_{field}_error"]')
    return [" ".join(block.text_content().split()) for block in blocks]


def assert_refused(response, field, language=None, message=None):
    """A 400 page with an error next to FIELD, saying MESSAGE in the page's language when given."""
    assert response.status_code == 400
    errors = field_errors(response, field)
    assert errors, f"no error shown next to {field}"
    assert Signature.objects.count() == 0
    if message is not None:
        assert in_language(language, message) in errors[0]


@pytest.fixture
def abroad():
    """A supporter in Vilnius writing to the President."""
    return {
        "lives_abroad": "on",
        "address": "Gedimino pr. 1",
        "city": "Vilnius",
        "state": "",
        "postal_code": "LT-01100",
        "country": "Lithuania",
        "recipients": ["president"],
    }


# --- Refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("field", ["title", "first_name", "last_name", "email", "address", "city", "consent"])
def test_a_missing_required_field_is_refused_next_to_it(client, petition, recipients, language, field):
    response = _sign(client, petition, language, **{field: None})
    assert_refused(response, field, language, REQUIRED)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_signer_must_choose_at_least_one_recipient(client, petition, recipients, language):
    response = _sign(client, petition, language, recipients=None)
    assert_refused(response, "recipients", language, "Choose at least one person to receive your letter.")


def test_a_recipient_outside_the_choices_is_refused(client, petition, recipients):
    assert_refused(_sign(client, petition, "en", recipients=["governor"]), "recipients")


@pytest.mark.parametrize("title", ["Sir", "Mx.", "mr.", "Mr"])
def test_only_the_courtesy_titles_senate_offices_accept_are_taken(client, petition, recipients, title):
    assert_refused(_sign(client, petition, "en", title=title), "title")


@pytest.mark.parametrize("title", ["Mr.", "Mrs.", "Ms.", "Miss", "Dr."])
def test_every_accepted_courtesy_title_signs(client, petition, recipients, title):
    assert _sign(client, petition, "en", title=title).status_code == 302
    assert Signature.objects.get().title == title


@pytest.mark.parametrize(
    ("field", "too_long", "extra"),
    [
        ("first_name", "A" * 101, {}),
        ("last_name", "L" * 101, {}),
        ("email", "a" * 243 + "@example.org", {}),
        ("address", "1" * 201, {}),
        ("city", "C" * 101, {}),
        ("zip_code", "5" * 21, {}),
        ("country", "L" * 101, {"lives_abroad": "on", "recipients": ["president"]}),
        ("phone", "5" * 31, {}),
        ("note", "n" * 1501, {}),
    ],
)
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_field_one_character_over_its_limit_is_refused(
    client, petition, recipients, language, field, too_long, extra
):
    response = _sign(client, petition, language, **{field: too_long, **extra})
    assert_refused(response, field)


def test_a_note_of_exactly_the_limit_is_taken(client, petition, recipients):
    assert _sign(client, petition, "en", note="n" * 1500).status_code == 302
    assert len(Signature.objects.get().note) == 1500


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("first_name", "Ada\r\nBcc: someone@example.org"),
        ("first_name", "Ada\nLovelace"),
        ("last_name", "Love\rlace"),
        ("last_name", "Lovelace\x07"),
        ("first_name", "Ada\x1b[31m"),
        ("last_name", "Lovelace\u202eecalevol"),
        ("address", "1007 Grand Ave\n2nd floor"),
        ("city", "Des\tMoines"),
        ("note", "Free them \x1b[2J now"),
    ],
)
def test_control_characters_and_line_breaks_are_refused_where_one_line_is_expected(
    client, petition, recipients, language, field, value
):
    response = _sign(client, petition, language, **{field: value})
    assert_refused(response, field, language, "Please remove control characters or line breaks from this field.")


@pytest.mark.parametrize("field", ["first_name", "last_name", "address", "city", "note"])
def test_a_nul_character_is_refused(client, petition, recipients, field):
    assert_refused(_sign(client, petition, "en", **{field: "Ada\x00Lovelace"}), field)


def test_a_note_keeps_its_line_breaks_with_crlf_made_plain(client, petition, recipients):
    assert _sign(client, petition, "en", note="First line.\r\nSecond line.\rThird.").status_code == 302
    assert Signature.objects.get().note == "First line.\nSecond line.\nThird."


def test_html_in_a_name_is_stored_as_typed(client, petition, recipients):
    name = "<script>alert(1)</script>"
    assert _sign(client, petition, "en", first_name=name, last_name="O'Brien & <b>Sons</b>").status_code == 302
    signature = Signature.objects.get()
    assert (signature.first_name, signature.last_name) == (name, "O'Brien & <b>Sons</b>")


def test_html_in_a_name_is_escaped_when_the_form_is_shown_again(client, petition, recipients):
    response = _sign(client, petition, "en", first_name="<script>alert(1)</script>", email="not-an-address")
    assert response.status_code == 400
    page = response.content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("email", ["not-an-address", "ada@", "ada@@example.org", "ada lovelace@example.org", "@x.org"])
def test_a_malformed_email_is_refused(client, petition, recipients, language, email):
    assert_refused(_sign(client, petition, language, email=email), "email", language, "Enter a valid email address.")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("zip_code", ["5030", "503091", "50309-12", "5O309", "50309 1234", "50309-12345"])
def test_a_us_zip_code_must_have_five_digits_or_zip_plus_four(client, petition, recipients, language, zip_code):
    response = _sign(client, petition, language, zip_code=zip_code)
    assert_refused(response, "zip_code", language, "Enter a ZIP code of five digits, or ZIP+4 such as 50309-1234.")


def test_zip_plus_four_is_taken(client, petition, recipients):
    assert _sign(client, petition, "en", zip_code="50309-1234").status_code == 302
    assert Signature.objects.get().zip_code == "50309-1234"


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_us_signer_must_give_a_zip_code(client, petition, recipients, language):
    assert_refused(_sign(client, petition, language, zip_code=""), "zip_code", language, "Enter your ZIP code.")


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_zip_code_from_another_state_is_a_warning(client, petition, recipients, language):
    response = _sign(client, petition, language, zip_code="10001")
    assert response.status_code == 400
    assert Signature.objects.count() == 0
    [error] = field_errors(response, "zip_code")
    assert b'name="zip_confirmed"' in response.content
    message = "This ZIP code usually belongs to %(states)s, not %(state)s. Check it, or tick the box below to keep it."
    assert in_language(language, message) % {"states": "NY", "state": "IA"} in error


def test_the_signer_can_keep_a_zip_code_that_crosses_a_state_line(client, petition, recipients):
    response = _sign(client, petition, "en", zip_code="10001", zip_confirmed="on")
    assert response.status_code == 302
    assert Signature.objects.get().zip_code == "10001"


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_us_signer_must_choose_a_state(client, petition, recipients, language):
    assert_refused(_sign(client, petition, language, state=""), "state", language, "Choose your state.")


def test_a_state_outside_the_list_is_refused(client, petition, recipients):
    assert_refused(_sign(client, petition, "en", state="XX"), "state")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("state", "zip_code"), [("DC", "20001"), ("PR", "00901"), ("GU", "96910")])
def test_dc_and_territory_residents_choosing_senators_are_told_they_have_none(
    client, petition, recipients, language, state, zip_code
):
    response = _sign(client, petition, language, state=state, zip_code=zip_code)
    assert_refused(
        response,
        "recipients",
        language,
        "Residents of DC and the territories have no senators. You can write to the President.",
    )


def test_a_dc_resident_can_write_to_the_president(client, petition, recipients):
    response = _sign(client, petition, "en", state="DC", zip_code="20001", recipients=["president"])
    assert response.status_code == 302
    assert list(Signature.objects.get().recipients.all()) == [recipients[2]]


@pytest.mark.parametrize("ticked", [["senators", "president"], ["senators"]])
def test_a_signer_abroad_writes_to_the_president_whatever_a_page_without_styles_left_ticked(
    client, petition, recipients, abroad, ticked
):
    # The state and ZIP code typed before ticking "abroad" are hidden on that path, and dropped.
    response = _sign(client, petition, "en", **{**abroad, "recipients": ticked, "state": "IA", "zip_code": "50309"})
    assert response.status_code == 302
    signature = Signature.objects.get()
    assert (signature.state, signature.zip_code) == ("", "LT-01100")
    assert list(signature.recipients.all()) == [recipients[2]]


def test_a_petition_only_to_senators_says_it_cannot_be_signed_from_abroad(client, petition, recipients, abroad):
    petition.allow_president = False
    petition.save()
    assert_refused(_sign(client, petition, "en", **abroad), "lives_abroad")


def test_the_form_explains_the_constituents_rule_up_front(client, petition, recipients):
    page = client.get(_url("en", "petitions:detail", petition.slug)).content.decode()
    assert "Senators take letters only from their own constituents" in page


def test_a_signer_abroad_writes_to_the_president_with_a_foreign_address(client, petition, recipients, abroad):
    response = _sign(client, petition, "en", **abroad)
    assert response.status_code == 302
    signature = Signature.objects.get()
    assert (signature.state, signature.country, signature.city, signature.zip_code) == (
        "",
        "Lithuania",
        "Vilnius",
        "LT-01100",
    )
    assert list(signature.recipients.all()) == [recipients[2]]


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_signer_abroad_must_name_their_country(client, petition, recipients, abroad, language):
    response = _sign(client, petition, language, **{**abroad, "country": ""})
    assert_refused(response, "country", language, "Tell us which country you live in.")


def test_a_signer_abroad_naming_the_united_states_is_asked_to_untick_abroad(client, petition, recipients, abroad):
    assert_refused(_sign(client, petition, "en", **{**abroad, "country": "USA"}), "country")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("515 555 0134", "515-555-0134"),
        ("(515) 555-0134", "515-555-0134"),
        ("515.555.0134", "515-555-0134"),
        ("+1 (515) 555-0134", "515-555-0134"),
        ("1-515-555-0134", "515-555-0134"),
        ("", ""),
    ],
)
def test_us_phone_numbers_are_written_the_way_cwc_takes_them(client, petition, recipients, typed, stored):
    assert _sign(client, petition, "en", phone=typed).status_code == 302
    assert Signature.objects.get().phone == stored


def test_a_foreign_phone_number_is_kept_as_typed(client, petition, recipients, abroad):
    assert _sign(client, petition, "en", **abroad, phone="+375 29 123-45-67").status_code == 302
    assert Signature.objects.get().phone == "+375 29 123-45-67"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("phone", ["call me", "12345", "555-0134", "515-555-01345", "515555013x"])
def test_a_phone_number_that_is_not_one_is_refused(client, petition, recipients, language, phone):
    assert_refused(
        _sign(client, petition, language, phone=phone),
        "phone",
        language,
        "Enter a phone number with digits only, for example 515-555-0134.",
    )


# --- A valid signature ------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_valid_signature_is_saved_pending_and_a_confirmation_is_enqueued_on_commit(
    client, petition, recipients, language, django_capture_on_commit_callbacks
):
    purge_broker()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _sign(client, petition, language, note="Free them.")

    assert response.status_code == 302
    assert response["Location"] == _url(language, "petitions:signed", petition.slug)
    signature = Signature.objects.get()
    assert signature.status == Signature.Status.PENDING
    assert signature.language == language
    assert signature.letter_hash == petition.letter_hash()
    assert signature.letter_text == petition.letter_en
    assert (signature.first_name, signature.email_normalized, signature.note) == (
        "Ada",
        "ada@example.org",
        "Free them.",
    )
    assert set(signature.recipients.all()) == set(recipients)
    assert signature.confirmed_at is None

    assert len(callbacks) == 1
    assert queued_tasks() == []
    callbacks[0]()
    assert queued_tasks() == [("petitions.tasks.send_confirmations", ())]
    assert list(Signature.objects.confirmations_due()) == [signature]


def test_only_the_signers_own_senators_receive_the_letter(client, petition, recipients):
    ohio = make_senator("OH", 1, name="Bernie Moreno", last_name="Moreno")
    make_senator("IA", 2, name="Former Senator", last_name="Former", is_active=False)
    assert _sign(client, petition, "en", recipients=["senators"]).status_code == 302
    chosen = set(Signature.objects.get().recipients.all())
    assert chosen == set(recipients[:2])
    assert ohio not in chosen


def test_the_check_your_inbox_page_tells_to_look_in_spam_and_offers_a_new_link(client, petition, recipients):
    response = _sign(client, petition, "en")
    page = client.get(response["Location"]).content.decode()
    assert "spam" in page
    assert 'name="email"' in page


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_check_your_inbox_page_is_in_the_signers_language(client, petition, recipients, language):
    page = client.get(_sign(client, petition, language)["Location"]).content.decode()
    assert f'<html lang="{language}">' in page
    assert in_language(language, "Check your inbox") in page


# --- Signing again ----------------------------------------------------------------------------


def test_signing_again_with_other_details_makes_an_attempt_of_its_own_and_leaves_the_first_as_it_was(
    client, petition, recipients, django_capture_on_commit_callbacks
):
    purge_broker()
    with django_capture_on_commit_callbacks(execute=True):
        first = _sign(client, petition, "en", email="Ada.Lovelace@gmail.com")
    original = Signature.objects.get()
    Signature.objects.update(confirmation_sent_at=timezone.now())  # the first link went out
    before = Signature.objects.values().get()

    with django_capture_on_commit_callbacks(execute=True):
        again = _sign(
            client, petition, "be", email="adalovelace+again@GMAIL.com", first_name="Augusta", recipients=["president"]
        )

    assert (again.status_code, again["Location"]) == (first.status_code, _url("be", "petitions:signed", petition.slug))
    assert first["Location"] == _url("en", "petitions:signed", petition.slug)
    # Nobody's details are rewritten: the first attempt, its recipients and its link stay as they were.
    assert Signature.objects.values().get(pk=original.pk) == before
    assert set(original.recipients.all()) == set(recipients)
    attempt = Signature.objects.exclude(pk=original.pk).get()
    assert attempt.email_normalized == original.email_normalized
    assert attempt.status == Signature.Status.PENDING
    assert (attempt.first_name, attempt.language) == ("Augusta", "be")
    assert list(attempt.recipients.all()) == [recipients[2]]
    # One reminder for both: no worker has looked since the first. The new attempt gets its own link.
    assert queued_tasks() == [("petitions.tasks.send_confirmations", ())]
    assert list(Signature.objects.confirmations_due()) == [attempt]
    assert services.confirmation_token(attempt) != services.confirmation_token(original)


def test_the_same_details_sent_again_are_one_attempt_whose_link_is_sent_again(
    client, petition, recipients, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _sign(client, petition, "en")
    Signature.objects.update(confirmation_sent_at=timezone.now())  # the first link went out
    purge_broker()
    cache.delete(tasks.CONFIRMATIONS_REMINDED_KEY)  # as the worker that sent it did

    with django_capture_on_commit_callbacks(execute=True):
        _sign(client, petition, "en")

    signature = Signature.objects.get()
    assert set(signature.recipients.all()) == set(recipients)
    assert queued_tasks() == [("petitions.tasks.send_confirmations", ())]
    assert list(Signature.objects.confirmations_due()) == [signature]


def test_signing_again_answers_exactly_as_a_first_signature_does(client, petition, recipients):
    first = _sign(Client(), petition, "en", email="someone.new@example.org")
    again = _sign(client, petition, "en", email="someone.new@example.org")
    Signature.objects.filter(email="someone.new@example.org").update(status=Signature.Status.CONFIRMED)
    after_confirming = _sign(Client(), petition, "en", email="SOMEONE.new@example.org")
    for response in (again, after_confirming):
        assert (response.status_code, response["Location"]) == (first.status_code, first["Location"])
        assert response.content == first.content


def test_signing_again_after_confirming_leaves_the_confirmed_signature_untouched(
    client, petition, recipients, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        _sign(client, petition, "en")
    signature = Signature.objects.get()
    services.confirm_signature(signature)
    before = Signature.objects.values().get()

    purge_broker()
    with django_capture_on_commit_callbacks(execute=True):
        response = _sign(
            client, petition, "be", email="ADA@example.org", first_name="Mallory", recipients=["president"]
        )

    assert response.status_code == 302
    assert Signature.objects.values().get(pk=signature.pk) == before
    assert set(signature.recipients.all()) == set(recipients)
    # The new attempt's link can only say that the address has signed: it confirms nothing.
    attempt = Signature.objects.exclude(pk=signature.pk).get()
    link = _url("be", "petitions:confirm", services.confirmation_token(attempt))
    page = client.get(link)
    assert in_language("be", "Your signature is already confirmed") in page.content.decode()
    assert 'type="submit"' not in page.content.decode()
    assert services.confirm_signature(attempt) is False
    assert Signature.objects.values().get() == before


# --- Closed petitions and forged posts --------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_closed_petition_takes_no_signature_and_says_so(client, recipients, language):
    petition = make_petition(status=Petition.Status.CLOSED)

    response = _sign(client, petition, language)

    assert Signature.objects.count() == 0
    page = client.get(response["Location"]) if response.status_code == 302 else response
    assert in_language(language, "This petition is closed and no longer takes signatures.") in page.content.decode()


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_sign_form_without_a_csrf_token_saves_nothing_and_comes_back_filled_in_with_one(
    petition, recipients, language
):
    # What a browser without JavaScript sends from the cached petition page, whose form has no token.
    client = Client(enforce_csrf_checks=True)
    response = _sign(client, petition, language, first_name="Augusta")

    assert response.status_code == 403
    assert Signature.objects.count() == 0
    page = response.content.decode()
    assert f'<html lang="{language}">' in page
    notice = "Please check your details and send the form once more: it arrived without its security token."
    assert in_language(language, notice) in page
    form = lxml.html.fromstring(page).xpath('//form[contains(@class, "sign-form")]')[0]
    assert form.fields["first_name"] == "Augusta" and form.fields["csrfmiddlewaretoken"]
    again = {**dict(form.form_values()), **sign_data(first_name="Augusta")}
    assert client.post(_url(language, "petitions:detail", petition.slug), again).status_code == 302
    assert Signature.objects.get().first_name == "Augusta"


def test_a_form_sent_to_another_page_without_a_token_is_refused_with_a_page_that_says_to_reload(petition):
    client = Client(enforce_csrf_checks=True)
    response = client.post(_url("en", "petitions:signed", petition.slug), {"email": "ada@example.org"})
    assert response.status_code == 403
    assert in_language("en", "Reload the page and try again.") in response.content.decode()


def test_a_post_with_the_token_the_form_fetches_is_taken(petition, recipients):
    client = Client(enforce_csrf_checks=True)
    token = client.get(_url("en", "petitions:form-token", petition.slug)).json()["csrfmiddlewaretoken"]
    response = client.post(_url("en", "petitions:detail", petition.slug), {**sign_data(), "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Signature.objects.count() == 1


# --- Asking for a new link --------------------------------------------------------------------


def _without_csrf_token(response):
    """The page with its per-render CSRF token blanked, so two answers can be compared."""
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", response.content)


def _resend(client, petition, email):
    return client.post(_url("en", "petitions:signed", petition.slug), {"email": email}, follow=True)


def test_a_new_link_is_sent_for_a_pending_signature_only(
    client, petition, recipients, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        _sign(client, petition, "en", email="ada.lovelace@gmail.com")
    signature = Signature.objects.get()
    Signature.objects.update(confirmation_sent_at=timezone.now())  # the first link went out
    purge_broker()

    with django_capture_on_commit_callbacks(execute=True):
        pending = _resend(client, petition, "AdaLovelace@gmail.com")
    assert queued_tasks() == [("petitions.tasks.send_confirmations", ())]
    assert list(Signature.objects.confirmations_due()) == [signature]

    with django_capture_on_commit_callbacks(execute=True):
        unknown = _resend(client, petition, "nobody@example.org")
    assert queued_tasks() == []

    services.confirm_signature(signature)
    purge_broker()
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = _resend(client, petition, "ada.lovelace@gmail.com")
    assert queued_tasks("mail") == []

    assert pending.redirect_chain == unknown.redirect_chain == confirmed.redirect_chain
    assert _without_csrf_token(pending) == _without_csrf_token(unknown) == _without_csrf_token(confirmed)
    assert "If that address has a signature waiting, we have sent a new link." in pending.content.decode()


def test_a_petition_without_senators_sends_letters_to_the_president_only(client, recipients):
    petition = make_petition(slug="president-only", allow_senators=False)
    assert _sign(client, petition, "en", recipients=["president"]).status_code == 302
    assert list(Signature.objects.get().recipients.all()) == [recipients[2]]
    refused = _sign(client, petition, "en", email="b@example.org", recipients=["senators"])
    assert refused.status_code == 400
    assert field_errors(refused, "recipients")
    assert Signature.objects.count() == 1


def test_a_signature_is_refused_when_nobody_it_chose_can_receive_it(client, petition):
    Recipient.objects.all().delete()
    make_president(is_active=False)
    response = _sign(client, petition, "en", recipients=["president"])
    assert_refused(response, "recipients")


def test_a_signer_writes_to_their_states_senators_by_class_and_to_the_one_current_president():
    petition = make_petition()
    second = make_senator("IA", 3, "Chuck Grassley", "Grassley")
    first = make_senator("IA", 2, "Joni Ernst", "Ernst")
    make_senator("NE", 1, "Deb Fischer", "Fischer")
    make_senator("IA", 1, "A Former Senator", "Former", is_active=False)
    make_president(name="A former President", is_active=False)
    president = make_president()
    make_president(name="A second President record")

    assert services.recipients_for(petition, "IA", False) == [first, second, president]
    assert services.recipients_for(petition, "", True) == [president]
    petition.allow_president = False
    assert services.recipients_for(petition, "IA", False) == [first, second]
    petition.allow_senators = False
    assert services.recipients_for(petition, "IA", False) == []


def test_signing_costs_a_fixed_number_of_queries_whatever_the_recipients(
    client, django_assert_max_num_queries, settings
):
    # A surge is signers, each one POST: its queries are the site's capacity (docs/benchmarks.md).
    settings.SIGN_MIN_SECONDS = 0
    petition = make_petition()
    make_senator("IA", 2, "Joni Ernst", "Ernst")
    make_senator("IA", 3, "Chuck Grassley", "Grassley")
    make_president()
    # The new signature and its recipients, and the transaction's own two (a savepoint in a test);
    # the first signature in a process also reads the petitions, the blocked domains and networks
    # and the officials, which it then keeps for a few seconds (models.kept).
    with django_assert_max_num_queries(8):
        response = _sign(client, petition, "en")
    assert response.status_code == 302
    with django_assert_max_num_queries(4):
        response = _sign(client, petition, "en", email="grace@example.org")
    assert response.status_code == 302
    assert [s.recipients.count() for s in Signature.objects.all()] == [3, 3]


@pytest.mark.parametrize(
    ("language", "iowa", "first_three"),
    [
        ("be", "Аёва", ["Агаё", "Аёва", "Айдаха"]),
        ("en", "Iowa", ["Alabama", "Alaska", "American Samoa"]),
    ],
)
def test_the_state_list_is_in_the_pages_language_and_its_alphabetical_order(client, language, iowa, first_three):
    petition = make_petition()
    page = lxml.html.fromstring(client.get(_url(language, "petitions:detail", petition.slug)).content)
    options = [(option.get("value"), option.text_content()) for option in page.xpath('//select[@id="id_state"]/option')]
    names = [name for value, name in options if value]
    assert dict(options)["IA"] == iowa
    assert names[:3] == first_three
    if language == "be":
        # ё sorts after е (Аёва before Айдаха) and і where и would, not after я as in Unicode.
        assert names.index("Ілінойс") < names.index("Канзас")


@pytest.mark.django_db(transaction=True)
def test_a_new_signature_and_its_recipients_are_saved_together_outside_a_transaction(
    client, django_assert_num_queries, settings
):
    # As in production, where a request has no transaction around it (tests normally do).
    settings.SIGN_MIN_SECONDS = 0
    petition = make_petition()
    senators = [make_senator("IA", 2, "Joni Ernst", "Ernst"), make_senator("IA", 3, "Chuck Grassley", "Grassley")]
    president = make_president()
    assert _sign(client, petition, "en").status_code == 302  # the first also reads what it then keeps
    purge_broker()
    cache.delete(tasks.CONFIRMATIONS_REMINDED_KEY)  # as a worker does when it starts to look

    # On PostgreSQL one statement, with neither BEGIN nor COMMIT; elsewhere the ORM's transaction.
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 4) as captured:
        assert _sign(client, petition, "be", email="grace@example.org").status_code == 302
    if connection.vendor == "postgresql":
        assert "INSERT INTO" in captured.captured_queries[0]["sql"]

    grace = Signature.objects.get(email_normalized="grace@example.org")
    assert set(grace.recipients.all()) == {*senators, president}
    assert grace.status == Signature.Status.PENDING and grace.language == "be"
    assert timezone.now() - grace.created_at < timedelta(minutes=1)
    # Committed as it ran: the worker was reminded at once.
    assert queued_tasks("mail") == [("petitions.tasks.send_confirmations", ())]


@pytest.mark.django_db(transaction=True)
def test_a_double_click_outside_a_transaction_saves_one_attempt_and_no_stray_recipients(client, settings):
    settings.SIGN_MIN_SECONDS = 0
    petition = make_petition()
    make_senator("IA", 2, "Joni Ernst", "Ernst")
    make_president()
    assert _sign(client, petition, "en").status_code == 302
    rows = Signature.recipients.through.objects.count()

    assert _sign(client, petition, "en").status_code == 302

    assert Signature.objects.count() == 1
    # The refused INSERT left no recipient rows of a signature that does not exist.
    assert Signature.recipients.through.objects.count() == rows
