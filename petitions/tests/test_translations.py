"""The interface catalogues: complete Belarusian, safe placeholders, real plural forms, fresh .mo files."""

import ast
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import django
import polib
import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

BASE_DIR = Path(__file__).resolve().parents[2]
LOCALE = BASE_DIR / "locale"
BELARUSIAN_PLURAL_FORMS = (
    "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);"
)
# printf-style (%(name)s, %s, %d, with a literal %% skipped) and str.format-style ({count}, {0}) placeholders.
PLACEHOLDER = re.compile(r"%%|%(?:\(\w+\))?[#0 +-]*\d*(?:\.\d+)?[sdifreEgGxXoca]|\{\w*(?:![rsa])?(?::[^{}]*)?\}")


def _catalogue(language):
    return polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))


def _placeholders(text):
    return Counter(token for token in PLACEHOLDER.findall(text) if token != "%%")


def _translations(entry, language="be"):
    """Each translation of an entry with the source text its placeholders must match.

    A Belarusian form may stand for many counts (form 0 is 1, 21, 31...), so each must keep the
    plural source's placeholders; English form 0 is for exactly one, like the singular source.
    """
    if entry.msgid_plural:
        return [
            (entry.msgid if language == "en" and index == 0 else entry.msgid_plural, text)
            for index, text in sorted(entry.msgstr_plural.items())
        ]
    return [(entry.msgid, entry.msgstr)]


def _label(entry):
    return f"{entry.msgctxt + ' | ' if entry.msgctxt else ''}{entry.msgid!r}"


@pytest.fixture(scope="module")
def be():
    return _catalogue("be")


@pytest.fixture(scope="module")
def en():
    return _catalogue("en")


# --- The Belarusian catalogue --------------------------------------------------------------------


def test_the_belarusian_plural_forms_header_has_belarusians_three_forms(be):
    assert " ".join(be.metadata["Plural-Forms"].split()) == BELARUSIAN_PLURAL_FORMS
    assert be.metadata["Language"] == "be"


def test_every_belarusian_message_is_translated(be):
    missing = [_label(e) for e in be if any(not text.strip() for _source, text in _translations(e))]
    assert not missing, f"untranslated in locale/be (see docs/translating.md): {missing}"


def test_every_belarusian_plural_message_has_three_forms(be):
    wrong = [_label(e) for e in be if e.msgid_plural and sorted(e.msgstr_plural) != [0, 1, 2]]
    assert not wrong, f"plural messages need forms [0], [1] and [2]: {wrong}"


@pytest.mark.parametrize("language", ["be", "en"])
def test_no_message_is_fuzzy(language):
    catalogue = _catalogue(language)
    assert not catalogue.metadata_is_fuzzy, f"locale/{language}: remove '#, fuzzy' above the header"
    fuzzy = [_label(e) for e in catalogue if "fuzzy" in e.flags]
    assert not fuzzy, f"fuzzy in locale/{language}: check each one, then remove its '#, fuzzy' line: {fuzzy}"


@pytest.mark.parametrize("language", ["be", "en"])
def test_translations_keep_every_placeholder_of_the_source(language):
    changed = []
    for entry in _catalogue(language):
        for source, text in _translations(entry, language):
            if text and _placeholders(text) != _placeholders(source):
                changed.append(f"{_label(entry)}: {sorted(_placeholders(source))} became {sorted(_placeholders(text))}")
    assert not changed, "placeholders must be kept exactly:\n" + "\n".join(changed)


@pytest.mark.parametrize(
    ("source", "translation", "kept"),
    [
        ("Hello %(name)s,", "Добры дзень, %(name)s!", True),
        ("Hello %(name)s,", "Добры дзень, %(імя)s!", False),
        ("Hello %(name)s,", "Добры дзень, %(name)d!", False),
        ("Hello %(name)s,", "Добры дзень!", False),
        ("%s of %s", "%s з %s", True),
        ("%s of %s", "%s з", False),
        ("{count} signatures", "{count} подпісаў", True),
        ("{count} signatures", "{колькасць} подпісаў", False),
        ("100%% sure, %(name)s", "%(name)s, напэўна", True),
    ],
)
def test_the_placeholder_check_catches_a_dropped_or_renamed_placeholder(source, translation, kept):
    assert (_placeholders(translation) == _placeholders(source)) is kept


