"""import_legislators on the shared copy of congress-legislators: senators, the President, going offline."""

import collections
import datetime
import functools
import json
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
import time_machine
import yaml
from django.core.management import CommandError, call_command

from petitions import legislators
from petitions.models import STATES_WITH_SENATORS, Recipient

from .conftest import BASE_DIR, SHARED_DATA, free_port, make_president, make_senator, worker_env

DATA = SHARED_DATA / "congress-legislators"
LEGISLATORS_JSON = DATA / "legislators-current.json"
LEGISLATORS_YAML = DATA / "legislators-current.yaml"
ERNST, GRASSLEY = "E000295", "G000386"

pytestmark = pytest.mark.django_db


def import_legislators(*args):
    """Run the command; its standard output and error."""
    out, err = StringIO(), StringIO()
    call_command("import_legislators", *[str(arg) for arg in args], stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def write_copy(tmp_path, people, name="legislators-current.json"):
    path = tmp_path / name
    path.write_text(json.dumps(people), encoding="utf-8")
    return path


def dataset():
    return json.loads(LEGISLATORS_JSON.read_text(encoding="utf-8"))


def snapshot():
    return list(Recipient.objects.order_by("pk").values())


def closed_port_url():
    # Nothing listens on a port the system just handed out and took back: connecting is refused.
    return f"http://127.0.0.1:{free_port()}/legislators-current.json"


# --- Senators ---------------------------------------------------------------------------------


def test_it_imports_the_100_senators_two_for_each_of_the_50_states():
    out, _err = import_legislators(LEGISLATORS_JSON)

    senators = Recipient.objects.filter(kind=Recipient.Kind.SENATOR, is_active=True)
    assert senators.count() == 100
    assert collections.Counter(senators.values_list("state", flat=True)) == dict.fromkeys(STATES_WITH_SENATORS, 2)
    assert "Senators: 100 created, 0 updated, 0 unchanged, 0 retired." in out


def test_it_gives_each_senator_class_rank_and_office_from_their_last_term():
    import_legislators(LEGISLATORS_JSON)

    ernst = Recipient.objects.get(bioguide_id=ERNST)
    grassley = Recipient.objects.get(bioguide_id=GRASSLEY)
    assert (ernst.name, ernst.state, ernst.senate_class, ernst.state_rank) == ("Joni Ernst", "IA", 2, "junior")
    assert (grassley.name, grassley.senate_class, grassley.state_rank) == ("Chuck Grassley", 3, "senior")
    assert ernst.salutation == "Dear Senator Ernst,"
    assert grassley.salutation == "Dear Senator Grassley,"
    assert [s.bioguide_id for s in Recipient.objects.senators_for("IA")] == [ERNST, GRASSLEY]
    cantwell = Recipient.objects.get(bioguide_id="C000127")
    assert (cantwell.state, cantwell.senate_class, cantwell.party) == ("WA", 1, "Democrat")
    assert cantwell.office_address == "511 Hart Senate Office Building Washington DC 20510"
    assert cantwell.phone == "202-224-3441"
    assert cantwell.website == "https://www.cantwell.senate.gov"
    assert cantwell.contact_form == "https://www.cantwell.senate.gov/public/index.cfm/email-maria"
    assert cantwell.cwc_office_code == "SWA01"
    # The README counts 13 senators without a contact form; they keep an empty one, not an error.
    assert Recipient.objects.filter(kind=Recipient.Kind.SENATOR, contact_form="").count() == 13


def test_json_and_yaml_give_the_same_senators():
    from_json = legislators.senators(legislators.read_file(LEGISLATORS_JSON))
    from_yaml = legislators.senators(legislators.read_file(LEGISLATORS_YAML))
    assert from_json == from_yaml

    import_legislators(LEGISLATORS_YAML)
    out, _err = import_legislators(LEGISLATORS_JSON)
    assert "0 created, 0 updated, 100 unchanged" in out


def test_the_format_is_told_by_content_when_the_name_has_no_suffix(tmp_path):
    people = [p for p in dataset() if p["id"]["bioguide"] in (ERNST, GRASSLEY)]
    as_json = tmp_path / "senators-json"
    as_json.write_text(json.dumps(people), encoding="utf-8")
    as_yaml = tmp_path / "senators-yaml"
    as_yaml.write_text(yaml.safe_dump(people), encoding="utf-8")

    assert set(legislators.senators(legislators.read_file(as_json))) == {ERNST, GRASSLEY}
    assert set(legislators.senators(legislators.read_file(as_yaml))) == {ERNST, GRASSLEY}
    with pytest.raises(legislators.DatasetError, match="not valid YAML"):
        legislators.parse("id: [unclosed", "senators")


def test_a_second_run_creates_no_duplicates_and_reports_them_unchanged():
    import_legislators(LEGISLATORS_JSON)
    before = snapshot()

    out, _err = import_legislators(LEGISLATORS_JSON)

    assert "Senators: 0 created, 0 updated, 100 unchanged, 0 retired." in out
    assert Recipient.objects.filter(kind=Recipient.Kind.SENATOR).count() == 100
    assert snapshot() == before


def test_a_senator_no_longer_listed_is_retired_not_deleted_and_named(tmp_path):
    import_legislators(LEGISLATORS_JSON)
    trimmed = write_copy(tmp_path, [p for p in dataset() if p["id"]["bioguide"] != ERNST])

    out, _err = import_legislators(trimmed)

    assert "Senators: 0 created, 0 updated, 99 unchanged, 1 retired." in out
    assert "Retired (no longer listed): Сенатар Joni Ernst (Аёва)" in out
    assert Recipient.objects.get(bioguide_id=ERNST).is_active is False
    assert [s.bioguide_id for s in Recipient.objects.senators_for("IA")] == [GRASSLEY]


def test_a_senator_listed_again_is_active_again(tmp_path):
    import_legislators(write_copy(tmp_path, [p for p in dataset() if p["id"]["bioguide"] != ERNST]))
    make_senator("IA", 2, bioguide_id=ERNST, is_active=False)

    out, _err = import_legislators(LEGISLATORS_JSON)

    assert "0 created, 1 updated, 99 unchanged, 0 retired" in out
    assert Recipient.objects.get(bioguide_id=ERNST).is_active is True


def test_senators_entered_by_hand_are_retired_when_the_dataset_does_not_list_them():
    by_hand = make_senator("IA", 2, bioguide_id=None)

    out, _err = import_legislators(LEGISLATORS_JSON)

    by_hand.refresh_from_db()
    assert by_hand.is_active is False
    assert "1 retired" in out
    assert Recipient.objects.senators_for("IA").count() == 2


def test_a_reimport_keeps_the_organizers_channel_and_refreshes_the_dataset_fields():
    import_legislators(LEGISLATORS_JSON)
    Recipient.objects.filter(bioguide_id=ERNST).update(
        channel=Recipient.Channel.CWC, channel_settings={"office": "SIA02"}, phone="000", name="Typo"
    )

    out, _err = import_legislators(LEGISLATORS_JSON)

    ernst = Recipient.objects.get(bioguide_id=ERNST)
    assert (ernst.channel, ernst.channel_settings) == (Recipient.Channel.CWC, {"office": "SIA02"})
    assert (ernst.name, ernst.phone) == ("Joni Ernst", "202-224-3254")
    assert "0 created, 1 updated, 99 unchanged" in out


def test_a_file_that_breaks_halfway_changes_nothing(tmp_path):
    import_legislators(LEGISLATORS_JSON)
    before = snapshot()
    people = [p for p in dataset() if p["id"]["bioguide"] != ERNST]
    senators = [p for p in people if p["terms"][-1]["type"] == "sen"]
    senators[0]["name"]["official_full"] = "Someone Else"
    senators[-1]["terms"][-1]["url"] = "not a web address"

    with pytest.raises(CommandError, match="invalid website 'not a web address'"):
        import_legislators(write_copy(tmp_path, people))

    assert snapshot() == before


def test_a_truncated_file_is_refused_and_creates_nothing(tmp_path):
    broken = tmp_path / "legislators-current.json"
    broken.write_text(LEGISLATORS_JSON.read_text(encoding="utf-8")[:50_000], encoding="utf-8")

    with pytest.raises(CommandError, match="not valid JSON"):
        import_legislators(broken)

    assert not Recipient.objects.exists()


def test_a_file_without_senators_does_not_retire_the_senate():
    import_legislators(LEGISLATORS_JSON)

    with pytest.raises(CommandError, match="lists no senators"):
        import_legislators(DATA / "executive.json")

    assert Recipient.objects.filter(kind=Recipient.Kind.SENATOR, is_active=True).count() == 100


def test_a_missing_file_is_an_error_even_when_offline_is_allowed(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        import_legislators("--if-offline-skip", tmp_path / "nowhere.json")


# --- The President ----------------------------------------------------------------------------


@time_machine.travel(datetime.datetime(2022, 6, 1, 12, tzinfo=datetime.UTC), tick=False)
def test_the_president_is_the_one_whose_term_covers_today_and_keeps_the_organizers_channel():
    make_president(channel=Recipient.Channel.EMAIL, office_address="Organizers' address")

    out, _err = import_legislators(LEGISLATORS_JSON)

    president = Recipient.objects.get(kind=Recipient.Kind.PRESIDENT)
    assert president.name == "Joseph Biden"
    assert (president.channel, president.office_address) == (Recipient.Channel.EMAIL, "Organizers' address")
    assert "President: Joseph Biden (updated)." in out


@time_machine.travel(datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.UTC), tick=False)
def test_the_president_is_read_from_executive_yaml_beside_a_yaml_file_and_is_not_duplicated():
    make_president()

    import_legislators(LEGISLATORS_YAML)
    out, _err = import_legislators(LEGISLATORS_YAML)

    assert list(Recipient.objects.filter(kind=Recipient.Kind.PRESIDENT).values_list("name", flat=True)) == [
        "Donald Trump"
    ]
    assert "President: Donald Trump (unchanged)." in out


@time_machine.travel(datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.UTC), tick=False)
def test_the_executive_option_names_the_file_and_a_missing_president_is_created(tmp_path):
    trimmed = write_copy(tmp_path, dataset())

    import_legislators(trimmed, "--executive", DATA / "executive.json")

    president = Recipient.objects.get(kind=Recipient.Kind.PRESIDENT)
    assert (president.name, president.channel) == ("Donald Trump", Recipient.Channel.PRINT)


