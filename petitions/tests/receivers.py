"""Real HTTP servers on loopback that stand in for the receivers of letters: a CWC endpoint and a CRM."""

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from lxml import etree

from .conftest import BASE_DIR, SHARED_DATA

HOUSE_OFFICE = '<param name="pattern">H[A-Z][A-Z][0-9][0-9]</param>'
SENATE_OFFICE = '<param name="pattern">[HS][A-Z][A-Z][0-9][0-9]</param>'
API_KEY = "test-cwc-key"


def senate_schema():
    """CWC's published schema with MemberOffice widened to Senate codes, made here from the original.

    The receiver does not trust the copy the site ships: it widens the shared original itself.
    """
    original = SHARED_DATA / "cwc" / "cwc_schema_v2.rng"
    if not original.exists():  # Outside the campaign's workspace: fall back to the shipped copy.
        return etree.RelaxNG(etree.parse(str(BASE_DIR / "petitions" / "delivery" / "cwc_schema_v2.rng")))
    text = original.read_text()
    assert HOUSE_OFFICE in text
    return etree.RelaxNG(etree.fromstring(text.replace(HOUSE_OFFICE, SENATE_OFFICE).encode()))


class _Server:
    def __init__(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, text = receiver.handle(self, body)
                payload = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/xml; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        host, port = self.server.server_address
        return f"http://{host}:{port}/"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class CWCReceiver(_Server):
    """Answers like the Senate's CWC service: 201 for a valid new message, 400 with <Error> for an
    invalid one, 409 for a DeliveryId it has already accepted; or whatever `answer` says."""

    def __init__(self):
        super().__init__()
        self.schema = senate_schema()
        self.answer = None  # None: answer as CWC would; or a fixed (status, text).
        self.delay = 0.0
        self.accepted = Counter()  # DeliveryId -> how many times a 201 was given for it
        self.requests = []  # (DeliveryId or None, status, monotonic time)
        self.messages = []  # the parsed documents accepted

    @property
    def endpoint(self):
        return self.url + "v2/message"

    def handle(self, request, body):
        time.sleep(self.delay)
        query = parse_qs(urlsplit(request.path).query)
        status, text, delivery_id = self._answer(query, body)
        with self.lock:
            self.requests.append((delivery_id, status, time.monotonic()))
        return status, text

    def _answer(self, query, body):
        if query.get("apikey") != [API_KEY]:
            return 401, "<Errors><Error>Invalid API key</Error></Errors>", None
        try:
            document = etree.fromstring(body)
        except etree.XMLSyntaxError as exc:
            return 400, f"<Errors><Error>{exc}</Error></Errors>", None
        delivery_id = document.findtext("Delivery/DeliveryId")
        if not self.schema.validate(document):
            errors = "".join(f"<Error>{e.message}</Error>" for e in self.schema.error_log)
            return 400, f"<Errors>{errors}</Errors>", delivery_id
        if self.answer:
            return *self.answer, delivery_id
        with self.lock:
            if self.accepted[delivery_id]:
                return 409, "<Errors><Error>Duplicate DeliveryId</Error></Errors>", delivery_id
            self.accepted[delivery_id] += 1
            self.messages.append(document)
        return 201, "<Response>Accepted</Response>", delivery_id

    def posts(self, delivery_id=None):
        with self.lock:
            return [r for r in self.requests if delivery_id is None or r[0] == delivery_id]


class HTTPReceiver(_Server):
    """A CRM that records every POST; `answers` lists the statuses to give, then 200 for ever."""

    def __init__(self):
        super().__init__()
        self.answers = []
        self.received = []  # (headers, parsed body)

    def handle(self, request, body):
        if request.headers.get("Content-Type", "").startswith("application/json"):
            parsed = json.loads(body)
        else:
            parsed = {key: values[0] for key, values in parse_qs(body.decode()).items()}
        with self.lock:
            self.received.append((dict(request.headers), parsed))
            status = self.answers.pop(0) if self.answers else 200
        return status, f"<ok status='{status}'/>"


def cwc_settings(endpoint):
    """The server's CWC settings for a test, as Django settings and as a worker's environment."""
    return {
        "CWC_ENDPOINT": endpoint,
        "CWC_API_KEY": API_KEY,
        "CWC_DELIVERY_AGENT": "Free Belarusian Political Prisoners campaign",
        "CWC_DELIVERY_AGENT_ACK_EMAIL": "ack@campaign.example.org",
        "CWC_DELIVERY_AGENT_CONTACT_NAME": "Organizer Example",
        "CWC_DELIVERY_AGENT_CONTACT_EMAIL": "organizer@campaign.example.org",
        "CWC_DELIVERY_AGENT_CONTACT_PHONE": "202-555-0100",
        "CWC_CAMPAIGN_ID": "free-political-prisoners",
    }
