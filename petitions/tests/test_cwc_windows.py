"""The Senate's CWC maintenance windows: a setting, kept in Eastern time, that makes letters wait.

Every test here fixes the clock: the rest of the suite runs with the windows off
(campaign/test_settings.py), so no test's outcome depends on the hour it runs.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured

from campaign.settings import SENATE_CWC_MAINTENANCE_WINDOWS, env_weekly_windows
from petitions.delivery import cwc
from petitions.models import Letter
from petitions.tasks import deliver_letter

from .conftest import make_senator
from .letters import confirmed_signature

EASTERN = ZoneInfo("America/New_York")


@pytest.fixture
def senate_windows(settings):
    settings.CWC_MAINTENANCE_WINDOWS = env_weekly_windows("UNSET_IN_TESTS", SENATE_CWC_MAINTENANCE_WINDOWS)


@pytest.fixture
def senator(db):
    return make_senator("IA", 2, "Joni Ernst", "Ernst", channel="cwc")


def test_the_default_is_the_senates_published_schedule():
    assert env_weekly_windows("UNSET_IN_TESTS", SENATE_CWC_MAINTENANCE_WINDOWS) == [(6, 0, 6), (2, 5, 7)]


@pytest.mark.parametrize(
    ("value", "windows"),
    [
        ("", []),
        ("Sun 00-06, Wed 05-07", [(6, 0, 6), (2, 5, 7)]),
        ("sunday 0:00-6:00,thu 22-24", [(6, 0, 6), (3, 22, 24)]),
    ],
)
def test_the_windows_are_read_from_the_environment(monkeypatch, value, windows):
    monkeypatch.setenv("CWC_MAINTENANCE_WINDOWS", value)
    assert env_weekly_windows("CWC_MAINTENANCE_WINDOWS", SENATE_CWC_MAINTENANCE_WINDOWS) == windows


@pytest.mark.parametrize("value", ["Sun", "Sun 6-0", "Xyz 00-06", "Sun 00-25", "Sun 00:30-06"])
def test_a_window_that_cannot_be_read_stops_the_site_from_starting(monkeypatch, value):
    monkeypatch.setenv("CWC_MAINTENANCE_WINDOWS", value)
    with pytest.raises(ImproperlyConfigured, match="CWC_MAINTENANCE_WINDOWS"):
        env_weekly_windows("CWC_MAINTENANCE_WINDOWS", SENATE_CWC_MAINTENANCE_WINDOWS)


def _eastern(*args, fold=0):
    return datetime(*args, tzinfo=EASTERN, fold=fold)


@pytest.mark.parametrize(
    ("moment", "ends"),
    [
        # Sunday's window, from its first second to its last.
        (_eastern(2026, 11, 29, 0, 0), _eastern(2026, 11, 29, 6, 0)),
        (_eastern(2026, 11, 29, 5, 59, 59), _eastern(2026, 11, 29, 6, 0)),
        (_eastern(2026, 11, 29, 6, 0), None),
        (_eastern(2026, 11, 28, 23, 59, 59), None),
        # Wednesday's.
        (_eastern(2026, 11, 25, 4, 59, 59), None),
        (_eastern(2026, 11, 25, 5, 0), _eastern(2026, 11, 25, 7, 0)),
        (_eastern(2026, 11, 25, 6, 59), _eastern(2026, 11, 25, 7, 0)),
        (_eastern(2026, 11, 25, 7, 0), None),
        (_eastern(2026, 11, 28, 3, 0), None),  # Saturday.
        # Sunday 2026-11-01: clocks go back at 02:00 EDT, so 01:30 happens twice, both inside.
        (_eastern(2026, 11, 1, 1, 30, fold=0), _eastern(2026, 11, 1, 6, 0)),
        (_eastern(2026, 11, 1, 1, 30, fold=1), _eastern(2026, 11, 1, 6, 0)),
        # Sunday 2027-03-14: clocks go forward at 02:00 EST; the window still ends at 06:00 EDT.
        (_eastern(2027, 3, 14, 1, 59, 59), _eastern(2027, 3, 14, 6, 0)),
        (_eastern(2027, 3, 14, 5, 59, 59), _eastern(2027, 3, 14, 6, 0)),
    ],
)
def test_the_windows_are_kept_in_eastern_wall_clock_time(senate_windows, moment, ends):
    assert cwc.maintenance_ends(moment.astimezone(UTC)) == ends


def test_a_window_across_a_dst_change_ends_at_six_in_real_time(senate_windows):
    # The night clocks go back the window lasts seven real hours: 04:00 UTC to 11:00 UTC.
    assert cwc.maintenance_ends(datetime(2026, 11, 1, 5, 59, 50, tzinfo=UTC)) == datetime(2026, 11, 1, 11, tzinfo=UTC)
    # The night they go forward, five: 05:00 UTC to 10:00 UTC.
    assert cwc.maintenance_ends(datetime(2027, 3, 14, 6, 59, 50, tzinfo=UTC)) == datetime(2027, 3, 14, 10, tzinfo=UTC)
    assert cwc.maintenance_ends(datetime(2027, 3, 14, 10, 0, tzinfo=UTC)) is None


def test_a_window_that_runs_to_midnight_ends_at_the_next_days_start(settings):
    settings.CWC_MAINTENANCE_WINDOWS = [(3, 22, 24)]
    assert cwc.maintenance_ends(_eastern(2026, 12, 10, 23, 30)) == _eastern(2026, 12, 11, 0, 0)


def test_with_no_windows_every_hour_is_open(settings):
    settings.CWC_MAINTENANCE_WINDOWS = []
    assert cwc.maintenance_ends(_eastern(2026, 11, 29, 3, 0)) is None


def test_a_letter_waits_out_the_window_without_an_attempt_then_goes_out(
    senate_windows, petition, senator, cwc_receiver
):
    letter = confirmed_signature(petition, [senator]).letters.get()

    with time_machine.travel(_eastern(2026, 11, 29, 3, 0), tick=False):
        deliver_letter(letter.pk)
    letter.refresh_from_db()
    assert letter.status == Letter.Status.QUEUED
    assert letter.attempts == 0
    assert _eastern(2026, 11, 29, 6, 0) <= letter.next_attempt_at <= _eastern(2026, 11, 29, 6, 5)
    assert "maintenance window" in letter.last_error
    assert cwc_receiver.posts() == []

    with time_machine.travel(letter.next_attempt_at + timedelta(seconds=1), tick=False):
        deliver_letter(letter.pk)
    letter.refresh_from_db()
    assert letter.status == Letter.Status.DELIVERED
    assert letter.attempts == 1
    assert len(cwc_receiver.posts()) == 1


def test_with_the_windows_off_a_letter_goes_out_inside_the_senates_window(settings, petition, senator, cwc_receiver):
    settings.CWC_MAINTENANCE_WINDOWS = []
    letter = confirmed_signature(petition, [senator]).letters.get()
    with time_machine.travel(_eastern(2026, 11, 29, 3, 0), tick=False):
        deliver_letter(letter.pk)
    letter.refresh_from_db()
    assert letter.status == Letter.Status.DELIVERED
    assert len(cwc_receiver.posts()) == 1
