"""The Belarusian a native reader corrected stays corrected, in the catalogue and in the demo petition."""

import importlib

import polib
import pytest
from django.apps import apps
from django.utils import translation

from petitions import demo
from petitions.models import Petition

from .test_translations import LOCALE

# Wrong forms a native reader found, each with what replaced it; none may come back.
WRONG_IN_THE_CATALOGUE = {
    "адкрыеце спасылку і націсніце": "future tense after «калі вы адкрыеце»: «націснеце»",
    "дазвольце сенатараў": "«дазвольце пісаць сенатарам, прэзідэнту ЗША або абодвум»",
    "Ключавы хэш": "«хэш … з сакрэтным ключом»",
    "ключавы хэш": "«хэш … з сакрэтным ключом»",
    "ключавога хэша": "«хэша з сакрэтным ключом»",
    "Канэктыкут": "official orthography: «Канектыкут»",
    "Масачусэтс": "official orthography: «Масачусетс»",
    "Род-Айлэнд": "official orthography: «Род-Айленд»",
    "Тэнэсі": "official orthography: «Тэнесі»",
    "гадз.": "real plural forms: гадзіну / гадзіны / гадзін",
    "за вызваленне беларускіх": "«з патрабаваннем вызваліць беларускіх палітычных вязняў»",
    "зваротам «%(title)s»": "the title often starts with «Зварот»: «падпісалі «%(title)s»»",
    "звароце «%(title)s»": "the title often starts with «Зварот»",
    "зварот «%(title)s»": "the title often starts with «Зварот»",
    "адным націскам": "«за адзін крок»",
    "сімвал": "one term: «знак»",
    "напамінанн": "one term: «напамін»",
    "Адрас: вуліца": "one label for the street address",
    "адрас (вуліца, дом)": "one label for the street address",
}

WRONG_IN_THE_DEMO = [
    "Кансгрэс",
    "усё іншыя",
    "актыўнасці",
    "вызваленьне",
    "вязьняў",
    "пачулі падпішыце",
    "выніку - нам",
    "Tsikhnouskaya",
    "Sergei",
    "Tsikhanousky",
]


@pytest.fixture(scope="module")
def be():
    return polib.pofile(str(LOCALE / "be" / "LC_MESSAGES" / "django.po"))


def _belarusian_texts(catalogue):
    for entry in catalogue:
        if entry.msgid_plural:
            yield from ((entry.msgid, text) for text in entry.msgstr_plural.values())
        else:
            yield entry.msgid, entry.msgstr


def test_the_catalogue_has_none_of_the_corrected_forms(be):
    found = [
        f"{msgid!r}: {wrong!r} ({why})"
        for msgid, text in _belarusian_texts(be)
        for wrong, why in WRONG_IN_THE_CATALOGUE.items()
        if wrong in text
    ]
    assert not found, found


def test_the_recipients_office_is_an_institution_not_a_post(be):
    assert be.find("office").msgstr == "установа"


def test_the_street_address_has_one_label(be):
    labels = {be.find("Street address").msgstr.lower(), be.find("street address").msgstr.lower()}
    assert labels == {"адрас (вуліца, дом, кватэра)"}


@pytest.mark.parametrize(
    ("hours", "words"),
    [
        (1, "апошнюю 1 гадзіну"),
        (3, "апошнія 3 гадзіны"),
        (21, "апошнюю 21 гадзіну"),
        (24, "апошнія 24 гадзіны"),
        (48, "апошнія 48 гадзін"),
    ],
)
def test_the_hours_of_the_crowd_view_have_real_plural_forms(hours, words):
    with translation.override("be"):
        text = translation.ngettext(
            "Signatures in the last hour, per hour, where they came from most.",
            "Signatures in the last %(hours)s hours, per hour, where they came from most.",
            hours,
        ) % {"hours": hours}
    assert words in text


def test_the_demo_petition_has_none_of_the_corrected_forms():
    texts = "\n".join([demo.TITLE_BE, demo.INTRODUCTION_BE, demo.LETTER_BE, demo.LETTER_EN])
    assert [wrong for wrong in WRONG_IN_THE_DEMO if wrong in texts] == []
    assert "Каб ваш голас пачулі, падпішыце петыцыю да свайго сенатара ў Кангрэсе ЗША" in demo.INTRODUCTION_BE
    assert "для дасягнення выніку — нам неабходна бесперапынна патрабаваць вызвалення вязняў" in demo.INTRODUCTION_BE
    assert "Siarhei Tsikhanouski and Victor Babariko" in demo.LETTER_EN
    assert "led by Sviatlana Tsikhanouskaya" in demo.LETTER_EN


_correction = importlib.import_module("petitions.migrations.0012_correct_demo_petition_text")


def _demo_petition(**texts):
    fields = {
        "title_be": demo.TITLE_BE,
        "title_en": demo.TITLE_EN,
        "introduction_be": _correction.OLD_INTRODUCTION_BE,
        "introduction_en": demo.INTRODUCTION_EN,
        "letter_be": demo.LETTER_BE,
        "letter_en": _correction.OLD_LETTER_EN,
        "goal": 10000,
        "status": Petition.Status.OPEN,
    }
    return Petition.objects.create(slug=_correction.SLUG, **(fields | texts))


@pytest.mark.django_db
def test_the_data_migration_corrects_a_demo_petition_loaded_before():
    petition = _demo_petition()

    _correction.correct_demo_text(apps, None)

    petition.refresh_from_db()
    assert petition.introduction_be == demo.INTRODUCTION_BE
    assert petition.letter_en == demo.LETTER_EN


@pytest.mark.django_db
def test_the_data_migration_keeps_what_organizers_edited():
    edited_introduction = _correction.OLD_INTRODUCTION_BE + "\n\nДапісана арганізатарамі."
    edited_letter = "An organizer's own letter, naming Sergei Tsikhanousky as they chose."
    petition = _demo_petition(introduction_be=edited_introduction, letter_en=edited_letter)
    other = Petition.objects.create(
        slug="another-appeal", title_be="Іншы", title_en="Another", introduction_be=_correction.OLD_INTRODUCTION_BE
    )

    _correction.correct_demo_text(apps, None)

    petition.refresh_from_db()
    other.refresh_from_db()
    assert (petition.introduction_be, petition.letter_en) == (edited_introduction, edited_letter)
    assert other.introduction_be == _correction.OLD_INTRODUCTION_BE


@pytest.mark.django_db
def test_the_data_migration_can_be_reversed():
    petition = _demo_petition(introduction_be=demo.INTRODUCTION_BE, letter_en=demo.LETTER_EN)

    _correction.restore_demo_text(apps, None)

    petition.refresh_from_db()
    assert petition.introduction_be == _correction.OLD_INTRODUCTION_BE
    assert petition.letter_en == _correction.OLD_LETTER_EN
