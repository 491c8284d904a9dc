"""A few seconds of the load benchmark, so that `make bench` keeps working; the benchmark itself is not a test."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent


def _bench_stores():
    """The benchmark's database and Redis URLs, next to the ones the test run was given."""
    database_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not database_url.startswith("postgres") or not redis_url:
        pytest.skip("the benchmark needs PostgreSQL and Redis: set DATABASE_URL and REDIS_URL (CI does)")
    if not shutil.which("wrk"):
        pytest.skip("the benchmark drives the site with wrk: apt-get install wrk (.ci/run does)")
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "_bench_smoke")), redis_url


def _run(args, timeout, **settings):
    """Run a bench script as someone would from a shell: a clean environment with only SETTINGS added."""
    # A fake clock (Debian's faketime, as `make test-in-window` uses) reaches the bench and its stack.
    kept = ("PATH", "HOME", "LANG", "LD_PRELOAD", "FAKETIME", "FAKETIME_SHARED")
    env = {name: os.environ[name] for name in kept if name in os.environ}
    env.update(settings)
    return subprocess.run(
        [sys.executable, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.slow
def test_the_smoke_run_prints_a_table_and_writes_json_with_every_phase_working(tmp_path):
    database_url, redis_url = _bench_stores()
    out = tmp_path / "result.json"
    done = _run(
        ["bench/run.py", "--smoke", "--out", str(out)],
        240,
        BENCH_DATABASE_URL=database_url,
        BENCH_REDIS_URL=redis_url,
        BENCH_VAR_DIR=str(tmp_path / "var"),
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "petition page GET" in done.stdout and "letters through CWC" in done.stdout
    assert "SIGN_MIN_SECONDS lowered to 1" in done.stdout
    # The stand-in CWC receiver takes letters at any hour: the Senate's windows are off, and it says so.
    assert "CWC maintenance windows are off" in done.stdout

    result = json.loads(out.read_text())
    phases = result["phases"]
    assert result["machine"]["cores"] and result["versions"]["postgresql"]
    assert result["machine"]["reference_ms_at_start"] > 0 and result["machine"]["reference_ms_at_end"] > 0
    for name in ("page", "count", "widget", "proxy_page", "page_query"):
        assert phases[name]["ok_per_s"] > 0 and phases[name]["errors"] == 0, phases[name]
    # Signatures went through CSRF, the rate limits and the bot traps without a single one refused.
    assert phases["sign"]["signatures_per_s"] > 0 and phases["sign"]["errors"] == 0, phases["sign"]
    assert phases["alone"]["signatures_per_s"] > 0 and phases["alone"]["errors"] == 0, phases["alone"]
    assert "celery_mail" not in {role for role, ms in phases["alone"]["cpu_ms_per_signature"].items() if ms}
    # A browser's third request, the page the POST redirects to, was made and answered for each signature
    # (give or take the one each connection had in flight at either end of the measured window).
    browser = phases["browser"]
    assert browser["signatures_per_s"] > 0 and browser["errors"] == 0, browser
    signed, posts = browser["signed"]["requests"], browser["post"]["requests"]
    assert abs(signed - posts) <= 16 and browser["signed"]["statuses"] == {"200": signed}, browser
    assert phases["paced"]["confirmation"]["emails"] > 0 and phases["paced"]["confirmation"]["missing"] == 0
    # The confirmations the signing phases left (in the database) were sent or set aside before delivery...
    assert phases["drain"]["backlog"] > 0 and phases["drain"]["seconds"] > 0, phases["drain"]
    for channel in ("email", "cwc"):
        assert phases[channel]["statuses"] == {"delivered": phases[channel]["letters"]}, phases[channel]
        # ...so each channel's arrivals are its letters, none of them a signer's e-mail.
        assert phases[channel]["arrived"] == phases[channel]["letters"], phases[channel]
        # The letters worker did the sending, and its CPU per letter is recorded.
        assert phases[channel]["cpu_ms_per_letter"]["celery_letters"] > 0, phases[channel]
    # E-mail letters were delivered while CWC, at 5 a second, still had letters waiting.
    beside = phases["beside_cwc"]
    assert beside["email_p95_s"] is not None and beside["cwc_left_when_emails_done"] > 0, beside
    assert result["settings"]["cwc_maintenance_windows"] == []
    assert result["memory"]["gunicorn"]["max_worker_peak_rss_mb"] > 0
    # The workers ran at compose.yaml's lower CPU weight: the kernel's own answer is recorded.
    weights = result["settings"]["celery_worker_cpu_weight"]
    assert set(weights) == {"celery_mail", "celery_letters"}, weights
    for weight in weights.values():
        assert weight.endswith("nice 9") or weight == "nice 9 (no autogroup)", weight
    # Where the host lets it make the web a control group, the mail worker read its pressure file.
    pressure_file = result["settings"]["web_cpu_pressure_file"]
    if pressure_file:
        assert pressure_file.endswith("/campaign-bench-web/cpu.pressure"), pressure_file
        for name in ("sign", "paced"):
            assert 0 <= phases[name]["web_cpu_pressure_pct"] <= 100, phases[name]
    assert set(result["verdicts"]) >= {"page_rps", "sign_per_s", "cwc_letters_per_s", "celery_worker_rss_mb"}


@pytest.mark.slow
def test_the_in_process_signing_timer_signs_through_every_rule(tmp_path):
    database_url, redis_url = _bench_stores()
    done = _run(
        ["bench/sign_cpu.py", "--count", "5", "--queries"],
        120,
        SIGN_CPU_DATABASE_URL=database_url.replace("_bench_smoke", "_sign_cpu"),
        SIGN_CPU_REDIS_URL=redis_url,
    )
    # It asserts every POST was answered with the redirect to the "signed" page, so exit 0 means signed.
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "ms CPU per request (5 requests)" in done.stdout
    assert "signed page GET" in done.stdout  # the page the POST redirects to, answered with 200
    assert "queries in one POST" in done.stdout and "INSERT INTO" in done.stdout
