"""CPU per request with a bespoke part against the plain library or ORM way, in alternating rounds.

    .venv/bin/python bench/plain_cpu.py [--count 300] [--rounds 4]

Two parts are measured, each against what it replaces, with the requests of bench/sign_cpu.py (a
signer's form-token GET and POST) and a cookie-less GET of the petition page, in one process
against PostgreSQL and Redis, as time.process_time() per request:

- "kept": the rows every signature reads, kept per process for models.KEPT_SECONDS, against
  reading them afresh on every request (KEPT_SECONDS = 0, the ORM's way);
- "csp": campaign.security.ContentSecurityPolicyMiddleware against django-csp's own
  csp.middleware.CSPMiddleware.

Each round runs every variant once, in turn, so that the machine's drift falls on both alike; the
table gives the median of the rounds and the change from the bespoke part to the plain way. CPU time
is what it takes, whatever else the shared machine runs; PostgreSQL's own CPU is left out. Its
stores are bench/sign_cpu.py's (SIGN_CPU_DATABASE_URL, SIGN_CPU_REDIS_URL), made afresh.
"""

import argparse
import io
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import PAGE, reset_stores  # noqa: E402
from sign_cpu import DATABASE_URL, REDIS_URL, Signer, cpu_ms, setup_django  # noqa: E402

BESPOKE_CSP = "campaign.security.ContentSecurityPolicyMiddleware"
PLAIN_CSP = "csp.middleware.CSPMiddleware"


class PlainSigner(Signer):
    """bench/sign_cpu.py's signer, and a visitor of the crowd: a GET of the petition page without cookies."""

    def page(self, n):
        environ = {
            "REQUEST_METHOD": "GET", "PATH_INFO": PAGE, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""),
            "HTTP_HOST": "127.0.0.1", "HTTP_X_FORWARDED_PROTO": "https", "HTTP_ACCEPT_LANGUAGE": "be",
            "HTTP_X_FORWARDED_FOR": f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}",
        }  # fmt: skip
        status = []
        answer = self.app(environ, lambda line, headers, exc_info=None: status.append(line))
        b"".join(answer)
        answer.close()
        assert status[0].startswith("200"), status[0]


def variants():
    """name -> (part, a function that switches the process to it and returns a Signer)."""
    from django.conf import settings

    from petitions import models

    kept_seconds = models.KEPT_SECONDS

    def switch(kept, csp):
        models.KEPT_SECONDS = kept
        models.forget_kept()
        settings.MIDDLEWARE = [csp if name in (BESPOKE_CSP, PLAIN_CSP) else name for name in settings.MIDDLEWARE]
        return PlainSigner()  # a new handler loads the middleware now in settings

    return {
        "bespoke (kept, CSP built once)": lambda: switch(kept_seconds, BESPOKE_CSP),
        "kept off (read afresh)": lambda: switch(0, BESPOKE_CSP),
        "django-csp as it comes": lambda: switch(kept_seconds, PLAIN_CSP),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300, help="requests of each kind per round")
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds")
    args = parser.parse_args()

    reset_stores(DATABASE_URL, REDIS_URL)
    setup_django()
    from django.core.management import call_command

    call_command("collectstatic", "--noinput", verbosity=0)  # the page links the hashed names
    runs = {}
    first = 10_000
    for _round in range(args.rounds + 1):  # the first round is a warm-up, not counted
        for name, make in variants().items():
            signer = make()
            page = signer.page
            for n in range(first, first + 20):  # this handler's first requests: imports, templates
                signer.form_token(n)
                signer.post(n)
                page(n)
            first += 20
            measured = {
                "form-token GET": cpu_ms(signer.form_token, first, args.count),
                "signing POST": cpu_ms(signer.post, first, args.count),
                "page GET, no cookie": cpu_ms(page, first, args.count),
            }
            first += args.count
            if _round:
                for kind, ms in measured.items():
                    runs.setdefault((name, kind), []).append(ms)
    names = list(variants())
    kinds = ["form-token GET", "signing POST", "page GET, no cookie"]
    print(f"median of {args.rounds} alternating rounds, {args.count} requests of each kind per round, ms CPU")
    print(f"{'variant':<34}" + "".join(f"{kind:>22}" for kind in kinds))
    for name in names:
        cells = []
        for kind in kinds:
            median = statistics.median(runs[(name, kind)])
            base = statistics.median(runs[(names[0], kind)])
            change = "" if name == names[0] else f" ({(median / base - 1) * 100:+.0f} %)"
            cells.append(f"{median:.3f}{change}")
        print(f"{name:<34}" + "".join(f"{cell:>22}" for cell in cells))
    print("range per variant and kind (min to max):")
    for (name, kind), values in runs.items():
        print(f"  {name:<34} {kind:<22} {min(values):.3f} to {max(values):.3f}")


if __name__ == "__main__":
    main()
