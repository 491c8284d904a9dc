"""The organizers' dashboard: its numbers match the rows, the map has every state, the public map is opt-in."""

import re
from collections import Counter

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation

from petitions.models import STATES, Letter, Recipient, Signature
from petitions.organizers import dashboard

from .campaign_data import build_campaign, offices
from .conftest import make_petition

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_english():
    """Pages in English, so that the tests can read the words of the map and tables."""
    with translation.override("en"):
        yield


@pytest.fixture
def campaign(petition):
    cache.clear()
    recipients = offices()
    other = make_petition(slug="second-appeal")
    build_campaign(petition, recipients, count=150)
    build_campaign(other, recipients, count=60, seed=9, start_number=1000)
    return petition, other, recipients


@pytest.fixture
def organizer(client):
    user = User.objects.create_superuser("organizer", "organizer@example.org", "a long password for tests")
    client.force_login(user)
    return client


def _counted(signature):
    return signature.status == Signature.Status.CONFIRMED or (
        signature.status == Signature.Status.WITHDRAWN and signature.confirmed_at is not None
    )


def _expected(petition=None):
    """The dashboard's numbers counted in Python, one row at a time, without any aggregate query."""
    signatures = [s for s in Signature.objects.all() if petition is None or s.petition_id == petition.pk]
    counted = [s for s in signatures if _counted(s)]
    ids = {s.pk for s in signatures}
    letters = [letter for letter in Letter.objects.select_related("recipient") if letter.signature_id in ids]
    by_pk = {s.pk: s for s in signatures}
    return {
        "confirmed": len(counted),
        "by_state": dict(Counter(s.state for s in counted if s.state)),
        "by_day": sorted(Counter(s.confirmed_at.date() for s in counted).items()),
        "letters_by_status": dict(Counter(letter.status for letter in letters)),
        "letters_by_channel": dict(Counter(letter.channel for letter in letters)),
        "delivered": dict(Counter(letter.recipient for letter in letters if letter.status == Letter.Status.DELIVERED)),
        "abroad_to_president": sum(
            1
            for letter in letters
            if letter.recipient.kind == Recipient.Kind.PRESIDENT
            and letter.status != Letter.Status.CANCELLED
            and _counted(by_pk[letter.signature_id])
            and by_pk[letter.signature_id].country != "United States"
        ),
    }


@pytest.mark.parametrize("which", ["one petition", "all petitions"])
def test_the_dashboards_numbers_equal_counts_made_from_the_rows(campaign, which):
    petition = campaign[0] if which == "one petition" else None
    numbers = dashboard.numbers(petition)
    expected = _expected(petition)
    assert numbers["confirmed"] == expected["confirmed"] > 0
    assert numbers["by_state"] == expected["by_state"]
    assert numbers["by_day"] == expected["by_day"]
    assert numbers["letters_by_status"] == expected["letters_by_status"]
    assert numbers["letters_by_channel"] == expected["letters_by_channel"]
    assert dict(numbers["delivered_by_recipient"]) == expected["delivered"]
    assert numbers["abroad_to_president"] == expected["abroad_to_president"] > 0


def test_the_numbers_take_a_fixed_number_of_queries_and_are_then_cached(
    campaign, django_assert_max_num_queries, django_assert_num_queries
):
    petition = campaign[0]
    with django_assert_max_num_queries(10):
        first = dashboard.numbers(petition)
    with django_assert_num_queries(0):
        assert dashboard.numbers(petition) == first


def test_the_map_has_every_state_and_dc_with_its_count(campaign, organizer):
    petition = campaign[0]
    page = organizer.get(reverse("admin:petitions_petition_dashboard", args=[petition.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    paths = re.findall(r'<path d="[^"]+" class="us-state step-(\d)" tabindex="0" data-state="(\w\w)"', html)
    codes = [code for _step, code in paths]
    assert sorted(codes) == sorted([code for code, _name in STATES] + ["DC"])
    expected = _expected(petition)["by_state"]
    names = dict(dashboard.MAP_STATES)
    for code in codes:
        count = expected.get(code, 0)
        word = "signature" if count == 1 else "signatures"
        assert f"<title>{names[code]}: {count} {word}</title>" in html
        # The table beside the map says the same for screen readers.
        assert re.search(rf'<tr data-state="{code}"><th scope="row">{names[code]}</th><td>{count}</td></tr>', html)
    steps = {code: int(step) for step, code in paths}
    most = max(expected, key=expected.get)
    assert steps[most] == dashboard.MAP_STEPS
    assert all(steps[code] == 0 for code in codes if code not in expected)


def test_the_dashboard_shows_the_chart_letters_and_the_count_abroad(campaign, organizer):
    petition = campaign[0]
    html = organizer.get(reverse("admin:petitions_petition_dashboard", args=[petition.pk])).content.decode()
    expected = _expected(petition)
    bars = re.findall(r'<rect [^>]*class="bar"><title>([\d-]+): (\d+)</title>', html)
    assert {day: int(n) for day, n in bars if int(n)} == {day.isoformat(): n for day, n in expected["by_day"]}
    assert f'id="abroad-to-president">{expected["abroad_to_president"]}<' in html
    assert f'id="confirmed-count">{expected["confirmed"]}<' in html
    for status, n in expected["letters_by_status"].items():
        assert f'<th scope="row">{Letter.Status(status).label}</th><td>{n}</td>' in html
    # Nothing is fetched from another site: every script and stylesheet is the site's own.
    assert not re.search(r'(src|href)="https?://', html)
    assert "<script>" not in html and 'style="' not in html


def test_the_admin_index_and_each_petition_link_to_the_dashboard(campaign, organizer):
    petition = campaign[0]
    assert reverse("admin:petitions_petition_dashboard_all") in organizer.get(reverse("admin:index")).content.decode()
    change = organizer.get(reverse("admin:petitions_petition_change", args=[petition.pk])).content.decode()
    assert reverse("admin:petitions_petition_dashboard", args=[petition.pk]) in change
    assert organizer.get(reverse("admin:petitions_petition_dashboard_all")).status_code == 200


def test_the_dashboard_is_for_organizers_only(campaign, client):
    staff = User.objects.create_user("volunteer", "v@example.org", "a long password for tests", is_staff=True)
    client.force_login(staff)
    assert client.get(reverse("admin:petitions_petition_dashboard_all")).status_code == 403


def test_the_public_map_appears_only_when_organizers_switch_it_on(campaign, client):
    petition = campaign[0]
    url = reverse("petitions:detail", args=[petition.slug])
    assert 'class="us-state' not in client.get(url).content.decode()
    petition.show_map = True
    petition.save()
    html = client.get(url).content.decode()
    assert len(re.findall(r'class="us-state step-\d" tabindex="0"', html)) == 51
    iowa = _expected(petition)["by_state"]["IA"]
    assert f"<title>Iowa: {iowa} signatures</title>" in html
    # Counts only: no signer's name appears.
    assert "Signer1 " not in html and "Family1" not in html


def test_the_chart_fills_days_without_signatures_with_zero_bars():
    from datetime import date

    chart = dashboard.day_chart([(date(2026, 1, 1), 3), (date(2026, 1, 4), 7)], today=date(2026, 1, 5))
    assert [bar["count"] for bar in chart["bars"]] == [3, 0, 0, 7, 0]
    assert chart["top"] == 10
    tallest = max(chart["bars"], key=lambda bar: bar["height"])
    assert tallest["count"] == 7 and tallest["y"] + tallest["height"] == chart["base_y"]
