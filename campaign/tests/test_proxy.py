"""deploy/nginx.conf: Debian's nginx in front of a live test server serves the crowd one copy, and no one else.

The configuration is rendered as the official image renders compose.yaml's `proxy` service
(its ${NAME} placeholders replaced), and nginx runs on a free loopback port with that file alone.
What reaches Django is counted with its request_started signal: the live server runs in this process.
"""

import os
import re
import signal
import socket
import subprocess
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from django.core.signals import request_started
from django.http import HttpResponse
from django.urls import path, reverse
from django.utils.cache import patch_cache_control, patch_vary_headers

from petitions.tests.conftest import free_port, make_petition, make_president, make_senator, wait_until

BASE_DIR = Path(__file__).resolve().parents[2]
NGINX = "/usr/sbin/nginx"

pytestmark = pytest.mark.skipif(not Path(NGINX).exists(), reason="Debian's nginx is not installed")


def render_config(listen, upstream, cache_dir):
    """deploy/nginx.conf with its placeholders filled, as envsubst fills them in the official image."""
    text = (BASE_DIR / "deploy" / "nginx.conf").read_text()
    for name, value in (("PROXY_LISTEN", listen), ("PROXY_UPSTREAM", upstream), ("PROXY_CACHE_DIR", cache_dir)):
        text = text.replace("${" + name + "}", str(value))
    return text


class Nginx:
    """nginx with the repository's server block, in a directory of its own; stopped by stop()."""

    def __init__(self, directory, upstream):
        self.directory = Path(directory)
        self.port = free_port()
        (self.directory / "site.conf").write_text(
            render_config(f"127.0.0.1:{self.port}", upstream, self.directory / "cache")
        )
        # The http block the official image's nginx.conf has around conf.d/; as root, workers keep
        # root's rights so that they can write the cache under the test's private directory.
        user = "user root;" if os.geteuid() == 0 else ""
        temp = " ".join(f"{kind}_temp_path {self.directory / kind};" for kind in ("client_body", "proxy"))
        (self.directory / "nginx.conf").write_text(
            f"daemon off; {user} worker_processes 1; pid {self.directory / 'nginx.pid'}; error_log stderr warn;\n"
            "events { worker_connections 256; }\n"
            f"http {{ access_log off; {temp} include {self.directory / 'site.conf'}; }}\n"
        )
        self.log = open(self.directory / "nginx.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(  # noqa: S603
            [NGINX, "-p", str(self.directory), "-c", str(self.directory / "nginx.conf")],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(self._listening, timeout=15, message="nginx to listen")

    def _listening(self):
        if self.process.poll() is not None:
            raise AssertionError((self.directory / "nginx.log").read_text())
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def output(self):
        """What nginx wrote: its access lines (deploy/nginx.conf logs to stdout) and its errors."""
        return (self.directory / "nginx.log").read_text()

    def stop(self):
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGQUIT)  # nginx's graceful shutdown
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.log.close()


class Reached:
    """The paths of the requests that reached Django."""

    def __init__(self):
        self.paths = []
        self.lock = threading.Lock()

    def __call__(self, sender, environ=None, **kwargs):
        with self.lock:
            self.paths.append(environ.get("PATH_INFO"))

    def count(self, path):
        with self.lock:
            return self.paths.count(path)


@pytest.fixture
def reached():
    counter = Reached()
    request_started.connect(counter)
    yield counter
    request_started.disconnect(counter)


@pytest.fixture
def proxy(live_server, tmp_path):
    upstream = live_server.url.removeprefix("http://")
    nginx = Nginx(tmp_path, upstream)
    yield nginx
    nginx.stop()


@pytest.fixture
def petition(transactional_db):
    make_senator("IA", 2, "Joni Ernst", "Ernst")
    make_president()
    return make_petition()


def fetch(url, method="GET", data=None, **headers):
    request = urllib.request.Request(url, method=method, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@pytest.mark.parametrize(
    "name",
    ["petitions:detail", "petitions:widget", "api-petition-count"],
)
def test_a_cookie_less_visitor_is_served_the_copy_django_rendered(proxy, reached, petition, name):
    page = reverse(name, kwargs={"slug": petition.slug})

    first = fetch(proxy.url(page))
    second = fetch(proxy.url(page))

    assert first[0] == second[0] == 200
    assert (first[1]["X-Cache-Status"], second[1]["X-Cache-Status"]) == ("MISS", "HIT")
    assert second[2] == first[2]
    assert reached.count(page) == 1
    # Django's own headers come with the copy; the request id is the new request's own.
    assert "public" in second[1]["Cache-Control"]
    assert second[1]["Content-Security-Policy"] == first[1]["Content-Security-Policy"]
    assert second[1]["X-Request-ID"] != first[1]["X-Request-ID"]


def test_a_query_string_on_the_petition_page_shares_the_crowds_copy(proxy, reached, petition):
    page = petition.get_absolute_url()

    fetch(proxy.url(page))
    status, headers, _body = fetch(proxy.url(page + "?utm_source=newsletter&fbclid=abc"))

    assert (status, headers["X-Cache-Status"]) == (200, "HIT")
    assert reached.count(page) == 1


def test_a_burst_on_a_cold_page_reaches_django_once(proxy, reached, petition):
    page = petition.get_absolute_url()
    # Django warmed up (templates, the count) through a visitor with a cookie, whom nginx never serves a copy.
    fetch(proxy.url(page), Cookie="sessionid=warm")
    assert reached.count(page) == 1

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda _i: fetch(proxy.url(page)), range(32)))

    assert {status for status, _headers, _body in answers} == {200}
    assert len({body for _status, _headers, body in answers}) == 1
    assert reached.count(page) == 2


