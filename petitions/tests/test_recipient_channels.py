"""Setting delivery channels for many recipients at once, the default channel of imported senators,
and naming the recipients nobody can reach yet (admin summary, dashboard, `check --deploy`)."""

import subprocess
import sys

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission, User
from django.core.checks import run_checks
from django.test import Client
from django.urls import reverse
from django.utils import translation

from campaign.tests.conftest import production_env
from petitions import legislators
from petitions.models import Recipient
from petitions.organizers.readiness import unreachable_recipients

from .conftest import BASE_DIR, make_petition, make_president, make_senator
from .receivers import cwc_settings

pytestmark = pytest.mark.django_db

WHITE_HOUSE = "The White House\n1600 Pennsylvania Avenue NW\nWashington, DC 20500"


def _act(client, action, recipients, language="en", **extra):
    with translation.override(language):
        url = reverse("admin:petitions_recipient_changelist")
    return client.post(url, {"action": action, "_selected_action": [r.pk for r in recipients], **extra})


@pytest.fixture
def cwc_server(settings):
    for name, value in cwc_settings("https://cwc.example.test/v2/message").items():
        setattr(settings, name, value)


def _senators(count=3):
    states = ["IA", "OH", "WA", "ME"]
    return [make_senator(states[n], 1 + n % 3, f"Senator {n}", f"Last{n}") for n in range(count)]


def test_organizers_set_cwc_for_many_senators_at_once_and_the_president_keeps_his_channel(admin_client, cwc_server):
    senators = _senators()
    president = make_president(channel="print", office_address=WHITE_HOUSE)

    response = _act(admin_client, "deliver_through_cwc", [*senators, president])

    assert response.status_code == 302
    assert set(Recipient.objects.filter(kind="senator").values_list("channel", flat=True)) == {"cwc"}
    president.refresh_from_db()
    assert president.channel == "print"
    shown = [str(m) for m in response.wsgi_request._messages]
    assert "3 recipients now receive letters through: Communicating with Congress (CWC)." in shown
    assert any("1 recipient keeps its channel" in m and "CWC reaches senators only" in m for m in shown)
    # The admin's history says who changed each one.
    assert LogEntry.objects.filter(object_id__in=[str(s.pk) for s in senators]).count() == 3


def test_cwc_is_refused_while_the_server_has_no_cwc_settings(admin_client, settings):
    settings.CWC_ENDPOINT = ""
    senator = make_senator()
    _act(admin_client, "deliver_through_cwc", [senator])
    senator.refresh_from_db()
    assert senator.channel == ""


@pytest.mark.parametrize("language", ["en", "be"])
def test_e_mail_asks_for_the_address_on_a_page_of_its_own_then_sets_it_on_every_selected_recipient(
    admin_client, language
):
    senators = _senators(2)

    page = _act(admin_client, "deliver_by_email", senators, language)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="address"' in html and 'name="apply"' in html
    assert html.count('name="_selected_action"') == 2
    with translation.override(language):
        label = translation.gettext("Intake e-mail address")
    assert label in html
    assert language == "en" or label != "Intake e-mail address"
    assert not Recipient.objects.exclude(channel="").exists()

    wrong = _act(admin_client, "deliver_by_email", senators, language, apply="1", address="not an address")
    assert wrong.status_code == 200 and "errorlist" in wrong.content.decode()
    assert not Recipient.objects.exclude(channel="").exists()

    done = _act(admin_client, "deliver_by_email", senators, language, apply="1", address="letters@senate.test")
    assert done.status_code == 302
    assert (
        list(Recipient.objects.values_list("channel", "channel_settings"))
        == [("email", {"address": "letters@senate.test"})] * 2
    )


def test_http_asks_for_the_address_and_format(admin_client, settings):
    settings.DELIVERY_HTTP_TOKENS = {"crm": "secret"}
    senator = make_senator()
    assert 'name="url"' in _act(admin_client, "deliver_by_http", [senator]).content.decode()

    _act(admin_client, "deliver_by_http", [senator], apply="1", url="https://crm.test/in", format="form", token="crm")

    senator.refresh_from_db()
    assert (senator.channel, senator.channel_settings) == (
        "http",
        {"url": "https://crm.test/in", "format": "form", "token": "crm"},
    )