def test_the_catalogue_has_no_source_locations(be, en):
    # makemessages runs with --no-location so that moving code does not rewrite the catalogues.
    assert not [e.msgid for e in [*be, *en] if e.occurrences]


# --- The English catalogue -----------------------------------------------------------------------


def test_english_plural_messages_have_the_two_english_forms(en):
    assert en.metadata["Plural-Forms"].replace(" ", "") == "nplurals=2;plural=(n!=1);"
    for entry in en:
        if entry.msgid_plural:
            assert sorted(entry.msgstr_plural) == [0, 1], _label(entry)


# --- At run time -----------------------------------------------------------------------------------


def test_a_known_string_is_translated_in_each_language():
    with translation.override("be"):
        assert translation.gettext("Sign the appeal") == "Падпісаць зварот"
    # Belarusian is the default language: English must not fall back to it.
    with translation.override("en"):
        assert translation.gettext("Sign the appeal") == "Sign the appeal"


BELARUSIAN_COUNTS = [
    (1, "1 подпіс"),
    (2, "2 подпісы"),
    (4, "4 подпісы"),
    (5, "5 подпісаў"),
    (11, "11 подпісаў"),
    (12, "12 подпісаў"),
    (14, "14 подпісаў"),
    (21, "21 подпіс"),
    (22, "22 подпісы"),
    (0, "0 подпісаў"),
    (101, "101 подпіс"),
    (111, "111 подпісаў"),
    (1004, "1004 подпісы"),
]


@pytest.mark.parametrize(("count", "expected"), BELARUSIAN_COUNTS)
def test_belarusian_counts_take_the_right_plural_form(count, expected):
    with translation.override("be"):
        text = translation.ngettext("%(counter)s signature", "%(counter)s signatures", count) % {"counter": count}
    assert text == expected


@pytest.mark.parametrize(
    ("language", "count", "expected"),
    [("be", count, expected) for count, expected in BELARUSIAN_COUNTS if count in (1, 2, 5, 11, 21, 22)]
    + [("en", 1, "1 signature"), ("en", 21, "21 signatures")],
)
def test_the_petition_pages_count_takes_the_right_plural_form(language, count, expected):
    petition = SimpleNamespace(confirmed_count=count, goal=1000, progress_percent=0)
    with translation.override(language):
        html = render_to_string("petitions/_progress.html", {"petition": petition})
    assert f"<strong>{expected}</strong>" in html


BELARUSIAN_COUNTS_IN_DAYS = [(1, "1 дзень"), (3, "3 дні"), (7, "7 дзён"), (21, "21 дзень"), (30, "30 дзён")]


@pytest.mark.parametrize(("days", "expected"), BELARUSIAN_COUNTS_IN_DAYS)
def test_belarusian_day_counts_take_the_right_plural_form(days, expected):
    with translation.override("be"):
        text = translation.ngettext("The link works for %(days)s day.", "The link works for %(days)s days.", days)
    assert expected in text % {"days": days}


def test_djangos_form_errors_read_in_the_sites_belarusian():
    # Django's own Belarusian catalogue is in taraškievica ("значэньне"); ours overrides the errors
    # a supporter can see so that the petition page keeps one orthography.
    from django.core.validators import MaxLengthValidator

    with translation.override("be"):
        assert translation.gettext("This field is required.") == "Гэтае поле трэба запоўніць."
        message = MaxLengthValidator(100).message % {"limit_value": 100, "show_value": 120}
    assert message == "Тут можа быць не больш за 100 знакаў (зараз 120)."


def _django_msgids_we_translate():
    """The (context, msgid) pairs that campaign/django_strings.py marks for our catalogue."""
    tree = ast.parse((BASE_DIR / "campaign" / "django_strings.py").read_text(encoding="utf-8"))
    marked = []
    for node in ast.walk(tree):
        name = getattr(node, "func", None) and getattr(node.func, "id", "")
        if name in {"gettext_noop", "ngettext_lazy"}:
            marked.append((None, node.args[0].value))
        elif name == "pgettext_lazy":
            marked.append((node.args[0].value, node.args[1].value))
    return marked