def test_the_president_name_option_needs_no_executive_file(tmp_path):
    make_president()

    import_legislators(write_copy(tmp_path, dataset()), "--president-name", "Jane Doe")

    assert Recipient.objects.get(kind=Recipient.Kind.PRESIDENT).name == "Jane Doe"


def test_without_an_executive_file_beside_the_path_the_president_stays_as_it_was(tmp_path):
    make_president()

    _out, err = import_legislators(write_copy(tmp_path, dataset()))

    assert "President unchanged" in err
    assert Recipient.objects.get(kind=Recipient.Kind.PRESIDENT).name == "The President of the United States"


# --- Downloading ------------------------------------------------------------------------------


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture
def dataset_server():
    """The shared copy of the dataset, served over HTTP on loopback as its public address serves it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(DATA)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join(5)


@time_machine.travel(datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.UTC), tick=False)
def test_by_default_it_downloads_the_senators_and_the_executive_file_beside_them(settings, dataset_server):
    settings.LEGISLATORS_URL = f"{dataset_server}legislators-current.yaml"
    make_president()

    out, _err = import_legislators()

    assert Recipient.objects.filter(kind=Recipient.Kind.SENATOR, is_active=True).count() == 100
    assert "President: Donald Trump (updated)." in out


def test_offline_with_if_offline_skip_it_says_how_to_import_and_changes_nothing(settings):
    settings.LEGISLATORS_URL = closed_port_url()
    make_president()
    before = snapshot()

    out, err = import_legislators("--if-offline-skip")

    assert "Senators were not imported" in err
    assert "LEGISLATORS_FILE=" in err
    assert "manage.py import_legislators /path/to/legislators-current.json" in err
    assert out == ""
    assert snapshot() == before


def test_offline_without_if_offline_skip_a_failed_download_is_an_error(settings):
    settings.LEGISLATORS_URL = closed_port_url()

    with pytest.raises(CommandError, match="Cannot download"):
        import_legislators()


def test_a_download_answered_with_an_http_error_is_skipped_when_offline_is_allowed(settings, dataset_server):
    settings.LEGISLATORS_URL = f"{dataset_server}missing/legislators-current.json"

    _out, err = import_legislators("--if-offline-skip")

    assert "404" in err
    assert "Senators were not imported" in err


@pytest.mark.slow
@pytest.mark.parametrize(("flag", "returncode"), [("--if-offline-skip", 0), (None, 1)])
def test_as_make_run_calls_it_offline_the_exit_status_lets_the_site_start(flag, returncode):
    command = [sys.executable, "manage.py", "import_legislators", *([flag] if flag else [])]
    env = worker_env(LEGISLATORS_URL=closed_port_url())

    result = subprocess.run(command, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60)

    assert result.returncode == returncode, result.stderr
    assert ("Senators were not imported" in result.stderr) == (returncode == 0)
    assert ("CommandError: Cannot download" in result.stderr) == (returncode == 1)
