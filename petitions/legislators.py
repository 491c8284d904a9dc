"""Reads the congress-legislators dataset into senators and the sitting President, and stores them."""

import datetime
import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import urljoin, urlsplit

import requests
import yaml
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from petitions import demo
from petitions.models import STATES_WITH_SENATORS, Recipient

# The dataset is about 1.5 MB. Connecting should be quick or not at all: `make run` waits on it.
DOWNLOAD_TIMEOUT = (5, 30)

# The fields the dataset owns. Organizers own the rest (channel, channel_settings), so an import
# never touches those.
SENATOR_FIELDS = (
    "name",
    "last_name",
    "state",
    "senate_class",
    "state_rank",
    "party",
    "office_address",
    "phone",
    "website",
    "contact_form",
)


class DatasetError(Exception):
    """The dataset could not be read or does not look like congress-legislators."""


class DownloadError(DatasetError):
    """The dataset could not be downloaded: offline, a timeout or an HTTP error."""


def parse(text, name=""):
    """The people listed in TEXT, a JSON or YAML file named NAME (its suffix decides, else its content)."""
    suffix = PurePosixPath(name).suffix.lower()
    as_json = suffix == ".json" or (suffix not in (".yaml", ".yml") and text.lstrip()[:1] in ("[", "{"))
    # libyaml's loader reads the 1 MB YAML file in well under a second; the pure Python one is slower.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        people = json.loads(text) if as_json else yaml.load(text, Loader=loader)  # noqa: S506
    except (ValueError, yaml.YAMLError) as error:
        raise DatasetError(f"{name or 'the file'} is not valid {'JSON' if as_json else 'YAML'}: {error}") from error
    if not isinstance(people, list) or not all(isinstance(person, dict) for person in people):
        raise DatasetError(f"{name or 'the file'} is not a list of people as congress-legislators lists them.")
    return people


def read_file(path):
    """The people listed in the JSON or YAML file at PATH."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError(f"Cannot read {path}: {error}") from error
    return parse(text, path.name)


def download(url):
    """The people listed in the JSON or YAML file at URL."""
    try:
        response = requests.get(url, timeout=DOWNLOAD_TIMEOUT)
        response.raise_for_status()
    except requests.RequestException as error:
        raise DownloadError(f"Cannot download {url}: {error}") from error
    return parse(response.content.decode("utf-8", errors="replace"), urlsplit(url).path)


def executive_url(legislators_url):
    """The executive file's public address: beside the legislators file, in the same format."""
    suffix = PurePosixPath(urlsplit(legislators_url).path).suffix or ".json"
    return urljoin(legislators_url, f"executive{suffix}")


def executive_path(legislators_path):
    """The executive file beside a legislators file, in the same format when both exist, or None."""
    legislators_path = Path(legislators_path)
    suffixes = [legislators_path.suffix.lower(), ".json", ".yaml", ".yml"]
    for suffix in dict.fromkeys(suffixes):
        candidate = legislators_path.with_name(f"executive{suffix}")
        if suffix and candidate.is_file():
            return candidate
    return None


def _full_name(name):
    return (name.get("official_full") or f"{name.get('first', '')} {name.get('last', '')}").strip()


def _date(value):
    # JSON has strings; YAML has strings or, unquoted, dates.
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value))