def test_djangos_strings_listed_for_translation_are_still_djangos(be):
    # After a Django upgrade a changed msgid would silently stop overriding Django's own translation.
    root = Path(django.__file__).parent
    catalogues = [root / "conf" / "locale", root / "contrib" / "admin" / "locale"]  # The admin has its own.
    djangos = {
        (e.msgctxt, e.msgid) for c in catalogues for e in polib.pofile(str(c / "be" / "LC_MESSAGES" / "django.po"))
    }
    ours = _django_msgids_we_translate()
    assert len(ours) >= 30
    assert [marked for marked in ours if marked not in djangos] == []
    assert [marked for marked in ours if marked not in {(e.msgctxt, e.msgid) for e in be}] == []


def test_belarusian_dates_read_in_belarusian_order_and_spelling():
    from datetime import datetime

    from django.utils import formats

    moment = datetime(2026, 9, 21, 14, 5)
    with translation.override("be"):
        assert formats.date_format(moment, "DATETIME_FORMAT") == "21 верасня 2026, 14:05"
        assert formats.date_format(moment.replace(month=12), "DATE_FORMAT") == "21 снежня 2026"
        assert formats.date_format(moment.replace(month=3), "YEAR_MONTH_FORMAT") == "Сакавік 2026"
    with translation.override("en"):
        assert formats.date_format(moment, "DATE_FORMAT") == "Sept. 21, 2026"


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "expected"), [("be", "Кіраванне кампаніяй"), ("en", "Campaign administration")])
def test_the_admin_login_page_speaks_the_pages_language(client, language, expected):
    with translation.override(language):
        url = reverse("admin:login")
    assert url.startswith(f"/{language}/")
    response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert f'lang="{language}"' in page
    assert expected in page
    if language == "be":
        # Django's own admin strings come from Django's Belarusian catalogue.
        assert "Увайсьці" in page or "Увайсці" in page


# --- Compiled catalogues ---------------------------------------------------------------------------


def _translated(catalogue):
    entries = {}
    for entry in catalogue:
        if "fuzzy" in entry.flags or entry.obsolete:
            continue
        if entry.msgid_plural:
            forms = dict(sorted(entry.msgstr_plural.items()))
            if all(forms.values()):
                entries[(entry.msgctxt, entry.msgid, entry.msgid_plural)] = forms
        elif entry.msgstr:
            entries[(entry.msgctxt, entry.msgid, "")] = entry.msgstr
    return entries


@pytest.mark.parametrize("language", ["be", "en"])
def test_the_compiled_catalogue_matches_its_source(language):
    folder = LOCALE / language / "LC_MESSAGES"
    source = polib.pofile(str(folder / "django.po"))
    compiled = polib.mofile(str(folder / "django.mo"))
    assert _translated(compiled) == _translated(source), (
        f"locale/{language}/LC_MESSAGES/django.mo is out of date: run `make messages` and commit the .mo file"
    )
    assert compiled.metadata.get("Plural-Forms") == source.metadata.get("Plural-Forms")


# --- The catalogues cover the code -------------------------------------------------------------------


@pytest.mark.skipif(not shutil.which("xgettext"), reason="needs GNU gettext (CI installs it)")
def test_the_catalogue_has_every_message_in_the_code(tmp_path):
    """1. Copy the project without its virtualenv and run data. 2. Run makemessages there as
    `make messages` does. 3. Every message it finds must already be in the committed catalogue."""
    copy = tmp_path / "project"
    shutil.copytree(
        BASE_DIR,
        copy,
        ignore=shutil.ignore_patterns(".*", "var", "staticfiles", "test-artifacts", "node_modules", "__pycache__"),
    )
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "--no-location", "--no-obsolete", "-l", "be"],
        cwd=copy,
        env={
            "PATH": "/usr/bin:/bin",
            "DEBUG": "1",
            "DJANGO_SETTINGS_MODULE": "campaign.settings",
            "CAMPAIGN_VAR_DIR": str(tmp_path / "var"),
            "HOME": str(tmp_path),
        },
        check=True,
        capture_output=True,
    )
    in_code = {(e.msgctxt, e.msgid) for e in polib.pofile(str(copy / "locale" / "be" / "LC_MESSAGES" / "django.po"))}
    committed = {(e.msgctxt, e.msgid) for e in _catalogue("be")}
    new = sorted(msgid for _ctx, msgid in in_code - committed)
    assert not new, f"new messages not in locale/: run `make messages`, translate them, commit: {new}"
