"""A web worker imports only what serving pages needs, and stays under the 80 MB resident target.

The PDF and HTTP libraries wait for their tasks; gunicorn loads the site once in its master
(preload_app), which must therefore hold no connection its workers would share.
"""

import contextlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from petitions.tests.conftest import make_petition, make_president, make_senator, sign_data

from .conftest import SITE_HOST, free_port, purge_broker, web_env

BASE = Path(__file__).resolve().parent.parent.parent

# Serve one request through the whole URL configuration (the admin's included), then report.
SCRIPT = """
import io, json, sys
import campaign.wsgi
environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/robots.txt", "SERVER_NAME": "127.0.0.1",
           "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1", "wsgi.input": io.BytesIO(),
           "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr}
result = campaign.wsgi.application(environ, lambda status, headers, exc_info=None: None)
b"".join(result)
result.close()
print(json.dumps(sorted(name for name in sys.modules if "." not in name)))
"""


def test_a_web_worker_serving_pages_never_imports_fpdf_lxml_or_requests():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "campaign.test_settings", "PYTHONPATH": str(BASE)}
    env.pop("REDIS_URL", None)
    output = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=BASE, env=env, capture_output=True, text=True, timeout=60, check=True
    ).stdout
    imported = set(json.loads(output.splitlines()[-1]))

    assert "django" in imported and "petitions" in imported, "the script did load the site"
    assert not imported & {"fpdf", "fontTools", "PIL", "lxml", "requests"}


# Load the site as gunicorn's master does, run the hook it calls before forking, and report.
MASTER_SCRIPT = """
import gc, json, logging, runpy, sys
import psycopg  # the web process's database driver, as with DATABASE_URL on PostgreSQL
import campaign.wsgi

def crypto_kb():
    # Resident kB of the libcrypto psycopg's wheel brings for its libpq.
    kb, inside = 0, False
    for line in open("/proc/self/smaps"):
        if line[0] in "0123456789abcdef" and " " in line and "-" in line.split()[0]:
            inside = "psycopg_binary.libs/libcrypto" in line
        elif inside and line.startswith("Rss:"):
            kb += int(line.split()[1])
    return kb

class Server:
    log = logging.getLogger("gunicorn.error")

config = runpy.run_path("gunicorn.conf.py")
before = crypto_kb()
config["when_ready"](Server())
print(json.dumps({"frozen": gc.get_freeze_count(), "crypto_kb": [before, crypto_kb()], "impl": psycopg.pq.__impl__}))
"""


@pytest.mark.parametrize("preload", ["1", "0"])
def test_gunicorn_master_freezes_the_preloaded_site_and_sets_up_libpq_crypto_before_forking(preload):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "campaign.test_settings", "PYTHONPATH": str(BASE)}
    env.update(WEB_PRELOAD=preload)
    env.pop("REDIS_URL", None)
    output = subprocess.run(
        [sys.executable, "-c", MASTER_SCRIPT], cwd=BASE, env=env, capture_output=True, text=True, timeout=60, check=True
    ).stdout
    report = json.loads(output.splitlines()[-1])
    before, after = report["crypto_kb"]

    if preload == "0":
        # Each worker loads the site itself: nothing of the master's to keep out of its collections.
        assert report["frozen"] == 0
        assert after == before
        return
    assert report["frozen"] > 20000, "the site's objects are in the permanent generation"
    if report["impl"] == "binary":
        # A worker's first SCRAM login would otherwise fault in these pages itself (about 1 MB).
        assert after - before > 256, f"libpq's libcrypto resident kB before and after: {before}, {after}"


# The target for each gunicorn worker's resident size (docs/benchmarks.md); `make bench` measures it under a surge.
WORKER_LIMIT_MB = 80


def _workers(master):
    return [
        int(pid) for task in Path(f"/proc/{master}/task").iterdir() for pid in (task / "children").read_text().split()
    ]


def _peak_rss_mb(pid):
    """The kernel's high-water mark of PID's resident size (VmHWM), in MB."""
    return int(re.search(r"^VmHWM:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.MULTILINE).group(1)) / 1024


def _established_sockets():
    """{inode: remote port} of the host's established TCP connections (/proc/net/tcp and tcp6)."""
    sockets = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "01":
                sockets[fields[9]] = int(fields[2].rsplit(":", 1)[1], 16)
    return sockets


def _remote_ports(pid):
    """The remote ports of PID's established TCP connections."""
    established = _established_sockets()
    ports = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):  # closed while we looked
            link = os.readlink(fd)
            if link.startswith("socket:[") and link[8:-1] in established:
                ports.add(established[link[8:-1]])
    return ports


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
    or not os.environ.get("REDIS_URL", "").startswith("redis://"),
    reason="measures production's stack: set DATABASE_URL to PostgreSQL and REDIS_URL to Redis (.ci/run does)",
)
def test_gunicorn_workers_stay_under_80_mb_and_share_no_connection_with_the_master(
    transactional_db, start_service, collected_static
):
    purge_broker()
    petition = make_petition()
    make_senator("IA", 2, "Joni Ernst", "Ernst")
    make_senator("IA", 3, "Chuck Grassley", "Grassley")
    make_president()
    port = free_port()
    env = web_env(port, collected_static)
    web = start_service(["web"], env, ready="Booting worker")
    base = f"http://127.0.0.1:{port}"
    headers = {"Host": SITE_HOST, "X-Forwarded-Proto": "https"}
    pages = [f"/be/p/{petition.slug}/", f"/en/p/{petition.slug}/", f"/be/p/{petition.slug}/widget/",
             f"/api/petitions/{petition.slug}/count.json"]  # fmt: skip

    # Every page and a signature in each worker, each visitor from an address of its own.
    for i in range(40):
        visitor = {**headers, "X-Forwarded-For": f"203.0.113.{i + 1}"}
        for page in pages:
            assert requests.get(base + page, headers=visitor, timeout=10).status_code == 200
        token = requests.get(f"{base}/be/p/{petition.slug}/form-token/", headers=visitor, timeout=10)
        assert token.status_code == 200
        signed = requests.post(
            f"{base}/be/p/{petition.slug}/",
            data={**sign_data(email=f"ada{i}@example.org"), **token.json()},
            headers={**visitor, "Origin": f"https://{SITE_HOST}", "Cookie": f"csrftoken={token.cookies['csrftoken']}"},
            allow_redirects=False,
            timeout=10,
        )
        assert signed.status_code == 302, signed.text[:500]

    master = web.process.pid
    workers = _workers(master)
    stores = {urlsplit(env["DATABASE_URL"]).port or 5432, urlsplit(env["REDIS_URL"]).port or 6379}
    assert len(workers) == 2
    assert any(stores <= _remote_ports(worker) for worker in workers), "the workers did use PostgreSQL and Redis"
    assert not stores & _remote_ports(master), "the master holds a connection its forked workers would share"
    peaks = {pid: round(_peak_rss_mb(pid), 1) for pid in workers}
    assert max(peaks.values()) < WORKER_LIMIT_MB, f"gunicorn workers' peak resident MB: {peaks}"
    purge_broker()
