"""The organizers' numbers: aggregate counts for the dashboard, the public map and the CSV export.

Every number is one aggregate query (GROUP BY in the database), never a query per row, so the
dashboard stays fast at a million signatures; the results are cached for a few minutes.
"""

import json
from datetime import timedelta
from functools import cache as memoize
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from ..models import STATES, TERRITORIES, FollowUpAnswer, Letter, Recipient, Signature, by_name

_MAP_FILE = Path(__file__).resolve().parent.parent / "data" / "us_states.json"
# The map shows the fifty states and DC: the territories have no shapes in the Albers USA layout.
MAP_STATES = [*STATES, ("DC", dict(TERRITORIES)["DC"])]
# Colour steps of the map, from no signatures (0) to the most (5).
MAP_STEPS = 5


@memoize
def state_shapes():
    """USPS code -> SVG path data, loaded once per process from the committed us-atlas conversion."""
    data = json.loads(_MAP_FILE.read_text())
    return data["viewBox"], {code: shape["d"] for code, shape in data["states"].items()}


# Signatures that count, as on the public page: confirmed ones, and confirmed ones later withdrawn,
# which stay as an anonymous number (their state and day are kept; names and addresses are erased).
COUNTED = Q(status=Signature.Status.CONFIRMED) | Q(status=Signature.Status.WITHDRAWN, confirmed_at__isnull=False)


def _signatures(petition):
    queryset = Signature.objects.filter(COUNTED)
    return queryset.filter(petition=petition) if petition else queryset


def _letters(petition):
    return Letter.objects.filter(signature__petition=petition) if petition else Letter.objects.all()


def signatures_by_state(petition):
    rows = _signatures(petition).exclude(state="").values("state").annotate(n=Count("pk")).order_by()
    return {row["state"]: row["n"] for row in rows}


def signatures_by_day(petition):
    rows = (
        _signatures(petition)
        .filter(confirmed_at__isnull=False)
        .annotate(day=TruncDate("confirmed_at"))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by("day")
    )
    return [(row["day"], row["n"]) for row in rows]


def letters_by_status(petition):
    rows = _letters(petition).values("status").annotate(n=Count("pk")).order_by()
    return {row["status"]: row["n"] for row in rows}


def letters_by_channel(petition):
    rows = _letters(petition).values("channel").annotate(n=Count("pk")).order_by()
    return {row["channel"]: row["n"] for row in rows}


def delivered_by_recipient(petition):
    """Recipient -> letters delivered, largest first; recipients come in one query, not one per row."""
    rows = _letters(petition).filter(status=Letter.Status.DELIVERED).values("recipient").annotate(n=Count("pk"))
    counts = {row["recipient"]: row["n"] for row in rows.order_by()}
    recipients = Recipient.objects.in_bulk(counts)
    return sorted(((recipients[pk], n) for pk, n in counts.items()), key=lambda item: (-item[1], str(item[0])))


def abroad_to_president(petition):
    """Counted signers living outside the United States whose letter to the President stands."""
    # A signer has at most one letter per recipient, so counting letters counts signers.
    return (
        _letters(petition)
        .filter(recipient__kind=Recipient.Kind.PRESIDENT, signature__confirmed_at__isnull=False)
        .filter(signature__status__in=[Signature.Status.CONFIRMED, Signature.Status.WITHDRAWN])
        .exclude(status=Letter.Status.CANCELLED)
        .exclude(signature__country="United States")
        .count()
    )


def responsiveness(petition, delivered=None):
    """Per office: letters delivered, signers who answered the follow-up, and those who report a reply.

    The share is of the signers who answered about that office ("not yet" counts as no reply so
    far): a signer who never answered tells us nothing either way. Counts only; nobody is named.
    """
    if delivered is None:
        delivered = delivered_by_recipient(petition)
    delivered = {recipient.pk: (recipient, n) for recipient, n in delivered}
    answers = FollowUpAnswer.objects.all()
    if petition:
        answers = answers.filter(followup__signature__petition=petition)
    rows = (
        answers.values("recipient")
        .annotate(
            answered=Count("pk"),
            replied=Count("pk", filter=Q(answer=FollowUpAnswer.Answer.YES)),
        )
        .order_by()
    )
    by_recipient = {row["recipient"]: row for row in rows}
    table = []
    for pk, (recipient, n) in delivered.items():
        row = by_recipient.get(pk, {"answered": 0, "replied": 0})
        share = round(100 * row["replied"] / row["answered"]) if row["answered"] else None
        table.append(
            {
                "recipient": recipient,
                "delivered": n,
                "answered": row["answered"],
                "replied": row["replied"],
                "share": share,
            }
        )
    return sorted(table, key=lambda row: (row["recipient"].kind != Recipient.Kind.PRESIDENT, str(row["recipient"])))


