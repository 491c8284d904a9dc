"""The crowd's cache: whole responses for cookie-less visitors of the public pages, served before Django.

A surge is a crowd of anonymous visitors loading the same petition page and polling the same count.
Django's middleware stack, URL resolution and view cost far more than the page itself, so this
layer, wrapped around the WSGI application in campaign/wsgi.py, keeps Django's complete answer
(status, every header Django set: security headers, CSP, Cache-Control, Vary, Content-Type; and the
body) in Redis for CROWD_CACHE_SECONDS, and answers the next visitor with one cache GET.

The trade-off: for those few seconds every visitor sees the same copy, so a new count, or an
organizer's edit of the petition, shows up to CROWD_CACHE_SECONDS late. Issue 7 accepts a total
refreshed every few seconds, and the pages already tell browsers and CDNs to keep them longer
(Cache-Control max-age), so this adds no staleness a visitor behind a CDN would not see anyway.

Only what is the same for everyone is shared: GET (and HEAD) without a Cookie or Authorization
header and without a query string, to the petition page, its counter widget and the count JSON, and
only an answer Django itself marked public and that sets no cookie. The key holds the path (with
its language prefix), the Host, the scheme and Accept-Language (the count JSON's link follows the
visitor's language), so nothing crosses languages or hosts. The admin, POSTs, and every visitor
with cookies (who may have a message waiting) always reach Django. Without Redis (REDIS_URL unset,
a filesystem cache) the layer is off: it would cost a file read per request for little gain.

Each process also keeps the copies it has fetched, in memory, until the moment they expire in
Redis: a crowd polls a handful of addresses, and a hit that needs no round trip to Redis is about
twice as fast (measured with `make bench`). A copy is never older than CROWD_CACHE_SECONDS either way.
"""

import hashlib
import re
import time
import uuid

from django.conf import settings

from .middleware import _VALID_ID

# A few seconds: long enough that a crowd costs one render per page every few seconds, short enough
# that a new count or an organizer's edit shows almost at once (see the module docstring).
CROWD_CACHE_SECONDS = 5

# Headers whose value belongs to one request: never stored, made afresh on every answer.
_PER_REQUEST = {"x-request-id", "set-cookie", "date"}

# Copies one process keeps in memory at most: the crowd's pages in each language, with room for
# the variants of Host and Accept-Language a visitor can send. Past it the memory starts afresh.
LOCAL_COPIES = 256


def _crowd_paths():
    languages = "|".join(re.escape(code) for code, _name in settings.LANGUAGES)
    return re.compile(rf"^/(?:(?:{languages})/p/[-a-zA-Z0-9_]+/(?:widget/)?|api/petitions/[-a-zA-Z0-9_]+/count\.json)$")


class CrowdCache:
    """WSGI middleware: a hit is one cache GET; a miss goes to Django and may be kept."""

    def __init__(self, application):
        self.application = application
        self.enabled = bool(getattr(settings, "REDIS_URL", None))
        self.paths = _crowd_paths()
        # key -> (status, headers, body, expires at, as time.time()); threads share it under the GIL.
        self.local = {}

    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD")
        if not self.enabled or method not in ("GET", "HEAD") or not self._shared(environ):
            return self.application(environ, start_response)
        key = self._key(environ)
        entry = self._get(key)
        if entry is not None:
            status, headers, body, _expires = entry
            start_response(status, [*headers, ("X-Request-ID", self._request_id(environ))])
            return [b""] if method == "HEAD" else [body]
        if method == "HEAD":
            return self.application(environ, start_response)
        return self._fill(environ, start_response, key)

    def _get(self, key):
        entry = self.local.get(key)
        if entry is not None and entry[3] > time.time():
            return entry
        from django.core.cache import cache

        entry = cache.get(key)
        if entry is not None:
            self._keep(key, entry)
        return entry

    def _keep(self, key, entry):
        if len(self.local) >= LOCAL_COPIES:
            self.local = {}
        self.local[key] = entry

    def _shared(self, environ):
        return (
            not environ.get("HTTP_COOKIE")
            and not environ.get("HTTP_AUTHORIZATION")
            and not environ.get("QUERY_STRING")
            and self.paths.match(environ.get("PATH_INFO", "")) is not None
        )

    @staticmethod
    def _key(environ):
        parts = (
            environ.get("PATH_INFO", ""),
            environ.get("HTTP_HOST", ""),
            environ.get("wsgi.url_scheme", ""),
            environ.get("HTTP_X_FORWARDED_PROTO", ""),
            environ.get("HTTP_ACCEPT_LANGUAGE", ""),
        )
        # "crowd2": the entries' shape changed (they carry their expiry); a process of the previous
        # release, during a rolling deploy, must not read them.
        return "crowd2:" + hashlib.sha256("\n".join(parts).encode()).hexdigest()

    @staticmethod
    def _request_id(environ):
        incoming = environ.get("HTTP_X_REQUEST_ID", "")
        return incoming if _VALID_ID.fullmatch(incoming) else uuid.uuid4().hex

    def _fill(self, environ, start_response, key):
        answer = {}

        def remember(status, headers, exc_info=None):
            answer["status"], answer["headers"] = status, headers
            return start_response(status, headers, exc_info)

        result = self.application(environ, remember)
        try:
            body = b"".join(result)
        finally:
            # Closing the response fires request_finished: database connections and the request id.
            if hasattr(result, "close"):
                result.close()
        if self._public(answer):
            from django.core.cache import cache

            kept = [(name, value) for name, value in answer["headers"] if name.lower() not in _PER_REQUEST]
            entry = (answer["status"], kept, body, time.time() + CROWD_CACHE_SECONDS)
            cache.set(key, entry, CROWD_CACHE_SECONDS)
            self._keep(key, entry)
        return [body]

    @staticmethod
    def _public(answer):
        if not answer.get("status", "").startswith("200 "):
            return False
        headers = {name.lower(): value for name, value in answer["headers"]}
        control = headers.get("cache-control", "")
        # An answer that varies on a header the key leaves out cannot be shared (Cookie is absent).
        varies = {name.strip().lower() for name in headers.get("vary", "").split(",") if name.strip()}
        return (
            "set-cookie" not in headers
            and "public" in control
            and "private" not in control
            and varies <= {"cookie", "accept-language"}
        )
