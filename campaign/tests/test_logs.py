"""Log lines: one per event, with the request id, never an e-mail address."""

import io
import logging
import smtplib

from django.conf import settings
from django.test import override_settings

from campaign.logs import (
    OneLineFormatter,
    RedactTokensFilter,
    RequestIdFilter,
    ScrubEmailFilter,
    redact_tokens,
    request_id,
    scrub,
)


def _site_logger():
    """A logger with the site's console handler setup (settings.LOGGING), writing into a buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(ScrubEmailFilter())
    handler.addFilter(RedactTokensFilter())
    handler.setFormatter(OneLineFormatter(settings.LOG_FORMAT))
    logger = logging.getLogger("campaign.tests.logs")
    logger.handlers, logger.propagate = [handler], False
    return logger, buffer


def test_the_site_logs_through_the_request_id_and_scrubbing_filters():
    console = settings.LOGGING["handlers"]["console"]
    assert console["filters"] == ["request_id", "scrub_email", "redact_tokens"]
    assert "%(request_id)s" in settings.LOG_FORMAT


def test_an_exception_quoting_an_address_is_logged_on_one_line_without_it():
    logger, buffer = _site_logger()
    token = request_id.set("req-42")
    try:
        raise smtplib.SMTPRecipientsRefused({"ada.lovelace+petition@example.org": (550, b"no such user")})
    except smtplib.SMTPRecipientsRefused:
        logger.exception("could not mail %s", "ada.lovelace+petition@example.org")
    finally:
        request_id.reset(token)
    output = buffer.getvalue()
    assert output.count("\n") == 1, output
    assert "example.org" not in output
    assert "could not mail [e-mail]" in output
    assert "SMTPRecipientsRefused" in output
    assert " req-42 " in output


def test_scrubbing_passes_a_line_without_an_address_as_it_is_and_still_catches_one_with():
    # Every access line goes through scrub: a line without "@" is returned untouched, the same object.
    line = 'abc123 "GET /be/p/free-political-prisoners/form-token/ HTTP/1.1" 200 164 3ms'
    assert scrub(line) is line
    scrubbed = scrub('abc123 "GET /be/p/ada.lovelace@example.org/ HTTP/1.1" 404 9 1ms')
    assert "example.org" not in scrubbed
    assert "[e-mail]" in scrubbed


def test_a_line_outside_any_request_has_a_dash_for_its_id():
    logger, buffer = _site_logger()
    logger.warning("sweeping %d letters", 3)
    assert buffer.getvalue().split(" ", 5)[4:] == ["-", "sweeping 3 letters\n"]


def test_a_response_returns_the_request_id_it_was_given(client):
    response = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a9c"})
    assert response["X-Request-ID"] == "lb-7f3a9c"


def test_a_request_without_an_id_gets_a_new_one_each_time(client):
    first, second = client.get("/healthz")["X-Request-ID"], client.get("/healthz")["X-Request-ID"]
    assert len(first) == 32 and first != second


def test_a_request_id_that_could_forge_log_lines_is_replaced(client):
    forged = "x\n2026-01-01 INFO fake line"
    response = client.get("/healthz", headers={"X-Request-ID": "a" * 65})
    assert response["X-Request-ID"] != "a" * 65
    response = client.get("/healthz", HTTP_X_REQUEST_ID=forged)
    assert response["X-Request-ID"] != forged and "\n" not in response["X-Request-ID"]


@override_settings(SECURE_SSL_REDIRECT=True)
def test_probes_answer_over_plain_http_while_pages_redirect_to_https(client, db):
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    page = client.get("/be/")
    assert page.status_code == 301 and page["Location"].startswith("https://")


def test_readyz_reports_each_dependency(client, db):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "ready": True,
        "database": "ok",
        "cache": "ok",
        "broker": "ok",
        "static": "ok",
        "migrations": "ok",
    }
    assert "no-cache" in response["Cache-Control"]


def test_the_tokens_of_signers_links_are_redacted_from_access_and_application_lines():
    token = "MQ:1xa6OA:MtEFMTu2PrC1OIsj3t-urkDSa3ERJd8nIIrgTX3KAWQ"
    for name in ("confirm", "thanks", "status", "withdraw", "unsubscribe", "followup"):
        line = f'abc123 "GET /be/{name}/{token}/ HTTP/1.1" 200 164 3ms'
        assert redact_tokens(line) == f'abc123 "GET /be/{name}/[token]/ HTTP/1.1" 200 164 3ms'
    logger, buffer = _site_logger()
    try:
        raise ValueError(f"bad link {token}")
    except ValueError:
        logger.exception("Internal Server Error: /en/withdraw/%s/", token)
    logger.warning(
        "a token outside a path: %s", ".eJyrVkrLz1eyUkpKLFKqBQAbwAQ1:1xa6OA:MtEFMTu2PrC1OIsj3t-urkDSa3ERJd8nIIrgTX3KAWQ"
    )
    output = buffer.getvalue()
    assert "MtEFMTu2PrC1OIsj3t" not in output
    assert "/en/withdraw/[token]/" in output and "bad link [token]" in output


def test_a_line_without_a_token_is_passed_as_it_is():
    line = 'abc123 "GET /be/p/free-political-prisoners/form-token/ HTTP/1.1" 200 164 3ms'
    assert redact_tokens(line) is line
    stamp = "2026-12-06 07:10:26,410 INFO gunicorn.error - Booting worker with pid: 12 [2001:db8::1]"
    assert redact_tokens(stamp) == stamp