def senators(people):
    """The senators among PEOPLE as Recipient field values, keyed by bioguide id.

    A senator is a person whose last term is in the Senate; that term gives the state, class,
    rank, party and office.
    """
    found = {}
    for number, person in enumerate(people, start=1):
        terms = person.get("terms") or []
        if not terms or not isinstance(terms[-1], dict) or terms[-1].get("type") != "sen":
            continue
        term = terms[-1]
        name = person.get("name") or {}
        bioguide = (person.get("id") or {}).get("bioguide")
        who = _full_name(name) or f"person #{number}"
        if not bioguide:
            raise DatasetError(f"Senator {who} has no bioguide id.")
        if term.get("state") not in STATES_WITH_SENATORS:
            raise DatasetError(f"Senator {who} ({bioguide}) has no state that elects senators: {term.get('state')!r}.")
        if term.get("class") not in (1, 2, 3):
            raise DatasetError(f"Senator {who} ({bioguide}) has no Senate class 1, 2 or 3: {term.get('class')!r}.")
        if bioguide in found:
            raise DatasetError(f"Bioguide id {bioguide} is listed twice.")
        found[bioguide] = {
            "name": _full_name(name),
            "last_name": name.get("last", ""),
            "state": term["state"],
            "senate_class": term["class"],
            "state_rank": term.get("state_rank", ""),
            "party": term.get("party", ""),
            "office_address": term.get("address", ""),
            "phone": term.get("phone", ""),
            "website": term.get("url", ""),
            "contact_form": term.get("contact_form", ""),
        }
    if not found:
        raise DatasetError("The file lists no senators: is it legislators-current?")
    return found


def president_name(people, today):
    """The name of the person with a presidential term that covers TODAY, or None."""
    for person in people:
        for term in person.get("terms") or []:
            if term.get("type") == "prez" and _date(term["start"]) <= today < _date(term["end"]):
                return _full_name(person.get("name") or {})
    return None


@dataclass
class SenateChanges:
    created: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    retired: list = field(default_factory=list)


def _save(recipient):
    try:
        recipient.full_clean(validate_unique=False)
    except ValidationError as error:
        # Named by field and value: the validators' messages are in whatever language is active.
        invalid = ", ".join(f"{name} {getattr(recipient, name)!r}" for name in error.message_dict)
        raise DatasetError(f"{recipient} ({recipient.bioguide_id}) has an invalid {invalid}.") from error
    recipient.save()


@transaction.atomic
def import_senators(records):
    """Create or update the senators in RECORDS (from `senators()`) and retire those not listed.

    Only the dataset's fields change: an organizer's delivery channel and its settings stay. A
    senator is never deleted, since letters refer to them; one no longer listed becomes inactive.
    """
    changes = SenateChanges()
    known = {r.bioguide_id: r for r in Recipient.objects.filter(bioguide_id__in=list(records))}
    for bioguide, values in records.items():
        recipient = known.get(bioguide)
        if recipient is None:
            recipient = Recipient(
                kind=Recipient.Kind.SENATOR, bioguide_id=bioguide, channel=settings.IMPORTED_SENATOR_CHANNEL, **values
            )
            _save(recipient)
            changes.created.append(recipient)
            continue
        wanted = {**values, "kind": Recipient.Kind.SENATOR, "is_active": True}
        if all(getattr(recipient, name) == value for name, value in wanted.items()):
            changes.unchanged.append(recipient)
            continue
        for name, value in wanted.items():
            setattr(recipient, name, value)
        _save(recipient)
        changes.updated.append(recipient)
    gone = Recipient.objects.filter(kind=Recipient.Kind.SENATOR, is_active=True).exclude(bioguide_id__in=list(records))
    changes.retired = list(gone.order_by("state", "senate_class"))
    gone.update(is_active=False)
    return changes


@transaction.atomic
def update_president(name):
    """Give the President recipient NAME, creating it if missing; True when something changed.

    Organizers decide how letters reach the White House, so its channel and address stay.
    """
    president = (
        Recipient.objects.select_for_update().filter(kind=Recipient.Kind.PRESIDENT).order_by("-is_active", "pk").first()
    )
    if president is None:
        # As load_demo creates it: the White House's contact form admits no software.
        president = Recipient(
            kind=Recipient.Kind.PRESIDENT,
            office="The White House",
            office_address=demo.PRESIDENT_ADDRESS,
            website="https://www.whitehouse.gov/",
            contact_form="https://www.whitehouse.gov/contact/",
            channel=Recipient.Channel.PRINT,
        )
    if president.pk and president.name == name and president.is_active:
        return False
    president.name, president.is_active = name, True
    _save(president)
    return True
