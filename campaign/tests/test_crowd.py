"""The crowd's cache answers cookie-less visitors of the public pages with Django's own answer, and no one else."""

import io
import time
import wsgiref.util

import pytest
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from campaign import crowd
from petitions.tests.conftest import make_petition, make_president, make_senator, sign_data


@pytest.fixture
def petition(db):
    return make_petition()


@pytest.fixture
def recipients(db):
    return [make_senator("IA", 2, "Joni Ernst", "Ernst"), make_president()]


def keep_the_test_transaction():
    """As Django's test client does: a request must not close the connection that holds the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)


@pytest.fixture
def app(settings, db):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    keep_the_test_transaction()
    cache.clear()  # copies kept by an earlier test of the same petition
    layer = crowd.CrowdCache(WSGIHandler())
    # On in both test set-ups: with REDIS_URL unset it runs on the filesystem cache here.
    layer.enabled = True
    yield layer
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


class Django:
    """Counts the requests that reach Django behind the layer."""

    def __init__(self, layer):
        self.calls = 0
        self.inner = layer.application
        layer.application = self

    def __call__(self, environ, start_response):
        self.calls += 1
        return self.inner(environ, start_response)


def call(app, path, method="GET", **headers):
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "HTTP_HOST": "testserver"}
    environ["HTTP_X_FORWARDED_PROTO"] = "https"
    query = headers.pop("query", "")
    body = headers.pop("body", b"")
    if query:
        environ["QUERY_STRING"] = query
    if body:
        environ["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
        environ["CONTENT_LENGTH"] = str(len(body))
    environ.update({f"HTTP_{name.upper()}": value for name, value in headers.items()})
    wsgiref.util.setup_testing_defaults(environ)
    if body:
        environ["wsgi.input"] = io.BytesIO(body)
    answer = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"], answer["headers"] = status, response_headers

    result = app(environ, start_response)
    answer["body"] = b"".join(result)
    if hasattr(result, "close"):
        result.close()
    return answer


def stored_headers(answer):
    return sorted((name, value) for name, value in answer["headers"] if name.lower() != "x-request-id")


@pytest.mark.parametrize(
    "path", ["/en/p/{slug}/", "/be/p/{slug}/", "/en/p/{slug}/widget/", "/api/petitions/{slug}/count.json"]
)
def test_a_cached_hit_carries_djangos_status_headers_and_body_including_csp_and_hsts(app, petition, recipients, path):
    django = Django(app)
    path = path.format(slug=petition.slug)

    first = call(app, path)
    second = call(app, path)

    assert django.calls == 1, "the second visitor is answered from the cache"
    assert first["status"] == second["status"] == "200 OK"
    assert stored_headers(second) == stored_headers(first)
    assert second["body"] == first["body"]
    names = {name.lower() for name, _value in second["headers"]}
    assert {"content-security-policy", "strict-transport-security", "cache-control", "content-type"} <= names
    assert {"x-content-type-options", "referrer-policy", "x-request-id"} <= names
    ids = [dict(a["headers"])["X-Request-ID"] for a in (first, second)]
    assert ids[0] != ids[1], "each answer has its own request id"


def test_a_hit_for_the_widget_keeps_its_framing_exception_and_the_page_keeps_its_denial(app, petition, recipients):
    for _ in range(2):
        widget = dict(call(app, f"/en/p/{petition.slug}/widget/")["headers"])
        page = dict(call(app, f"/en/p/{petition.slug}/")["headers"])
    assert "X-Frame-Options" not in widget and "frame-ancestors *" in widget["Content-Security-Policy"]
    assert page["X-Frame-Options"] == "DENY"


def test_no_copy_crosses_languages(app, petition, recipients):
    english = call(app, f"/en/p/{petition.slug}/")
    belarusian = call(app, f"/be/p/{petition.slug}/")
    assert english["body"] != belarusian["body"]
    assert call(app, f"/be/p/{petition.slug}/")["body"] == belarusian["body"]

    english_link = call(app, f"/api/petitions/{petition.slug}/count.json", accept_language="en")["body"]
    belarusian_link = call(app, f"/api/petitions/{petition.slug}/count.json", accept_language="be")["body"]
    assert b"/en/p/" in english_link and b"/be/p/" in belarusian_link


def test_a_visitor_with_a_cookie_a_query_string_or_a_post_never_gets_the_cached_copy(app, petition, recipients):
    path = f"/en/p/{petition.slug}/"
    call(app, path)
    django = Django(app)

    call(app, path, cookie="messages=anything")
    call(app, path, query="utm_source=mail")
    call(app, path, authorization="Basic eDp5")
    post = call(app, path, method="POST", body=b"email=x")

    assert django.calls == 4
    assert post["status"].startswith("403"), "a POST reaches Django's CSRF check"


def test_the_admin_and_private_pages_are_never_kept(app, petition, recipients):
    django = Django(app)
    for _ in range(2):
        call(app, "/en/admin/")
        call(app, f"/en/p/{petition.slug}/form-token/")
        call(app, "/en/p/no-such-petition/")
    assert django.calls == 6


def test_a_new_count_shows_once_the_copy_expires(
    app, petition, recipients, monkeypatch, django_capture_on_commit_callbacks
):
    from petitions import services
    from petitions.models import Signature

    monkeypatch.setattr(crowd, "CROWD_CACHE_SECONDS", 1)
    path = f"/en/p/{petition.slug}/"
    assert b"0 signatures" in call(app, path)["body"]

    from django.test import Client

    with django_capture_on_commit_callbacks(execute=True):
        Client().post(path, sign_data())
        services.confirm_signature(Signature.objects.get())
    keep_the_test_transaction()  # the test client connected them again
    assert b"0 signatures" in call(app, path)["body"], "within the few seconds, the crowd sees the kept copy"
    time.sleep(1.2)
    assert b"1 signature" in call(app, path)["body"]


def test_a_process_answers_from_its_memory_until_the_copy_expires_and_another_process_from_redis(
    app, petition, recipients, monkeypatch
):
    monkeypatch.setattr(crowd, "CROWD_CACHE_SECONDS", 1)
    path = f"/en/p/{petition.slug}/"
    django = Django(app)
    first = call(app, path)
    cache.clear()  # only this process's memory holds the copy now
    assert call(app, path)["body"] == first["body"]
    assert django.calls == 1, "the second visitor is answered from memory, without Redis"

    ((key, entry),) = app.local.items()
    cache.set(key, entry, 1)  # as the first process left it in Redis
    other = crowd.CrowdCache(app.application)  # another gunicorn process: nothing in its memory
    other.enabled = True
    assert call(other, path)["body"] == first["body"]
    assert django.calls == 1, "another process finds the copy in Redis"

    time.sleep(1.2)
    call(app, path)
    assert django.calls == 2, "an expired copy is not served from memory"


def test_the_memory_of_a_process_stays_bounded_whatever_headers_visitors_send(app, petition, recipients, monkeypatch):
    monkeypatch.setattr(crowd, "LOCAL_COPIES", 5)
    for n in range(12):
        call(app, f"/api/petitions/{petition.slug}/count.json", accept_language=f"be;q=0.{n}")
    assert 0 < len(app.local) <= 5
