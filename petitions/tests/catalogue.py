"""What a page should say in each language, read from the catalogues the site ships.

The Belarusian catalogue is filled while these tests are written: a test that needs a string it does
not hold yet is marked as an expected failure, with the reason, instead of passing on English text.
"""

import gettext
from pathlib import Path

import polib
import pytest
from django.utils import translation

BASE_DIR = Path(__file__).resolve().parents[2]


def _catalogue(language):
    path = BASE_DIR / "locale" / language / "LC_MESSAGES" / "django.po"
    return polib.pofile(str(path)) if path.exists() else None


def in_language(language, msgid, plural=None, n=None):
    """MSGID as the site should show it in LANGUAGE (formatted with its %(...)s values by the caller).

    English is the source language. For Belarusian the project's catalogue is read, and Django's own
    catalogue for Django's strings; a string missing from both makes the calling test an xfail.
    """
    if language == "en":
        return msgid if plural is None or n == 1 else plural
    catalogue = _catalogue(language)
    entry = catalogue.find(msgid) if catalogue else None
    if entry is not None and "fuzzy" not in entry.flags:
        if plural is None and entry.msgstr:
            return entry.msgstr
        if plural is not None and entry.msgstr_plural and all(entry.msgstr_plural.values()):
            # The catalogue's own Plural-Forms expression chooses the form, as gettext would.
            expression = catalogue.metadata["Plural-Forms"].split("plural=", 1)[1].rstrip(";")
            return entry.msgstr_plural[gettext.c2py(expression)(n)]
    with translation.override(language):
        translated = translation.gettext(msgid) if plural is None else translation.ngettext(msgid, plural, n)
    if translated not in (msgid, plural):
        return translated
    pytest.xfail(f"the {language} catalogue has no translation of {msgid!r} yet (the translation helper fills it)")