def test_a_visitor_with_a_cookie_always_reaches_django(proxy, reached, petition):
    page = petition.get_absolute_url()
    fetch(proxy.url(page))

    answers = [fetch(proxy.url(page), Cookie="sessionid=abc") for _ in range(2)]
    answers.append(fetch(proxy.url(page), Cookie="csrftoken=xyz"))

    assert [headers["X-Cache-Status"] for _status, headers, _body in answers] == ["BYPASS"] * 3
    assert reached.count(page) == 4
    # Nor did they leave a copy behind: the crowd's copy is still the first one.
    assert fetch(proxy.url(page))[1]["X-Cache-Status"] == "HIT"


def test_a_post_always_reaches_django_and_never_gets_the_copy(proxy, reached, petition):
    page = petition.get_absolute_url()
    fetch(proxy.url(page))

    status, headers, _body = fetch(
        proxy.url(page), method="POST", data=b"first_name=Ada", **{"Content-Type": "application/x-www-form-urlencoded"}
    )

    # Without its CSRF token the form comes back filled in (views.csrf_failure): Django answered.
    assert status == 403
    assert headers.get("X-Cache-Status", "") == ""
    assert reached.count(page) == 2


def test_the_access_line_has_the_request_id_and_no_token_client_address_or_query(proxy, petition):
    token = "Ada:1w2x3y:" + "s" * 43  # shaped like a signer's link; any value is redacted
    answers = [
        fetch(proxy.url(f"/be/confirm/{token}/?email=ada%40example.org")),
        fetch(proxy.url(petition.get_absolute_url() + "?utm_source=ada@example.org")),
    ]
    proxy.stop()  # every line written

    lines = [line for line in proxy.output().splitlines() if " nginx.access " in line]
    assert len(lines) == 2, proxy.output()
    (confirm_status, confirm_headers, _body), (_status, page_headers, _body) = answers
    confirm_line, page_line = lines
    request_id = confirm_headers["X-Request-ID"]
    assert f'INFO nginx.access {request_id} "GET /be/confirm/[token]/ HTTP/1.1" {confirm_status} ' in confirm_line
    assert f'{page_headers["X-Request-ID"]} "GET {petition.get_absolute_url()} HTTP/1.1" 200 ' in page_line
    # Not "ada": request ids are hexadecimal and may hold it.
    for secret in (token, "Ada", "example.org", "127.0.0.1", "utm_source"):
        assert secret not in proxy.output(), secret


# --- Answers Django does not mark public, or that set a cookie -------------------------------------


def _public_with_cookie(request, slug):
    response = HttpResponse(f"page {slug}")
    patch_cache_control(response, public=True, max_age=30)
    response.set_cookie("messages", "one for you")
    return response


def _private(request, slug):
    response = HttpResponse(f"page {slug}")
    patch_cache_control(response, private=True)
    return response


def _unmarked(request, slug):
    response = HttpResponse(f"page {slug}")
    patch_vary_headers(response, ["Cookie"])
    return response


urlpatterns = [
    path("be/p/<slug:slug>/", _public_with_cookie),
    path("en/p/<slug:slug>/", _private),
    path("api/petitions/<slug:slug>/count.json", _unmarked),
]


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("page", ["/be/p/a/", "/en/p/a/", "/api/petitions/a/count.json"])
def test_an_answer_that_sets_a_cookie_or_is_not_public_is_never_stored(proxy, reached, transactional_db, page):
    for _ in range(3):
        status, headers, _body = fetch(proxy.url(page))
        assert (status, headers["X-Cache-Status"]) == (200, "MISS")

    assert reached.count(page) == 3


def test_compose_runs_the_proxy_with_this_configuration_and_every_placeholder_set():
    proxy = yaml.safe_load((BASE_DIR / "compose.yaml").read_text())["services"]["proxy"]
    placeholders = set(re.findall(r"\$\{([A-Z_]+)\}", (BASE_DIR / "deploy" / "nginx.conf").read_text()))

    assert "./deploy/nginx.conf:/etc/nginx/templates/default.conf.template:ro" in proxy["volumes"]
    assert placeholders == {"PROXY_LISTEN", "PROXY_UPSTREAM", "PROXY_CACHE_DIR"}
    assert placeholders <= set(proxy["environment"])


def test_behind_the_proxy_gunicorn_leaves_the_access_line_to_it():
    services = yaml.safe_load((BASE_DIR / "compose.yaml").read_text())["services"]

    # The proxy writes one line per request (test above); gunicorn's would be the same line again.
    assert services["web"]["environment"]["WEB_ACCESS_LOG"] == ""
    # The rest of the web's environment is the app's, as for the workers.
    assert services["web"]["environment"]["DATABASE_URL"] == services["worker-mail"]["environment"]["DATABASE_URL"]
