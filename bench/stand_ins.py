"""The outside world for the benchmark: an SMTP server and a CWC endpoint that accept everything.

Each writes one line per arrival to its log, `<unix time>\t<recipient or path>`, so the benchmark
can time confirmations and count letters. Both bind 127.0.0.1 and stop on SIGTERM.

    python bench/stand_ins.py SMTP_PORT CWC_PORT LOG_DIR
"""

import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiosmtpd.controller import Controller


class ArrivalLog:
    def __init__(self, path):
        self.file = open(path, "a", buffering=1)  # noqa: SIM115 - open for the process's life
        self.lock = threading.Lock()

    def write(self, what):
        with self.lock:
            self.file.write(f"{time.time():.6f}\t{what}\n")


class AcceptAll:
    def __init__(self, log):
        self.log = log

    async def handle_DATA(self, server, session, envelope):
        for rcpt in envelope.rcpt_tos:
            self.log.write(rcpt)
        return "250 Message accepted for delivery"


def cwc_handler(log):
    class CWCStandIn(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            log.write(self.path.split("?", 1)[0])
            body = b"<Response>Message accepted</Response>"
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return CWCStandIn


def main(smtp_port, cwc_port, log_dir):
    log_dir = Path(log_dir)
    smtp = Controller(AcceptAll(ArrivalLog(log_dir / "smtp.log")), hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.request_queue_size = 128
    cwc = ThreadingHTTPServer(("127.0.0.1", cwc_port), cwc_handler(ArrivalLog(log_dir / "cwc.log")))

    def stop(*_args):
        threading.Thread(target=cwc.shutdown).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("stand-ins ready", flush=True)
    cwc.serve_forever()
    smtp.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
