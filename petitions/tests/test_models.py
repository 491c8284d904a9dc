"""The records' own rules: publishing, languages, the letter's hash, the cached count, letters' text."""

import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from petitions.models import Petition, Signature
from petitions.signing import services

from .conftest import make_petition, make_president, make_senator

pytestmark = pytest.mark.django_db


def _signature(petition, **fields):
    values = {
        "petition": petition,
        "title": "Ms.",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.org",
        "email_normalized": "ada@example.org",
        "address": "1007 Grand Ave",
        "city": "Des Moines",
        "state": "IA",
        "zip_code": "50309",
        "language": "en",
        "letter_hash": petition.letter_hash(),
        "letter_text": petition.letter_en,
    }
    values.update(fields)
    return Signature(**values)


# --- Petition ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [Petition.Status.OPEN, Petition.Status.CLOSED])
@pytest.mark.parametrize(
    "field", ["title_be", "title_en", "introduction_be", "introduction_en", "letter_be", "letter_en"]
)
def test_a_petition_cannot_be_published_while_a_text_is_missing_in_either_language(field, status):
    petition = make_petition(status=Petition.Status.DRAFT)
    petition.status = status
    setattr(petition, field, "   \n ")

    with pytest.raises(ValidationError) as refused:
        petition.full_clean()

    assert list(refused.value.message_dict) == [field]


def test_a_draft_may_lack_texts_and_a_complete_petition_may_be_published():
    draft = make_petition(status=Petition.Status.DRAFT, letter_be="", introduction_en="")
    draft.full_clean()

    complete = make_petition(slug="complete", status=Petition.Status.DRAFT)
    complete.status = Petition.Status.OPEN
    complete.full_clean()


def test_a_petition_must_let_signers_write_to_someone():
    petition = make_petition(allow_senators=False, allow_president=False)
    with pytest.raises(ValidationError):
        petition.full_clean()


def test_the_localized_texts_follow_the_active_language():
    petition = make_petition(title_be="Загаловак", title_en="Title", letter_be="Ліст", letter_en="Letter")

    with translation.override("be"):
        assert (petition.title, petition.letter) == ("Загаловак", "Ліст")
        assert petition.introduction == petition.introduction_be
    with translation.override("en"):
        assert (petition.title, petition.letter) == ("Title", "Letter")
        assert petition.introduction == petition.introduction_en


def test_a_draft_missing_one_language_falls_back_to_the_other():
    petition = make_petition(status=Petition.Status.DRAFT, title_be="", title_en="Title")
    with translation.override("be"):
        assert petition.title == "Title"


def test_the_letter_hash_is_the_sha256_of_the_english_letter_and_changes_with_it():
    petition = make_petition(letter_en="Dear official, free them.")
    first = petition.letter_hash()
    assert first == hashlib.sha256(b"Dear official, free them.").hexdigest()

    petition.letter_be = "Іншы пераклад"
    assert petition.letter_hash() == first
    petition.letter_en = "Dear official, free them now."
    assert petition.letter_hash() != first


def test_closing_a_petition_records_when(petition):
    assert petition.closed_at is None
    petition.status = Petition.Status.CLOSED
    petition.save()
    assert petition.closed_at is not None


# --- The cached count -------------------------------------------------------------------------


def test_the_confirmed_count_is_read_from_the_cache_until_forgotten(petition, django_assert_num_queries):
    assert petition.confirmed_count() == 0
    _signature(petition, status=Signature.Status.CONFIRMED).save()
    _signature(petition, email_normalized="b@example.org", status=Signature.Status.PENDING).save()

    with django_assert_num_queries(0):
        assert petition.confirmed_count() == 0

    petition.forget_count()
    assert petition.confirmed_count() == 1


def test_a_withdrawn_signature_still_counts_anonymously_once_it_was_confirmed(petition):
    signature = _signature(petition, status=Signature.Status.CONFIRMED)
    signature.save()
    never_confirmed = _signature(petition, email_normalized="b@example.org")
    never_confirmed.save()
    services.withdraw(Signature.objects.get(pk=never_confirmed.pk))
    assert petition.confirmed_count() == 1

    signature.confirmed_at = signature.created_at
    signature.save()
    services.withdraw(signature)

    assert petition.confirmed_count() == 1


def test_progress_toward_the_goal_is_a_capped_percentage(petition):
    petition.goal = 4
    _signature(petition, status=Signature.Status.CONFIRMED).save()
    petition.forget_count()
    assert petition.progress_percent() == 25


# --- Recipient --------------------------------------------------------------------------------


def test_a_senator_is_addressed_by_last_name_and_the_president_by_office():
    assert make_senator(name="Joni Ernst", last_name="Ernst").salutation == "Dear Senator Ernst,"
    assert make_senator("IA", 3, name="Chuck Grassley", last_name="").salutation == "Dear Senator Grassley,"
    assert make_president().salutation == "Dear Mr. President,"


def test_the_cwc_office_code_is_s_state_zero_class():
    assert make_senator("OH", 1, name="Bernie Moreno", last_name="Moreno").cwc_office_code == "SOH01"
    assert make_senator("IA", 2).cwc_office_code == "SIA02"


# --- normalize_email --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "normalized"),
    [
        ("Ada@Example.ORG", "ada@example.org"),
        ("  ada@example.org ", "ada@example.org"),
        ("Ada.Love.Lace@gmail.com", "adalovelace@gmail.com"),
        ("ada.lovelace+petition@GMAIL.COM", "adalovelace@gmail.com"),
        ("ada.lovelace@googlemail.com", "adalovelace@gmail.com"),
        ("ada+belarus@outlook.com", "ada@outlook.com"),
        ("ada.lovelace+x@fastmail.com", "ada.lovelace@fastmail.com"),
        ("ada.lovelace@example.org", "ada.lovelace@example.org"),
        ("ada.lovelace+x@example.org", "ada.lovelace+x@example.org"),
    ],
)
def test_normalize_email_folds_what_the_provider_ignores(typed, normalized):
    assert services.normalize_email(typed) == normalized


# --- render_letter ----------------------------------------------------------------------------


def test_a_letter_has_the_salutation_the_english_letter_the_note_and_a_closing_with_name_and_address(petition):
    senator = make_senator()
    signature = _signature(petition, note="My cousin is held in Zhodzina.", phone="515-555-0134")

    text = services.render_letter(signature, senator)

    assert text == (
        f"Dear Senator Ernst,\n\n{petition.letter_en.strip()}\n\nMy cousin is held in Zhodzina.\n\n"
        "Sincerely,\nMs. Ada Lovelace\n1007 Grand Ave\nDes Moines, IA 50309\n515-555-0134"
    )


def test_a_letter_without_a_note_goes_straight_to_the_closing(petition):
    text = services.render_letter(_signature(petition, note="  "), make_president())
    assert text.startswith("Dear Mr. President,\n\n")
    assert text.endswith(
        f"{petition.letter_en.strip()}\n\nSincerely,\nMs. Ada Lovelace\n1007 Grand Ave\nDes Moines, IA 50309"
    )


def test_a_letter_from_abroad_closes_with_the_foreign_address(petition):
    signature = _signature(
        petition, address="Gedimino pr. 1", city="Vilnius", state="", zip_code="LT-01100", country="Lithuania"
    )
    text = services.render_letter(signature, make_president())
    assert text.endswith("Sincerely,\nMs. Ada Lovelace\nGedimino pr. 1\nLT-01100 Vilnius\nLithuania")
