"""The site as production runs it: gunicorn with gunicorn.conf.py and a mail worker, both started by
bin/entrypoint with production settings on PostgreSQL and Redis, driven over HTTP like a browser
behind a TLS-terminating load balancer."""

import os
import re
import uuid
from html.parser import HTMLParser

import pytest
import requests

from petitions.models import Letter, Recipient, Signature
from petitions.tests.conftest import make_petition, make_president, make_senator, sign_data

from .conftest import SITE_HOST, free_port, purge_broker, wait_until, web_env

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
        or not os.environ.get("REDIS_URL", "").startswith("redis://"),
        reason="runs production's stack: set DATABASE_URL to PostgreSQL and REDIS_URL to Redis (.ci/run does)",
    ),
]

# What the load balancer adds: the scheme the browser used and the browser's address. The address
# is from TEST-NET-3 (RFC 5737) and only ever travels in this header.
SIGNER_IP = "203.0.113.77"
PROXY_HEADERS = {"Host": SITE_HOST, "X-Forwarded-Proto": "https", "X-Forwarded-For": SIGNER_IP}


class _Forms(HTMLParser):
    """The POST forms of a page: their action and the values a browser would send by default."""

    def __init__(self):
        super().__init__()
        self.forms, self._select = [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("method", "get").lower() == "post":
            self.forms.append({"action": attrs.get("action"), "token_url": attrs.get("data-token-url"), "fields": {}})
        elif not self.forms:
            return
        fields = self.forms[-1]["fields"]
        if tag == "input" and attrs.get("name"):
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                fields.setdefault(attrs["name"], [])
                if "checked" in attrs:
                    fields[attrs["name"]].append(attrs.get("value", "on"))
            elif kind not in ("submit", "button"):
                fields[attrs["name"]] = attrs.get("value", "")
        elif tag in ("select", "textarea") and attrs.get("name"):
            fields[attrs["name"]] = ""
            self._select = attrs["name"] if tag == "select" else None
        elif tag == "option" and self._select and "selected" in attrs:
            fields[self._select] = attrs.get("value", "")


def _form_with(page, field):
    parser = _Forms()
    parser.feed(page.text)
    return next(form for form in parser.forms if field in form["fields"])


class _Browser:
    """A browser on HTTPS, seen from behind the load balancer: requests over plain HTTP to gunicorn
    with the proxy's headers, sending back every cookie, the Secure ones too, and never following a
    redirect by itself (it would leave for the real host name)."""

    def __init__(self, base):
        self.base = base
        self.session = requests.Session()
        self.session.headers.update(PROXY_HEADERS)

    def request(self, method, path, headers=None, **kwargs):
        # requests would hold Secure cookies back from an http:// address; the browser's side is HTTPS.
        cookies = "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.session.cookies)
        headers = {**({"Cookie": cookies} if cookies else {}), **(headers or {})}
        return self.session.request(method, self.base + path, headers=headers, allow_redirects=False, **kwargs)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request(
            "POST", path, headers={"Origin": f"https://{SITE_HOST}", **kwargs.pop("headers", {})}, **kwargs
        )


def test_a_supporter_signs_and_confirms_through_gunicorn_and_a_mail_worker(
    transactional_db, smtp_server, start_service, collected_static
):
    purge_broker()
    petition = make_petition()
    make_senator("IA", 2, "Joni Ernst", "Ernst")
    make_senator("IA", 3, "Chuck Grassley", "Grassley")
    make_president(channel=Recipient.Channel.EMAIL, channel_settings={"address": "letters@example.gov"})
    port = free_port()
    env = web_env(port, collected_static, EMAIL_HOST="127.0.0.1", EMAIL_PORT=smtp_server.port)
    web = start_service(["web"], env, ready="Booting worker")
    worker = start_service(["worker", "mail"], env, name="worker-mail", ready="ready.")
    browser = _Browser(f"http://127.0.0.1:{port}")
    wait_until(lambda: browser.get("/readyz").status_code == 200, timeout=30, message="/readyz")

    # The page, with the CSRF cookie and token, over "HTTPS": no redirect, HSTS, hashed static files.
    page = browser.get(f"/be/p/{petition.slug}/")
    assert page.status_code == 200, page.text[:500]
    assert page.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    stylesheet = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', page.text).group(1)
    static = browser.get(stylesheet, headers={"Accept-Encoding": "gzip"})
    assert static.status_code == 200
    assert static.headers["Cache-Control"] == "max-age=315360000, public, immutable"
    assert static.headers["Content-Encoding"] == "gzip"
    plain = browser.get(f"/be/p/{petition.slug}/", headers={"X-Forwarded-Proto": "http"})
    assert plain.status_code == 301 and plain.headers["Location"].startswith(f"https://{SITE_HOST}/")

    form = _form_with(page, "email")
    data = {**form["fields"], **sign_data()}
    if form["token_url"]:
        # The page is one cached copy for everyone: its script fetches this visitor's token and cookie.
        data.update(browser.get(form["token_url"]).json())
    sign_request_id = f"sign-{uuid.uuid4().hex[:12]}"
    signed = browser.post(form["action"], data=data, headers={"X-Request-ID": sign_request_id})
    assert signed.status_code == 302, signed.text[:2000]
    assert signed.headers["X-Request-ID"] == sign_request_id

    [message] = smtp_server.wait_for(1)
    assert message["To"] == "ada@example.org"
    link = re.search(rf"https://{re.escape(SITE_HOST)}(/be/confirm/\S+/)", message.get_body(("plain",)).get_content())
    confirm_page = browser.get(link.group(1))
    assert confirm_page.status_code == 200
    assert Signature.objects.get().status == Signature.Status.PENDING, "a GET (a mail scanner) confirms nothing"

    form = _form_with(confirm_page, "csrfmiddlewaretoken")
    thanks = browser.post(link.group(1), data=form["fields"])
    assert thanks.status_code == 302, thanks.text[:2000]
    assert browser.get(thanks.headers["Location"]).status_code == 200
    signature = Signature.objects.get()
    assert signature.status == Signature.Status.CONFIRMED
    assert signature.ip_hash and SIGNER_IP not in signature.ip_hash
    assert Letter.objects.filter(signature=signature).count() == 3
    smtp_server.wait_for(2)  # The receipt, from the same mail worker.

    # Stop both, so every line they would write is written, then read the logs.
    web.stop()
    worker.stop()
    logs = web.output() + worker.output()
    assert sign_request_id in worker.output(), "the confirmation task logs under the request's id"
    access = [line for line in web.output().splitlines() if " gunicorn.access " in line]
    assert any(f'{sign_request_id} "POST /be/p/{petition.slug}/ HTTP/1.1" 302' in line for line in access)
    token = link.group(1).split("/")[3]
    for secret in ("ada@example.org", "Lovelace", "1007 Grand Ave", SIGNER_IP, token):
        assert secret not in logs, f"{secret!r} appears in the logs"
    assert any('"GET /be/confirm/[token]/ HTTP/1.1" 200' in line for line in access)
    assert not [line for line in access if "127.0.0.1" in line], "access lines name no client address"