def test_print_is_set_only_where_there_is_an_office_address(admin_client):
    with_address = make_senator(office_address="730 Hart Senate Office Building\nWashington, DC 20510")
    without = make_senator("OH", 1, "Bernie Moreno", "Moreno")

    _act(admin_client, "deliver_by_print", [with_address, without])

    assert Recipient.objects.get(pk=with_address.pk).channel == "print"
    assert Recipient.objects.get(pk=without.pk).channel == ""


def test_only_who_may_manage_delivery_is_offered_the_channel_actions(db):
    senator = make_senator()
    viewer = User.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_recipient"))
    client = Client()
    client.force_login(viewer)

    page = client.get(reverse("admin:petitions_recipient_changelist")).content.decode()
    assert "deliver_through_cwc" not in page
    _act(client, "deliver_by_print", [senator])
    senator.refresh_from_db()
    assert senator.channel == ""


# --- Imported senators ------------------------------------------------------------------------


def test_imported_senators_get_the_default_channel_and_known_ones_keep_theirs(settings):
    settings.IMPORTED_SENATOR_CHANNEL = "cwc"
    known = make_senator(bioguide_id="E000295", channel="email", channel_settings={"address": "ernst@senate.test"})
    records = {
        "E000295": {"name": "Joni Ernst", "last_name": "Ernst", "state": "IA", "senate_class": 2},
        "G000386": {"name": "Chuck Grassley", "last_name": "Grassley", "state": "IA", "senate_class": 3},
    }

    legislators.import_senators(records)

    assert Recipient.objects.get(bioguide_id="G000386").channel == "cwc"
    known.refresh_from_db()
    assert known.channel == "email"


def _setting(**env):
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings; "
         "print(settings.IMPORTED_SENATOR_CHANNEL or 'none')"],
        cwd=BASE_DIR, env=production_env(**env), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    return result.stdout.strip() or result.stderr


def test_the_default_channel_is_cwc_once_there_is_a_cwc_endpoint_and_none_before():
    assert _setting() == "none"
    assert _setting(CWC_ENDPOINT="https://cwc.example.test/v2/message") == "cwc"
    assert _setting(CWC_ENDPOINT="https://cwc.example.test/v2/message", IMPORTED_SENATOR_CHANNEL="none") == "none"
    assert _setting(IMPORTED_SENATOR_CHANNEL="print") == "print"
    assert "IMPORTED_SENATOR_CHANNEL must be" in _setting(IMPORTED_SENATOR_CHANNEL="fax")


# --- Who cannot be reached yet ----------------------------------------------------------------


def test_the_deploy_check_names_each_recipient_nobody_can_reach_yet(cwc_server):
    ready = make_senator(channel="cwc")
    unrouted = make_senator("OH", 1, "Bernie Moreno", "Moreno")
    broken = make_president(channel="email", channel_settings={})

    found = [m for m in run_checks(include_deployment_checks=True, databases=["default"]) if m.id == "petitions.W001"]

    assert {m.obj for m in found} == {unrouted, broken}
    assert ready not in {m.obj for m in found}
    by_obj = {m.obj: m.msg for m in found}
    assert "No delivery channel is set." in by_obj[unrouted]
    assert "intake e-mail address" in by_obj[broken]
    # Without --database it reads nothing, as Django's own database checks do.
    assert not [m for m in run_checks(include_deployment_checks=True) if m.id == "petitions.W001"]


def test_a_petition_for_senators_only_does_not_name_the_president():
    petition = make_petition(allow_president=False)
    senator = make_senator()
    make_president()
    assert [r for r, _problem in unreachable_recipients(petition)] == [senator]


@pytest.mark.parametrize("language", ["en", "be"])
def test_the_petition_summary_and_the_dashboard_name_unreachable_recipients(admin_client, language):
    petition = make_petition()
    senator = make_senator("OH", 1, "Bernie Moreno", "Moreno")
    with translation.override(language):
        words = translation.gettext("Set their channels")
        name = str(senator)
        urls = [
            reverse("admin:petitions_petition_change", args=[petition.pk]),
            reverse("admin:petitions_petition_dashboard", args=[petition.pk]),
        ]
    assert language == "en" or words != "Set their channels"
    assert name == {"en": "Senator Bernie Moreno (Ohio)", "be": "Сенатар Bernie Moreno (Агаё)"}[language]

    for url in urls:
        html = admin_client.get(url).content.decode()
        assert name in html, url
        assert words in html, url