def _cache_key(name, petition):
    return f"dashboard:{name}:{petition.pk if petition else 'all'}"


def numbers(petition=None):
    """Everything the dashboard shows for PETITION (or all petitions), cached for a few minutes."""
    key = _cache_key("numbers", petition)
    result = cache.get(key)
    if result is None:
        delivered = delivered_by_recipient(petition)
        result = {
            "by_state": signatures_by_state(petition),
            "by_day": signatures_by_day(petition),
            "letters_by_status": letters_by_status(petition),
            "letters_by_channel": letters_by_channel(petition),
            "delivered_by_recipient": delivered,
            "abroad_to_president": abroad_to_president(petition),
            "responsiveness": responsiveness(petition, delivered),
            "confirmed": _signatures(petition).count(),
            "computed_at": timezone.now(),
        }
        cache.set(key, result, settings.DASHBOARD_CACHE_SECONDS)
    return result


def public_map_counts(petition):
    return cache.get_or_set(
        _cache_key("map", petition), lambda: signatures_by_state(petition), settings.DASHBOARD_CACHE_SECONDS
    )


def public_responsiveness(petition):
    return cache.get_or_set(
        _cache_key("responsiveness", petition), lambda: responsiveness(petition), settings.DASHBOARD_CACHE_SECONDS
    )


def forget(petition=None):
    for name in ("numbers", "map", "responsiveness"):
        cache.delete(_cache_key(name, petition))
    cache.delete(_cache_key("numbers", None))


# --- Drawing ----------------------------------------------------------------------------------


def map_states(counts):
    """The map's states in name order (in the active language), each with its path, count and colour step (0 = none)."""
    _view_box, shapes = state_shapes()
    most = max(counts.values(), default=0)
    states = []
    for code, name in by_name(MAP_STATES):
        n = counts.get(code, 0)
        # Steps grow with the square root, so a few big states do not wash out all the others.
        step = 0 if n == 0 else max(1, round(MAP_STEPS * (n / most) ** 0.5))
        states.append({"code": code, "name": name, "count": n, "step": step, "d": shapes[code]})
    return states


def map_context(counts):
    view_box, _shapes = state_shapes()
    return {"view_box": view_box, "states": map_states(counts), "steps": range(MAP_STEPS + 1)}


def _nice_ceiling(value):
    """The smallest of 1, 2, 5, 10, 20, 50 … that is at least VALUE, for the chart's top line."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def day_chart(by_day, width=720, height=220, today=None):
    """Bars of confirmed signatures per day, from the first day with one to today, gaps as zeros.

    Returns the bars' geometry for the template to draw; no chart library, nothing from outside.
    Past 120 days the bars are weeks instead of days, so that each bar stays wide enough to see.
    """
    if not by_day:
        return None
    counts = dict(by_day)
    first, last = by_day[0][0], max(by_day[-1][0], today or timezone.localdate())
    span = (last - first).days + 1
    bucket = 7 if span > 120 else 1
    buckets = []
    day = first
    while day <= last:
        days = [day + timedelta(days=i) for i in range(bucket)]
        buckets.append((day, sum(counts.get(d, 0) for d in days)))
        day += timedelta(days=bucket)
    top = _nice_ceiling(max(n for _day, n in buckets))
    # Room on the left for the axis numbers, below for the dates, above for the top number.
    left, plot_height = 48, height - 24 - 8
    slot = (width - left) / len(buckets)
    bars = []
    for i, (start, n) in enumerate(buckets):
        bar_height = plot_height * n / top
        bars.append(
            {
                "day": start,
                "count": n,
                "x": round(left + i * slot + slot * 0.1, 2),
                "width": round(max(slot * 0.8, 1), 2),
                "y": round(8 + plot_height - bar_height, 2),
                "height": round(bar_height, 2),
            }
        )
    return {
        "width": width,
        "height": height,
        "bars": bars,
        "top": top,
        "left": left,
        "base_y": 8 + plot_height,
        "top_y": 8,
        "mid_y": 8 + plot_height / 2,
        "middle": top // 2 if top % 2 == 0 else top / 2,
        "label_y": height - 6,
        "weekly": bucket == 7,
        "first": buckets[0][0],
        "last": buckets[-1][0],
    }
