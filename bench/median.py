"""The median of several benchmark runs, with their min and max, as the Markdown table in docs/benchmarks.md.

.venv/bin/python bench/median.py bench/results/<date>-<commit>-{1,2,3}.json
"""

import json
import statistics
import sys
from pathlib import Path

# (label, path into the JSON, target key in run.TARGETS or None)
ROWS = [
    ("Petition page GET, req/s", ("phases", "page", "ok_per_s"), "page_rps"),
    ("Petition page GET, p50 ms", ("phases", "page", "p50_ms"), None),
    ("Petition page GET, p99 ms", ("phases", "page", "p99_ms"), "page_p99_ms"),
    ("Petition page GET, errors", ("phases", "page", "errors"), None),
    ("Petition page through nginx, flat out, req/s", ("phases", "proxy_page", "ok_per_s"), "proxy_page_rps"),
    ("Petition page through nginx, flat out, p99 ms", ("phases", "proxy_page", "p99_ms"), None),
    ("Petition page, no proxy (Django's cache), req/s", ("phases", "page_query", "ok_per_s"), None),
    ("Count endpoint GET, req/s", ("phases", "count", "ok_per_s"), "count_rps"),
    ("Count endpoint GET, p99 ms", ("phases", "count", "p99_ms"), None),
    ("Counter widget GET, req/s", ("phases", "widget", "ok_per_s"), None),
    ("Counter widget GET, p99 ms", ("phases", "widget", "p99_ms"), None),
    ("Signing flat out, signatures/s", ("phases", "sign", "signatures_per_s"), "sign_per_s"),
    ("Signing: form-token GET, p99 ms", ("phases", "sign", "form", "p99_ms"), None),
    ("Signing: POST, p50 ms", ("phases", "sign", "post", "p50_ms"), None),
    ("Signing: POST, p99 ms", ("phases", "sign", "post", "p99_ms"), "sign_p99_ms"),
    ("Signing: errors (HTTP, socket, quarantined)", ("phases", "sign", "errors"), "sign_errors"),
    ("Signing, mail worker stopped, signatures/s", ("phases", "alone", "signatures_per_s"), None),
    ("Signing, mail worker stopped: POST p99 ms", ("phases", "alone", "post", "p99_ms"), None),
    ("Signing as a browser (redirect followed), signatures/s", ("phases", "browser", "signatures_per_s"), None),
    ("Signing as a browser: redirect GET, p99 ms", ("phases", "browser", "signed", "p99_ms"), None),
    (
        "Signing as a browser: the web's CPU per signature, ms",
        ("phases", "browser", "cpu_ms_per_signature", "gunicorn"),
        None,
    ),
    ("Signing flat out: the web's CPU per signature, ms", ("phases", "sign", "cpu_ms_per_signature", "gunicorn"), None),
    ("Signing paced at 100/s: achieved, signatures/s", ("phases", "paced", "signatures_per_s"), None),
    ("Confirmation e-mail while signing, p50 s", ("phases", "paced", "confirmation", "p50_s"), None),
    ("Confirmation e-mail while signing, p95 s", ("phases", "paced", "confirmation", "p95_s"), "confirmation_p95_s"),
    ("Confirmation backlog drained, e-mails/s", ("phases", "drain", "emails_per_s"), None),
    ("Letters by e-mail, letters/s", ("phases", "email", "letters_per_s"), "email_letters_per_s"),
    ("Letters through CWC, letters/s", ("phases", "cwc", "letters_per_s"), "cwc_letters_per_s"),
    ("gunicorn worker, peak RSS MB", ("memory", "gunicorn", "max_worker_peak_rss_mb"), "gunicorn_worker_rss_mb"),
    ("Celery mail worker, peak RSS MB", ("memory", "celery_mail", "max_worker_peak_rss_mb"), "celery_worker_rss_mb"),
    (
        "Celery letters worker, peak RSS MB",
        ("memory", "celery_letters", "max_worker_peak_rss_mb"),
        "celery_worker_rss_mb",
    ),
]


def _get(result, path):
    for key in path:
        result = result.get(key) if isinstance(result, dict) else None
    return result


def main(paths):
    sys.path.insert(0, str(Path(__file__).parent))
    from run import TARGETS, verdict

    results = [json.loads(Path(path).read_text()) for path in paths]
    print("| Measure | Median | Min | Max | Target | Median meets it |")
    print("|---|---:|---:|---:|---|---|")
    for label, path, target in ROWS:
        values = [v for v in (_get(r, path) for r in results) if v is not None]
        if not values:
            continue
        median = statistics.median(values)
        goal = f"{TARGETS[target][0]} {TARGETS[target][1]}" if target else ""
        met = verdict(target, median) if target else ""
        print(f"| {label} | {median:g} | {min(values):g} | {max(values):g} | {goal} | {met} |")
    loads = [r["machine"]["load_average_at_start"][0] for r in results]
    print(f"\nLoad average (1 min) at the start of each run: {', '.join(str(x) for x in loads)}.")
    speeds = [
        f"{r['machine']['reference_ms_at_start']} / {r['machine'].get('reference_ms_at_end')}"
        for r in results
        if "reference_ms_at_start" in r["machine"]
    ]
    if speeds:
        print(f"Reference work (run.reference_ms) at the start / end of each run, ms: {', '.join(speeds)}.")


if __name__ == "__main__":
    main(sys.argv[1:])
