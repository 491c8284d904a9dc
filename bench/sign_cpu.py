"""CPU per signing request in one process: form-token GET, POST and "signed" page, sent to Django's WSGI handler.

    .venv/bin/python bench/sign_cpu.py [--count 600] [--profile] [--queries]

`make bench` measures signing on the whole host, where gunicorn, the workers, PostgreSQL and wrk
share two cores and the figure moves with the machine's noise. This runs the same two requests a
signer makes there (the form-token GET, then the POST with its CSRF token, form stamp, a fresh
address and its own client address in X-Forwarded-For) in this process, without a server or a
thread in between, against PostgreSQL and Redis, and prints time.process_time() per request: what
the application itself costs. It also times the third request a browser makes and `make bench`
leaves out (wrk does not follow redirects): the "Check your inbox" page the POST redirects to.
--profile prints cProfile's top entries for the POST; --queries lists the SQL one POST runs. The
machine is shared: compare versions in alternating runs.

Its database (SIGN_CPU_DATABASE_URL, default campaign_signcpu) is dropped and made afresh; its Redis
database (SIGN_CPU_REDIS_URL, default db 5) is emptied. The confirmation tasks the POSTs queue stay
in that Redis database: no worker runs here.
"""

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "bench"))

from run import FORM_PATH, LEGISLATORS, PAGE, SLUG, reset_stores  # noqa: E402

SIGNED_PATH = f"/be/p/{SLUG}/signed/"
DATABASE_URL = os.environ.get("SIGN_CPU_DATABASE_URL", "postgres://campaign:campaign@127.0.0.1:5432/campaign_signcpu")
REDIS_URL = os.environ.get("SIGN_CPU_REDIS_URL", "redis://127.0.0.1:6379/5")
ENV = {
    "DJANGO_SETTINGS_MODULE": "campaign.settings",
    "DEBUG": "0",
    "SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
    "CAMPAIGN_VAR_DIR": str(BASE_DIR / "var" / "sign-cpu"),
    "STATIC_ROOT": str(BASE_DIR / "var" / "sign-cpu" / "static"),
    "DATABASE_URL": DATABASE_URL,
    "REDIS_URL": REDIS_URL,
    "ALLOWED_HOSTS": "127.0.0.1",
    "SITE_URL": "https://127.0.0.1",
    "TRUSTED_PROXY_COUNT": "1",
    # 256 signers share each /24 here: lifted, so that they stay pending as a real crowd's would.
    "SIGN_RATES_PER_NETWORK": "100000/m",
    "LOG_LEVEL": "WARNING",
}


def setup_django():
    os.environ.update(ENV)
    Path(ENV["STATIC_ROOT"]).mkdir(parents=True, exist_ok=True)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)  # the "signed" page names static files
    call_command("import_legislators", str(LEGISLATORS), verbosity=0)
    call_command("load_demo", verbosity=0)


class Signer:
    """A browser with script, as bench/load.lua plays one: a token first, then the form."""

    def __init__(self):
        from django.core.handlers.wsgi import WSGIHandler
        from django.middleware import csrf

        from petitions.signing import abuse

        self.app = WSGIHandler()
        # One CSRF cookie and token for every request: how they are made is not what is measured.
        self.secret = csrf._get_new_csrf_string()
        self.token = csrf._mask_cipher_secret(self.secret)
        # Each stamp signs once (abuse.form_stamp_mark): a fresh one per signature, dated back so
        # that it is old enough, as the form a signer fetched some seconds before sending it.
        self.stamp = lambda: abuse.form_started_token(time.time() - 60)

    def call(self, method, path, n, body=b""):
        environ = {
            "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
            "CONTENT_TYPE": "application/x-www-form-urlencoded", "CONTENT_LENGTH": str(len(body)),
            "HTTP_HOST": "127.0.0.1", "HTTP_X_FORWARDED_PROTO": "https", "HTTP_ORIGIN": "https://127.0.0.1",
            # Each signer from an address of its own, as the load balancer would pass it: rate limits stay on.
            "HTTP_X_FORWARDED_FOR": f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}",
            "HTTP_COOKIE": f"csrftoken={self.secret}",
        }  # fmt: skip
        status = []
        answer = self.app(environ, lambda line, headers, exc_info=None: status.append(line))
        b"".join(answer)
        answer.close()
        return status[0]

    def form_token(self, n):
        status = self.call("GET", FORM_PATH, n)
        assert status.startswith("200"), status
        return status

    def post(self, n):
        email = f"c{time.time_ns()}.{n}@bench.example.org"  # a fresh signer each time
        fields = {
            "title": "Ms.", "first_name": "Ada", "last_name": "Bench", "email": email,
            "address": "1007 Grand Ave", "city": "Des Moines", "state": "IA", "zip_code": "50309", "country": "",
            "phone": "", "note": "", "recipients": ["senators", "president"], "consent": "on", "website": "",
            "form_started": self.stamp(), "csrfmiddlewaretoken": self.token,
        }  # fmt: skip
        status = self.call("POST", PAGE, n, urlencode(fields, doseq=True).encode())
        # Anything but the redirect to the "signed" page is a failure, as in the benchmark.
        assert status.startswith("302"), status
        return status

    def signed_page(self, n):
        """The page the POST redirects to, as the browser that signed asks for it: with its CSRF cookie."""
        status = self.call("GET", SIGNED_PATH, n)
        assert status.startswith("200"), status
        return status


def cpu_ms(function, first, count):
    started = time.process_time()
    for n in range(first, first + count):
        function(n)
    return (time.process_time() - started) / count * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=600, help="requests of each kind to time")
    parser.add_argument("--profile", action="store_true", help="cProfile the POSTs (a separate pass)")
    parser.add_argument("--queries", action="store_true", help="print the SQL of one POST")
    args = parser.parse_args()

    reset_stores(DATABASE_URL, REDIS_URL)
    setup_django()
    from django.conf import settings
    from django.db import connection, reset_queries

    signer = Signer()
    for n in range(50):  # warm-up: imports, templates, connections
        signer.form_token(n)
        signer.post(n)
        signer.signed_page(n)
    count = args.count
    post_ms = cpu_ms(signer.post, 1000, count)
    token_ms = cpu_ms(signer.form_token, 1000, count)
    signed_ms = cpu_ms(signer.signed_page, 1000, count)
    print(f"signing POST        {post_ms:6.2f} ms CPU per request ({count} requests)")
    print(f"form-token GET      {token_ms:6.2f} ms CPU per request ({count} requests)")
    print(f"one signature       {post_ms + token_ms:6.2f} ms CPU in the web process, without a server")
    print(f"signed page GET     {signed_ms:6.2f} ms CPU per request ({count} requests)")
    print(f"with the redirect   {post_ms + token_ms + signed_ms:6.2f} ms CPU: a browser's three requests")
    if args.queries:
        settings.DEBUG = True
        reset_queries()
        signer.post(999_999)
        print(f"\n{len(connection.queries)} queries in one POST:")
        for query in connection.queries:
            print("  " + query["sql"][:160])
        settings.DEBUG = False
    if args.profile:
        profile = cProfile.Profile(time.process_time)  # CPU, not the wall clock
        profile.enable()
        for n in range(100_000, 100_000 + count):
            signer.post(n)
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(45)


if __name__ == "__main__":
    main()
