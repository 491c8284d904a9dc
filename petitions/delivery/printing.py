"""The print channel: letters wait for organizers, who print them as one PDF per recipient and post them.

A print letter's life, all on existing fields:
1. `PrintChannel.send` leaves it "waiting for organizers" (status needs_action, channel print).
2. Downloading a batch in the admin stamps every letter in the PDF with the batch's id in
   `response` ("Print batch <id>"); downloading again makes a new batch of what is still waiting.
3. "Mark printed batch delivered" marks delivered only letters that carry a batch stamp, so a
   letter that arrived after the download is never marked as posted.
"""

import re
import secrets
from pathlib import Path

from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..models import Letter, Recipient
from . import Channel, Outcome

FONT = Path(__file__).resolve().parent.parent / "fonts" / "DejaVuSans.ttf"
BATCH_PREFIX = "Print batch "
WAITING = "Waiting to be printed and posted by organizers."
# Letter size in points, tried in turn until a letter fits one page; a longer one runs on.
_FONT_SIZES = (11, 10, 9, 8)


class PrintChannel(Channel):
    @classmethod
    def settings_errors(cls, channel_settings, recipient=None):
        if recipient is not None and not recipient.office_address.strip():
            return {"office_address": _("Printed letters need the recipient's office address.")}
        return {}

    def send(self, letter):
        return Outcome.needs_action(WAITING)


def waiting_for_print(letters):
    """Those of LETTERS that wait on paper, batched or not."""
    return letters.filter(status=Letter.Status.NEEDS_ACTION, channel=Recipient.Channel.PRINT)


def start_batches(letters):
    """Stamp the print letters among LETTERS with a new batch id per recipient.

    Returns [(recipient, batch_id, letters)], the letters in the order they are printed.
    """
    batches = []
    letters = waiting_for_print(letters).select_related("recipient", "signature")
    by_recipient = {}
    for letter in letters.order_by("recipient_id", "pk"):
        by_recipient.setdefault(letter.recipient, []).append(letter.pk)
    for recipient, ids in by_recipient.items():
        batch_id = f"{timezone.now():%Y%m%d-%H%M%S}-{recipient.pk}-{secrets.token_hex(3)}"
        # Conditional, so a letter re-routed since the list was read does not join the batch.
        waiting_for_print(Letter.objects.filter(pk__in=ids)).update(response=BATCH_PREFIX + batch_id)
        stamped = list(
            Letter.objects.filter(response=BATCH_PREFIX + batch_id).select_related("signature").order_by("pk")
        )
        if stamped:
            batches.append((recipient, batch_id, stamped))
    return batches


def mark_printed(letters, who):
    """Mark delivered those of LETTERS that went out in a downloaded batch; returns how many."""
    return (
        waiting_for_print(letters)
        .filter(response__startswith=BATCH_PREFIX)
        .update(
            status=Letter.Status.DELIVERED,
            delivered_at=timezone.now(),
            last_error="",
            response=Concat(F("response"), Value(f"; posted, marked delivered by {who}")),
        )
    )


# The last line of a one-line address as the congress-legislators dataset gives a Senate office:
# "511 Hart Senate Office Building Washington DC 20510". The post office reads the city, state and
# ZIP code from a line of their own, below the street.
_CITY_LINE = re.compile(
    r"^(?P<street>.*\S)\s+(?P<city>Washington),?\s+(?P<state>DC|D\.C\.)\s+(?P<zip>\d{5}(?:-\d{4})?)$",
    re.IGNORECASE,
)


def _street_and_city(lines):
    """LINES with a street and "City, ST ZIP" run together on the last line split in two."""
    if not lines:
        return lines
    match = _CITY_LINE.match(lines[-1])
    if match is None:
        return lines
    return [*lines[:-1], match["street"], f"{match['city']}, DC {match['zip']}"]


def _address_block(recipient):
    """The recipient's address as the post office reads it: name, office, street, city, state and ZIP.

    The office is printed only when the address does not already begin with it, as the White
    House's address does ("The White House", then the street).
    """
    address = [" ".join(line.split()) for line in recipient.office_address.splitlines() if line.strip()]
    lines = [recipient.name]
    office = " ".join(recipient.office.split())
    if office and not "\n".join(address).casefold().startswith(office.casefold()):
        lines.append(office)
    lines += _street_and_city(address)
    return "\n".join(lines)


def _fits(pdf, size, texts):
    pdf.set_font("DejaVu", size=size)
    height = size * 0.5
    lines = sum(len(pdf.multi_cell(0, height, text, dry_run=True, output="LINES")) + 1 for text in texts)
    return lines * height <= pdf.eph - 12


def batch_pdf(recipient, letters, batch_id):
    """One PDF for RECIPIENT with LETTERS, each starting on its own page, addressed to the office."""
    # Imported here: fpdf2 and the font tools it brings cost a web worker about 20 MB (admin and tasks only).
    from fpdf import FPDF

    pdf = FPDF(format="letter", unit="mm")
    pdf.set_title(f"{BATCH_PREFIX}{batch_id}: {recipient}")
    pdf.add_font("DejaVu", "", str(FONT))
    pdf.set_margins(25, 20, 25)
    pdf.set_auto_page_break(True, margin=18)
    address = _address_block(recipient)
    for letter in letters:
        pdf.add_page()
        date = (letter.created_at or timezone.now()).strftime("%B %-d, %Y")
        texts = [address, date, letter.body]
        size = next((s for s in _FONT_SIZES if _fits(pdf, s, texts)), _FONT_SIZES[-1])
        pdf.set_font("DejaVu", size=7)
        pdf.cell(0, 4, f"{BATCH_PREFIX}{batch_id} · delivery id {letter.delivery_id}", align="R")
        pdf.ln(8)
        pdf.set_font("DejaVu", size=size)
        height = size * 0.5
        for text in texts:
            pdf.multi_cell(0, height, text, align="L", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(height)
    return bytes(pdf.output())
