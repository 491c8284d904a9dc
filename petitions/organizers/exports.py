"""Exports for the campaign's records: a PDF of signers per recipient for hand delivery, counts as CSV.

The PDF names signers with their city and state only: never an e-mail or a street address.
"""

import csv
import io
from pathlib import Path

from ..models import Letter, Recipient, Signature, SignatureExport
from . import dashboard

# The Unicode font the print channel ships (Belarusian names are often in Cyrillic).
FONT = Path(__file__).resolve().parent.parent / "fonts" / "DejaVuSans.ttf"
SIGNER_FIELDS = ("first_name", "last_name", "city", "state", "country")
_STANDING = [status for status in Letter.Status.values if status != Letter.Status.CANCELLED]


def filter_record(query):
    """The admin list's QUERY (a QueryDict) as an export record keeps it: the filter, never what was searched.

    The search box takes names, e-mail addresses and ZIP codes, so the record says only that a
    search narrowed the list, and whether it was for an e-mail address; any other value with an
    "@" in it goes the same way. Filters (petition, state, status, dates) are kept as they are.
    """
    kept = query.copy()
    for name, values in query.lists():
        if name == "q":
            kept.setlist(name, ["[e-mail-address]" if "@" in value else "[search]" for value in values if value])
        elif any("@" in value for value in values):
            kept.setlist(name, ["[removed]" for _value in values])
    return kept.urlencode(safe="[]")


def record(user, kind, what="", people=None, filters=""):
    """Record that USER took personal data out, or sent it somewhere new: KIND, WHAT, how many PEOPLE.

    Data stewards read these records in the admin (SignatureExport); nobody may change them.
    """
    return SignatureExport.objects.create(
        user=user, username=user.get_username(), kind=kind, what=what[:300], rows=people, filters=filters
    )


def people_in(letters):
    """How many signers LETTERS (a queryset) carry the names and addresses of."""
    return letters.order_by().values("signature").distinct().count()


def signers_for(petition, recipient):
    """Confirmed signers of PETITION whose letter to RECIPIENT stands (not cancelled), by state and name."""
    return (
        Signature.objects.filter(
            petition=petition,
            status=Signature.Status.CONFIRMED,
            # In one filter() call both conditions apply to the same letter.
            letters__recipient=recipient,
            letters__status__in=_STANDING,
        )
        .order_by("state", "last_name", "first_name", "pk")
        .values_list(*SIGNER_FIELDS)
    )


def _place(city, state, country):
    if country and country != "United States":
        return ", ".join(part for part in (city, country) if part)
    return ", ".join(part for part in (city, state) if part)


def recipient_pdf(petition, recipient):
    """The letter's text, then every signer's name and place, as PDF bytes."""
    # Imported here: fpdf2 and the font tools it brings cost a web worker about 20 MB, for an admin action.
    from fpdf import FPDF

    pdf = FPDF(format="letter", unit="pt")
    pdf.set_margins(54, 54, 54)
    pdf.set_auto_page_break(True, margin=54)
    if FONT.exists():
        pdf.add_font("Campaign", fname=str(FONT))
        family = "Campaign"
    else:  # Latin-1 only: better a PDF with a few replaced letters than none.
        family = "Helvetica"
    pdf.set_title(f"{petition.letter_subject} - {recipient}")
    pdf.add_page()
    width = pdf.epw

    def write(text, size=11, height=15):
        if family == "Helvetica":
            text = text.encode("latin-1", "replace").decode("latin-1")
        pdf.set_font(family, size=size)
        pdf.multi_cell(width, height, text, new_x="LMARGIN", new_y="NEXT")

    write(petition.letter_subject, size=16, height=22)
    pdf.ln(6)
    write(recipient.salutation)
    pdf.ln(4)
    write(petition.letter_en.strip())
    pdf.ln(12)
    rows = list(signers_for(petition, recipient).iterator(chunk_size=2000))
    write(f"Signed by {len(rows)} people, listed below with their city and state.", size=12, height=18)
    pdf.ln(4)
    pdf.set_font(family, size=10)
    for number, (first, last, city, state, country) in enumerate(rows, start=1):
        name = f"{first} {last}".strip()
        place = _place(city, state, country)
        if family == "Helvetica":
            name = name.encode("latin-1", "replace").decode("latin-1")
            place = place.encode("latin-1", "replace").decode("latin-1")
        pdf.cell(40, 14, str(number), align="R")
        pdf.cell(12, 14, "")
        pdf.cell(width * 0.5, 14, name[:60])
        pdf.cell(0, 14, place[:60], new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def counts_rows(petition=None):
    """The dashboard's numbers as (section, item, count) rows: counts only, nobody named."""
    numbers = dashboard.numbers(petition)
    yield ("section", "item", "count")
    yield ("signatures", "confirmed", numbers["confirmed"])
    for code, _name in dashboard.MAP_STATES:
        yield ("signatures_by_state", code, numbers["by_state"].get(code, 0))
    for day, n in numbers["by_day"]:
        yield ("signatures_by_day", day.isoformat(), n)
    for status, n in sorted(numbers["letters_by_status"].items()):
        yield ("letters_by_status", status, n)
    for channel, n in sorted(numbers["letters_by_channel"].items()):
        yield ("letters_by_channel", channel or "none", n)
    for recipient, n in numbers["delivered_by_recipient"]:
        yield ("letters_delivered", str(recipient), n)
    yield ("signers_abroad_to_president", "count", numbers["abroad_to_president"])
    for row in numbers["responsiveness"]:
        yield ("replies_reported", str(row["recipient"]), row["replied"])
        yield ("followup_answers", str(row["recipient"]), row["answered"])


def counts_csv(petition=None):
    out = io.StringIO()
    csv.writer(out).writerows(counts_rows(petition))
    return out.getvalue()


def recipients_with_letters(petition):
    """Recipients with at least one standing letter on PETITION, for the export links."""
    return (
        Recipient.objects.filter(letters__signature__petition=petition, letters__status__in=_STANDING)
        .distinct()
        .order_by("-kind", "state", "senate_class")
    )
