"""The load benchmark: the production configuration on loopback, driven by wrk, measured against its targets.

    .venv/bin/python bench/run.py            # make bench: about eight minutes
    .venv/bin/python bench/run.py --smoke    # make bench-smoke: a few seconds of tiny load

It makes its own database (BENCH_DATABASE_URL, default campaign_bench on 127.0.0.1:5432) and
empties its own Redis database (BENCH_REDIS_URL, default db 9), starts gunicorn with the repo's
gunicorn.conf.py, one Celery worker for the mail queue and one for the letters queue (bin/entrypoint),
an SMTP server and a CWC endpoint that accept everything (bench/stand_ins.py), imports the senators,
and then runs each phase for a fixed time with its warm-up left out. It prints one table and writes
it as JSON under bench/results/. Everything binds 127.0.0.1 and stops by itself.

Besides the targets' measures it signs flat out once more with the mail worker stopped ("mail
elsewhere"): what this host takes when the mail worker runs on a host of its own, the capacity
plan's first step. The confirmations queue meanwhile and go out in the drain that follows.

gunicorn runs in a control group of its own, as a service manager would start it, and the mail
worker reads its CPU pressure (WEB_CPU_PRESSURE_FILE): confirmations wait while the web is short
of CPU. Where no group can be made (no cgroup v2, not root) they never wait, and the JSON says so.
`--set WEB_CPU_PRESSURE_FILE=` runs without it.
"""

import argparse
import contextlib
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
BENCH_DIR = BASE_DIR / "bench"
LEGISLATORS = BASE_DIR.parent / "shared" / "data" / "congress-legislators" / "legislators-current.json"
SLUG = "free-political-prisoners"
PAGE = f"/be/p/{SLUG}/"
COUNT = f"/api/petitions/{SLUG}/count.json"
WIDGET = f"/be/p/{SLUG}/widget/"
# Where a signer gets the form's CSRF token and start stamp, and where the form posts.
FORM_PATH = f"/be/p/{SLUG}/form-token/"
SIGN_PATH = PAGE

# The targets for a 2-core machine at 16 connections: a surge of 2,000 signatures a minute while
# 80,000 to 100,000 people watch the counter (docs/capacity.md).
TARGETS = {
    "page_rps": (">=", 1500),
    "page_p99_ms": ("<", 50),
    "count_rps": (">=", 2500),
    "sign_per_s": (">=", 250),
    "sign_p99_ms": ("<", 200),
    "sign_errors": ("==", 0),
    "confirmation_p95_s": ("<", 5),
    "email_letters_per_s": (">=", 200),
    "cwc_letters_per_s": (">=", 100),
    "gunicorn_worker_rss_mb": ("<", 80),
    "celery_worker_rss_mb": ("<", 120),
    # The crowd's petition page through nginx (deploy/nginx.conf), as compose.yaml serves it.
    "proxy_page_rps": (">=", 10000),
}

# The workers' CPU weight against the web's, as compose.yaml sets it (cpu_shares 128 against 1024):
# the nice value whose weight is nearest, 137 against 1024 (Stack.lower_cpu_weight).
WORKER_NICE = 9

MODES = {
    # connections, warm-up and measured seconds for reading pages, signing, signing at a set pace.
    "full": {
        "connections": 16,
        "warmup": 5,
        "read_seconds": 15,
        "sign_warmup": 8,
        "sign_seconds": 60,
        "paced_rate": 100,
        "paced_seconds": 20,
        "letters": {"email": 3000, "cwc": 1500},
        "beside_cwc": {"cwc": 200, "email_pairs": 40},
        "drain_seconds": 60,
        "delivery_timeout": 90,
        "sign_min_seconds": None,
    },
    "smoke": {
        "connections": 2,
        "warmup": 1,
        "read_seconds": 2,
        "sign_warmup": 2,
        "sign_seconds": 3,
        "paced_rate": 4,
        "paced_seconds": 3,
        "letters": {"email": 20, "cwc": 20},
        "beside_cwc": {"cwc": 40, "email_pairs": 4},
        "drain_seconds": 20,
        "delivery_timeout": 30,
        # The smoke run is shorter than the production minimum of 3 s between form and POST.
        "sign_min_seconds": 1,
    },
}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout, what=None):
    """Poll PREDICATE until it holds; after TIMEOUT seconds return False, or raise when WHAT names it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    if what:
        raise RuntimeError(f"timed out after {timeout}s waiting for {what}")
    return False


def percentile(values, q):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


# --- The stack ----------------------------------------------------------------------------------


def reset_stores(database_url, redis_url):
    """Drop and make afresh the PostgreSQL database of DATABASE_URL, and empty REDIS_URL's database if given."""
    import psycopg
    import redis

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    if redis_url:
        redis.Redis.from_url(redis_url).flushdb()


class Stack:
    """PostgreSQL and Redis (already running), and the processes the benchmark starts itself."""

    def __init__(self, mode, var_dir, database_url, redis_url, overrides, worker_nice=WORKER_NICE):
        self.mode = mode
        self.worker_nice = worker_nice
        self.worker_weight = {}
        self.var_dir = var_dir
        self.logs = var_dir / "logs"
        self.database_url = database_url
        self.redis_url = redis_url
        self.port = free_port()
        self.smtp_port = free_port()
        self.cwc_port = free_port()
        self.processes = {}
        self.web_cgroup = None
        # A clean environment, so that settings exported in the shell (or by the test settings) do not leak in.
        # Debian's faketime (LD_PRELOAD, FAKETIME*) is kept, so that a run under it (CI's run inside the
        # Senate's maintenance window) moves the whole stack's clock, not only this script's.
        keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "LD_PRELOAD", "FAKETIME", "FAKETIME_SHARED")
        self.env = {name: os.environ[name] for name in keep if name in os.environ}
        self.env.update(
            {
                "DJANGO_SETTINGS_MODULE": "campaign.settings",
                "DEBUG": "0",
                "SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
                "CAMPAIGN_VAR_DIR": str(var_dir / "site"),
                "STATIC_ROOT": str(var_dir / "static"),
                "DATABASE_URL": database_url,
                "REDIS_URL": redis_url,
                "PORT": str(self.port),
                "BIND_HOST": "127.0.0.1",
                "ALLOWED_HOSTS": "127.0.0.1",
                "SITE_URL": f"https://127.0.0.1:{self.port}",
                "EMAIL_HOST": "127.0.0.1",
                "EMAIL_PORT": str(self.smtp_port),
                # The load balancer in front appends the client's address: one trusted proxy.
                "TRUSTED_PROXY_COUNT": "1",
                "CWC_ENDPOINT": f"http://127.0.0.1:{self.cwc_port}/v2/message",
                "CWC_API_KEY": "bench",
                "CWC_DELIVERY_AGENT": "Campaign benchmark",
                "CWC_DELIVERY_AGENT_ACK_EMAIL": "ack@bench.example.org",
                "CWC_DELIVERY_AGENT_CONTACT_NAME": "Bench Contact",
                "CWC_DELIVERY_AGENT_CONTACT_EMAIL": "contact@bench.example.org",
                "CWC_DELIVERY_AGENT_CONTACT_PHONE": "555-555-0100",
                # Lifted for the run: we measure our side, not the Senate's quota.
                "CWC_RATE_LIMIT": "1000000",
                # The stand-in receiver is not the Senate: its maintenance windows would hold every CWC
                # letter for hours when the bench runs inside one (Sunday 00-06, Wednesday 05-07 Eastern).
                "CWC_MAINTENANCE_WINDOWS": "",
                # Each signature comes from an address of its own (bench/load.lua), but 256 of them share
                # a /24: the limits per network would quarantine the crowd the bench is made of.
                "SIGN_RATES_PER_NETWORK": "100000/m",
                "RESEND_RATES_PER_NETWORK": "100000/m",
                "CONFIRM_RATES_PER_NETWORK": "100000/m",
                "CONFIRM_RATES_PER_IP": "100000/m",
                # As compose.yaml runs gunicorn: behind nginx, which writes the access line.
                "WEB_ACCESS_LOG": "",
                "PYTHON": sys.executable,
                "PYTHONDONTWRITEBYTECODE": "1",
            }
        )
        self.env.update(overrides)

    def manage(self, *args):
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=self.env, capture_output=True)
        if done.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout.decode()}{done.stderr.decode()}")

    def prepare(self):
        shutil.rmtree(self.var_dir / "site", ignore_errors=True)
        self.logs.mkdir(parents=True, exist_ok=True)
        for log in self.logs.glob("*.log"):
            log.unlink()
        reset_stores(self.database_url, self.redis_url)
        self.manage("collectstatic", "--noinput")
        self.manage("migrate", "--noinput")
        self.manage("import_legislators", str(LEGISLATORS))
        self.manage("load_demo")

    def start(self, name, command, cgroup=None):
        """Start NAME in a session of its own and, when CGROUP is given, in that control group from its
        first instruction: every process it forks (gunicorn's workers, their replacements) is in it too."""
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process

        def enter_cgroup():
            (cgroup / "cgroup.procs").write_text(str(os.getpid()))

        options = {"stdout": log, "stderr": subprocess.STDOUT, "start_new_session": True}
        if cgroup:
            options["preexec_fn"] = enter_cgroup
        self.processes[name] = (subprocess.Popen(command, cwd=BASE_DIR, env=self.env, **options), log)

    @contextlib.contextmanager
    def paused(self, name):
        """NAME's processes stopped (SIGSTOP) for the block: as if that service ran on another host."""
        group = self.processes[name][0].pid  # started in a session of its own: its group is its pid
        os.killpg(group, signal.SIGSTOP)
        try:
            yield
        finally:
            os.killpg(group, signal.SIGCONT)

    def lower_cpu_weight(self, name, nice):
        """Give NAME's processes the CPU weight compose.yaml gives the workers; what the kernel then says.

        compose.yaml gives each worker `cpu_shares: 128` against the web's default 1024: a host that
        is short of CPU in a surge serves the signers first, and the e-mails wait. The benchmark's
        processes all run in one control group, where Linux shares the CPU between sessions first
        ("autogroups"; each process started here is a session of its own), and a session's nice
        value sets its weight as cpu_shares sets a container's: nice 9 weighs 137 against 1024.
        Where autogroups are off, the processes' own nice value is that weight.
        """
        group = self.pid(name)  # started in a session of its own: its group is its pid
        os.setpriority(os.PRIO_PGRP, group, nice)
        autogroup = Path(f"/proc/{group}/autogroup")
        try:
            autogroup.write_text(str(nice))
            return autogroup.read_text().strip()
        except OSError:
            return f"nice {os.getpriority(os.PRIO_PGRP, group)} (no autogroup)"

    def log_text(self, name):
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def start_all(self):
        self.start("stand_ins", [sys.executable, str(BENCH_DIR / "stand_ins.py"), str(self.smtp_port),
                                 str(self.cwc_port), str(self.logs)])  # fmt: skip
        if "WEB_CPU_PRESSURE_FILE" not in self.env:
            self.web_cgroup = make_web_cgroup()
            if self.web_cgroup:
                self.env["WEB_CPU_PRESSURE_FILE"] = str(self.web_cgroup / "cpu.pressure")
        self.start("gunicorn", [str(BASE_DIR / "bin" / "entrypoint"), "web"], cgroup=self.web_cgroup)
        self.start("celery_mail", [str(BASE_DIR / "bin" / "entrypoint"), "worker", "mail"])
        self.start("celery_letters", [str(BASE_DIR / "bin" / "entrypoint"), "worker", "letters"])
        wait_until(lambda: "stand-ins ready" in self.log_text("stand_ins"), 30, "the stand-ins")
        wait_until(self.web_ready, 60, "gunicorn")
        for name in ("celery_mail", "celery_letters"):
            wait_until(lambda name=name: "ready." in self.log_text(name), 60, f"{name} to start")
        for name, (process, _log) in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited:\n{self.log_text(name)[-3000:]}")
        # After "ready.": the prefork children exist, and any started later inherit the weight.
        self.worker_weight = {
            name: self.lower_cpu_weight(name, self.worker_nice) for name in ("celery_mail", "celery_letters")
        }

    def web_ready(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as answer:
                return answer.status == 200
        except OSError:
            return False

    def warm_up(self, rounds=10):
        """Load each page a few times in every worker: imports and template compilation stay out of the runs."""

        def fetch(path):
            request = urllib.request.Request(
                f"http://127.0.0.1:{self.port}{path}", headers={"X-Forwarded-Proto": "https"}
            )
            with urllib.request.urlopen(request, timeout=30) as answer:
                answer.read()

        paths = [PAGE, COUNT, WIDGET, FORM_PATH] * rounds
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(fetch, paths))

    def pid(self, name):
        return self.processes[name][0].pid

    def stop(self):
        for _name, (process, _log) in self.processes.items():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        for _name, (process, log) in self.processes.items():
            try:
                process.wait(max(1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
            log.close()
        if self.web_cgroup:
            with contextlib.suppress(OSError):  # a straggler still in it: the next run reuses the group
                self.web_cgroup.rmdir()

    def web_cpu_stall_us(self):
        """Microseconds so far in which some of the web's work waited for a CPU (PSI "some total"), or None."""
        if not self.web_cgroup:
            return None
        line = (self.web_cgroup / "cpu.pressure").read_text().splitlines()[0]
        return int(line.rsplit("total=", 1)[1])


def make_web_cgroup():
    """A control group for gunicorn alone, as systemd or Docker gives a service one; None where none can be made.

    Under cgroup v2 (or v1's "unified" hierarchy beside it) each group has a `cpu.pressure` file: how
    long some of its processes waited for a CPU. On this VM the v2 hierarchy has no controllers, so
    the group changes no scheduling: it only measures.
    """
    for line in Path("/proc/mounts").read_text().splitlines():
        _source, mount, kind, *_rest = line.split()
        if kind != "cgroup2":
            continue
        group = Path(mount) / "campaign-bench-web"
        try:
            group.mkdir(exist_ok=True)
        except OSError:
            continue
        if (group / "cpu.pressure").exists():
            return group
    return None


# --- The proxy ----------------------------------------------------------------------------------

NGINX = "/usr/sbin/nginx"


def render_proxy_config(listen, upstream, cache_dir):
    """deploy/nginx.conf with its placeholders filled, as the official image's envsubst fills them."""
    text = (BASE_DIR / "deploy" / "nginx.conf").read_text()
    for name, value in (("PROXY_LISTEN", listen), ("PROXY_UPSTREAM", upstream), ("PROXY_CACHE_DIR", cache_dir)):
        text = text.replace("${" + name + "}", str(value))
    return text


def start_proxy(stack):
    """Debian's nginx in front of gunicorn with the repository's configuration, as compose.yaml's `proxy`
    service runs it: the http block of the official image's nginx.conf (one worker per core, an access
    log, sendfile) around deploy/nginx.conf. Returns its port; Stack.stop() stops it with the rest."""
    directory = stack.var_dir / "nginx"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    port = free_port()
    site = directory / "site.conf"
    site.write_text(render_proxy_config(f"127.0.0.1:{port}", f"127.0.0.1:{stack.port}", directory / "cache"))
    # As root, the workers keep root's rights so that they can write the cache under var/.
    user = "user root;" if os.geteuid() == 0 else ""
    temp = " ".join(f"{kind}_temp_path {directory / kind};" for kind in ("client_body", "proxy"))
    (directory / "nginx.conf").write_text(
        f"daemon off; {user} worker_processes auto; pid {directory / 'nginx.pid'}; error_log stderr warn;\n"
        "events { worker_connections 1024; }\n"
        f"http {{ access_log {stack.logs / 'nginx-access.log'}; sendfile on; keepalive_timeout 65; {temp}\n"
        f"include {site}; }}\n"
    )
    stack.start("nginx", [NGINX, "-p", str(directory), "-c", str(directory / "nginx.conf")])

    def listening():
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    wait_until(listening, 15, "nginx")
    return port


def _wrk_plain(url, seconds, connections):
    """Plain wrk (no Lua: the client's own cost stays small beside nginx's) against URL; its summary."""
    command = ["wrk", f"-t{min(connections, os.cpu_count() or 1)}", f"-c{connections}", f"-d{math.ceil(seconds)}s",
               "--latency", "--timeout", "10s", "-H", "X-Forwarded-Proto: https", "-H", "Accept-Language: be",
               url]  # fmt: skip
    out = subprocess.run(command, check=True, capture_output=True, text=True, timeout=seconds + 60).stdout
    units = {"us": 0.001, "ms": 1, "s": 1000}

    def latency(q):
        match = re.search(rf"^\s+{q}%\s+([\d.]+)(us|ms|s)$", out, re.MULTILINE)
        return round(float(match.group(1)) * units[match.group(2)], 2) if match else None

    total = int(re.search(r"(\d+) requests in", out).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non_2xx.group(1)) if non_2xx else 0) + (sum(map(int, socket_errors.groups())) if socket_errors else 0)
    return {
        "requests": total,
        "ok_per_s": round((total - errors) / math.ceil(seconds), 1),
        "p50_ms": latency(50),
        "p99_ms": latency(99),
        "errors": errors,
    }


def proxy_page_phase(stack, config, port):
    """The petition page through nginx on PORT, flat out: a warm-up, then plain wrk for the read phases' time."""
    url = f"http://127.0.0.1:{port}{PAGE}"
    _wrk_plain(url, config["warmup"], config["connections"])
    cpu_before = cpu_by_role(stack)
    result = _wrk_plain(url, config["read_seconds"], config["connections"])
    cpu_after = cpu_by_role(stack)
    # Where the time goes: nginx against gunicorn (a render every few seconds) and wrk, per request.
    if result["requests"]:
        result["cpu_us_per_request"] = {
            role: round((cpu_after[role] - cpu_before.get(role, 0)) * 1e6 / result["requests"], 1)
            for role in ("nginx", "gunicorn", "wrk")
        }
    return result


def result_path(started, mode):
    """bench/results/<date>-<commit>[-smoke]-<n>.json: the set of runs of one commit on one day."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=BASE_DIR, capture_output=True, text=True
    ).stdout.strip()
    stem = f"{started:%Y-%m-%d}-{commit or 'nogit'}" + ("-smoke" if mode == "smoke" else "")
    n = 1
    while (BENCH_DIR / "results" / f"{stem}-{n}.json").exists():
        n += 1
    return BENCH_DIR / "results" / f"{stem}-{n}.json"


# --- Memory -------------------------------------------------------------------------------------


def _children(pid):
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            children += [int(c) for c in (task / "children").read_text().split()]
    return children


def _rss_kb(pid):
    """(current, peak) resident size of PID in kB, from /proc; peak is the kernel's high-water mark."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    fields = dict(re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", status, re.MULTILINE))
    return int(fields.get("VmRSS", 0)), int(fields.get("VmHWM", 0))


class MemorySampler(threading.Thread):
    """Samples the peak resident size of every gunicorn worker and Celery process twice a second.

    gunicorn replaces a worker after WEB_MAX_REQUESTS requests, so workers come and go under load:
    each one is followed from its own /proc entry until it exits.
    """

    def __init__(self, roots):
        super().__init__(daemon=True)
        self.roots = roots  # role -> main pid
        self.peaks = {}  # (role, pid, is_main) -> peak kB
        self.stopping = threading.Event()

    def sample(self):
        for role, root in self.roots.items():
            for pid, is_main in [(root, True)] + [(child, False) for child in _children(root)]:
                rss = _rss_kb(pid)
                if rss:
                    key = (role, pid, is_main)
                    self.peaks[key] = max(self.peaks.get(key, 0), *rss)

    def run(self):
        while not self.stopping.wait(0.5):
            self.sample()

    def stop(self):
        self.sample()
        self.stopping.set()

    def summary(self):
        out = {}
        for (role, pid, is_main), kb in sorted(self.peaks.items()):
            kind = "master" if (role == "gunicorn" and is_main) else ("main" if is_main else "child")
            entry = out.setdefault(role, {"processes": []})
            entry["processes"].append({"pid": pid, "kind": kind, "peak_rss_mb": round(kb / 1024, 1)})
        for entry in out.values():
            workers = [p["peak_rss_mb"] for p in entry["processes"] if p["kind"] != "master"]
            entry["max_worker_peak_rss_mb"] = max(workers) if workers else None
            entry["process_count"] = len(entry["processes"])
        return out


# --- CPU ----------------------------------------------------------------------------------------

_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid, with_reaped=False):
    """User and system CPU of PID (and, WITH_REAPED, of the children it has waited for), in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if with_reaped:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / _TICKS


def cpu_by_role(stack):
    """CPU seconds used so far by each part: our processes, PostgreSQL, Redis, and wrk.

    gunicorn's replaced workers and Celery's children count through their parent once reaped;
    wrk runs as this process's child. PostgreSQL and Redis count every process of theirs on the
    host, so the figure is only clean on a quiet machine, as the benchmark asks anyway. A
    PostgreSQL backend that ends (its gunicorn worker replaced after WEB_MAX_REQUESTS) counts
    through the postmaster that reaped it: without that, the CPU of every earlier phase it served
    left the total mid-phase, and the phase's share came out near zero.
    """
    roles = {}
    for role, (process, _log) in stack.processes.items():
        roles[role] = _cpu_seconds(process.pid, with_reaped=True) + sum(
            _cpu_seconds(child) for child in _children(process.pid)
        )
    for role, command in (("postgresql", "postgres"), ("redis", "redis-server")):
        roles[role] = 0.0
        for stat in Path("/proc").glob("[0-9]*/comm"):
            with contextlib.suppress(OSError):
                if stat.read_text().strip().startswith(command):
                    roles[role] += _cpu_seconds(stat.parent.name, with_reaped=True)
    own = os.times()
    roles["wrk"] = own.children_user + own.children_system
    return roles


# --- Load ---------------------------------------------------------------------------------------


def run_wrk(
    stack, name, mode, path, seconds, connections, rate=0, min_age=0, phase=0, form_path=None, random_query=False,
    port=None, follow=False,
):  # fmt: skip
    """Run wrk with bench/load.lua for SECONDS against PORT (gunicorn's by default); return its samples
    (kind, sent, latency, status) and errors."""
    port = port or stack.port
    samples_file = stack.logs / f"wrk-{name}.samples"
    env = dict(os.environ)
    env.update(
        BENCH_MODE=mode,
        BENCH_PATH=path,
        BENCH_FORM_PATH=form_path or path,
        BENCH_RATE=str(rate / connections if rate else 0),
        BENCH_MIN_AGE=str(min_age),
        BENCH_PHASE=str(phase),
        BENCH_ORIGIN=f"https://127.0.0.1:{stack.port}",
        BENCH_SAMPLES=str(samples_file),
        BENCH_RANDOM_QUERY="1" if random_query else "0",
        BENCH_FOLLOW="1" if follow else "0",
    )
    command = ["wrk", f"-t{connections}", f"-c{connections}", f"-d{math.ceil(seconds)}s", "--timeout", "10s",
               "-s", str(BENCH_DIR / "load.lua"), f"http://127.0.0.1:{port}"]  # fmt: skip
    started = time.time()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, timeout=seconds + 60)
    samples, errors = [], {}
    for line in samples_file.read_text().splitlines():
        if line.startswith("errors "):
            errors = {k: int(v) for k, v in (item.split("=") for item in line.split()[1:])}
            continue
        kind, sent, latency, status = line.split()
        samples.append((kind, float(sent), float(latency), int(status)))
    return started, samples, errors


def summarize(samples, kind, window_start, seconds, ok=(200, 299)):
    chosen = [s for s in samples if s[0] == kind and window_start <= s[1] < window_start + seconds]
    good = [s for s in chosen if ok[0] <= s[3] <= ok[1]]
    latencies = [s[2] * 1000 for s in chosen]
    statuses = {}
    for s in chosen:
        statuses[str(s[3])] = statuses.get(str(s[3]), 0) + 1
    return {
        "requests": len(chosen),
        "ok_per_s": round(len(good) / seconds, 1),
        "p50_ms": round(percentile(latencies, 50), 1) if latencies else None,
        "p95_ms": round(percentile(latencies, 95), 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 99), 1) if latencies else None,
        "errors": len(chosen) - len(good),
        "statuses": statuses,
    }


def read_phase(stack, name, path, config, random_query=False, port=None):
    warmup, seconds = config["warmup"], config["read_seconds"]
    started, samples, socket_errors = run_wrk(
        stack, name, "get", path, warmup + seconds, config["connections"], random_query=random_query, port=port
    )
    result = summarize(samples, "get", started + warmup, seconds)
    result["socket_errors"] = sum(socket_errors.values())
    result["errors"] += result["socket_errors"]
    return result


def sign_phase(stack, name, config, seconds, warmup, rate, phase, min_age, follow=False):
    """Signers at RATE a second (0: flat out); FOLLOW: each then GETs the page the POST redirected to."""
    from django.db.models import Count

    from petitions.models import Signature

    before = dict(Signature.objects.values_list("status").annotate(n=Count("pk")))
    cpu_before = cpu_by_role(stack)
    stall_before = stack.web_cpu_stall_us()
    started, samples, socket_errors = run_wrk(
        stack, name, "sign", SIGN_PATH, warmup + seconds, config["connections"], rate=rate, min_age=min_age,
        phase=phase, form_path=FORM_PATH, follow=follow,
    )  # fmt: skip
    window = started + warmup
    form = summarize(samples, "form", window, seconds)
    post = summarize(samples, "post", window, seconds, ok=(302, 302))
    signed = summarize(samples, "signed", window, seconds) if follow else None
    cpu_after = cpu_by_role(stack)
    stall_after = stack.web_cpu_stall_us()
    after = dict(Signature.objects.values_list("status").annotate(n=Count("pk")))
    quarantined = after.get("quarantined", 0) - before.get("quarantined", 0)
    posted = sum(1 for s in samples if s[0] == "post" and s[3] == 302)
    # Where a signature's CPU goes, over the whole phase: the confirmation e-mails the mail worker
    # sent meanwhile are in it, those still queued at the end are not (see the drain phase).
    cpu_ms = {role: round((cpu_after[role] - cpu_before.get(role, 0)) * 1000 / posted, 2) for role in cpu_after}
    return {
        "signatures_per_s": post["ok_per_s"],
        "form": form,
        "post": post,
        "signed": signed,
        "p99_ms": max(v for v in (form["p99_ms"], post["p99_ms"]) if v is not None) if post["p99_ms"] else None,
        "socket_errors": sum(socket_errors.values()),
        "quarantined": quarantined,
        "errors": form["errors"]
        + post["errors"]
        + (signed["errors"] if signed else 0)
        + sum(socket_errors.values())
        + quarantined,
        "window": [window, window + seconds],
        "posted": posted,
        "cpu_ms_per_signature": cpu_ms if posted else None,
        # The share of the phase (warm-up in) in which some of the web's work waited for a CPU: what
        # the mail worker reads, as a ten-second average, to decide whether confirmations wait.
        "web_cpu_pressure_pct": (
            round((stall_after - stall_before) / (time.time() - started) / 1e4, 1) if stall_before is not None else None
        ),
    }


def signer_mails(stack, phase):
    """{sign time: arrival time} for confirmation e-mails of PHASE, from the SMTP stand-in's log."""
    pattern = re.compile(rf"^s(\d+)\.{phase}\.\d+\.\d+@bench\.example\.org$")
    arrivals = []
    for line in (stack.logs / "smtp.log").read_text().splitlines():
        at, rcpt = line.split("\t")
        match = pattern.match(rcpt)
        if match:
            arrivals.append((int(match.group(1)) / 1000, float(at)))
    return arrivals


def confirmation_phase(stack, config, phase, min_age):
    rate, seconds, warmup = config["paced_rate"], config["paced_seconds"], config["warmup"]
    result = sign_phase(stack, "paced", config, seconds, warmup + min_age, rate, phase, min_age)
    expected = result["posted"]
    wait_until(lambda: len(signer_mails(stack, phase)) >= expected, 60)
    start, end = result["window"]
    latencies = [arrived - signed for signed, arrived in signer_mails(stack, phase) if start <= signed < end]
    result["confirmation"] = {
        "emails": len(latencies),
        "missing": max(0, expected - len(signer_mails(stack, phase))),
        "p50_s": round(percentile(latencies, 50), 3) if latencies else None,
        "p95_s": round(percentile(latencies, 95), 3) if latencies else None,
        "max_s": round(max(latencies), 3) if latencies else None,
    }
    return result


def drain_mail(stack, config):
    """Let the mail worker work off the confirmations the flat-out phases left unsent; time how fast it goes.

    The backlog is in the database, not the broker: pending signatures without their confirmation,
    which the worker claims twenty at a time (petitions.tasks.send_confirmations).
    """
    from django.utils import timezone

    from petitions.models import Signature

    unsent = Signature.objects.filter(status=Signature.Status.PENDING, confirmation_sent_at__isnull=True)
    backlog = unsent.count()
    t0 = time.time()
    deadline = time.monotonic() + config["drain_seconds"]
    while unsent.exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    elapsed = time.time() - t0
    # Bounded: what is left is marked sent so the delivery phases measure delivery alone; the
    # batches the worker holds already finish within a second.
    left = unsent.filter(confirmation_lease_until__isnull=True).update(confirmation_sent_at=timezone.now())
    wait_until(lambda: not unsent.exists(), 30)
    sent = [float(line.split("\t")[0]) for line in (stack.logs / "smtp.log").read_text().splitlines()]
    recent = [t for t in sent if t0 <= t <= t0 + elapsed]
    return {
        "backlog": backlog,
        "dropped": left,
        "seconds": round(elapsed, 1),
        "emails_per_s": round(len(recent) / elapsed, 1) if elapsed > 1 else None,
    }


def make_letters(channel, count, first=0):
    """Confirmed signatures from a state whose senators use CHANNEL, with a queued letter to each senator.

    FIRST numbers the signers' addresses, which must differ from those of earlier calls."""
    from django.utils import timezone

    from petitions.models import Letter, Petition, Recipient, Signature
    from petitions.signing.services import render_letter

    petition = Petition.objects.get(slug=SLUG)
    senators = list(Recipient.objects.filter(kind=Recipient.Kind.SENATOR, channel=channel, is_active=True))
    by_state = {}
    for senator in senators:
        by_state.setdefault(senator.state, []).append(senator)
    pairs = [(state, people) for state, people in sorted(by_state.items()) if len(people) == 2]
    now = timezone.now()
    signatures = []
    for i in range(first, first + (count + 1) // 2):
        state, _people = pairs[i % len(pairs)]
        signatures.append(
            Signature(
                petition=petition, status=Signature.Status.CONFIRMED, title="Ms.", first_name="Ada",
                last_name=f"Letter{i}", email=f"l{channel}{i}@bench.example.org",
                email_normalized=f"l{channel}{i}@bench.example.org", address="1 Main St", city="Springfield",
                state=state, zip_code="12345", phone="555-555-0134", language="en",
                letter_hash=petition.letter_hash(), letter_text=petition.letter_en, confirmed_at=now,
            )
        )  # fmt: skip
    Signature.objects.bulk_create(signatures, batch_size=500)
    letters = []
    for signature in signatures:
        for senator in by_state[signature.state]:
            letters.append(
                Letter(signature=signature, recipient=senator, channel=channel, body=render_letter(signature, senator))
            )
    return [letter.pk for letter in Letter.objects.bulk_create(letters[:count], batch_size=500)]


def delivery_phase(stack, channel, config):
    from django.db.models import Count

    from petitions.models import Letter
    from petitions.tasks import remind_letters

    count = config["letters"][channel]
    ids = make_letters(channel, count)
    signatures = Letter.objects.filter(pk__in=ids).values("signature_id").distinct().count()
    log = stack.logs / ("smtp.log" if channel == "email" else "cwc.log")
    mark = len(log.read_text().splitlines()) if log.exists() else 0
    cpu_before, own_before = cpu_by_role(stack), os.times()
    t0 = time.time()
    # A reminder per signature's letters, as confirm_signature sends once it has committed them;
    # most find one already waiting for a worker and publish nothing.
    for _signature in range(signatures):
        remind_letters()
    enqueued = time.time() - t0
    wait_until(
        lambda: Letter.objects.filter(pk__in=ids, status=Letter.Status.DELIVERED).count() == len(ids),
        config["delivery_timeout"],
    )
    cpu_after, own_after = cpu_by_role(stack), os.times()
    # Where a letter's CPU goes, enqueueing to the last one delivered; "bench" is this process, which
    # enqueues the tasks (as confirmations would, from the web) and polls the database meanwhile.
    cpu_ms = {role: round((cpu_after[role] - cpu_before.get(role, 0)) * 1000 / len(ids), 3) for role in cpu_after}
    cpu_ms["bench"] = round(
        (own_after.user + own_after.system - own_before.user - own_before.system) * 1000 / len(ids), 3
    )
    # Only the letters: an e-mail to a signer (a confirmation still going out) is not one.
    arrivals = sorted(
        float(line.split("\t")[0])
        for line in log.read_text().splitlines()[mark:]
        if not line.endswith("@bench.example.org")
    )
    statuses = dict(Letter.objects.filter(pk__in=ids).values_list("status").annotate(n=Count("pk")))
    # The steady rate: between the 10th and the 90th percentile of arrivals, so the start and the tail are left out.
    rate = None
    if len(arrivals) >= 10:
        low, high = arrivals[len(arrivals) // 10], arrivals[(len(arrivals) * 9) // 10]
        if high > low:
            rate = round((len(arrivals) * 8 // 10) / (high - low), 1)
    return {
        "letters": len(ids),
        "arrived": len(arrivals),
        "statuses": statuses,
        "letters_per_s": rate,
        "overall_seconds": round(arrivals[-1] - t0, 2) if arrivals else None,
        "enqueue_seconds": round(enqueued, 2),
        "cpu_ms_per_letter": cpu_ms,
        "errors": len(ids) - statuses.get("delivered", 0),
    }


def email_beside_cwc_phase(stack, config):
    """E-mail letters' latency while CWC letters wait their turn at the Senate's 5 a second.

    The rest of the run lifts CWC's rate limit to measure our side; here a letters worker of its
    own takes CWC_RATE_LIMIT=5, a backlog of CWC letters keeps it saturated, and e-mail letters are
    confirmed two at a time meanwhile, each timed from its creation to its delivery. What is left
    of the CWC backlog afterwards is cancelled: its pace is the rate limit's, not ours.
    """
    from django.core.cache import cache

    from petitions.models import Letter
    from petitions.tasks import LETTERS_REMINDED_KEY, remind_letters

    process, log = stack.processes["celery_letters"]
    process.send_signal(signal.SIGTERM)
    process.wait(30)
    log.close()
    env = stack.env
    stack.env = {**env, "CWC_RATE_LIMIT": "5"}
    try:
        stack.start("celery_paced", [str(BASE_DIR / "bin" / "entrypoint"), "worker", "letters"])
    finally:
        stack.env = env
    wait_until(lambda: "ready." in stack.log_text("celery_paced"), 60, "the paced letters worker")
    cwc_ids = make_letters("cwc", config["beside_cwc"]["cwc"], first=100_000)
    cache.delete(LETTERS_REMINDED_KEY)  # The stopped worker's reminder, if it held one, went with it.
    remind_letters()
    wait_until(lambda: Letter.objects.filter(pk__in=cwc_ids, status="delivered").count() >= 5, 30, "CWC at work")
    email_ids = []
    for pair in range(config["beside_cwc"]["email_pairs"]):
        email_ids += make_letters("email", 2, first=200_000 + pair)
        remind_letters()  # As confirm_signature does once it has committed a signer's letters.
        time.sleep(0.5)
    emails = Letter.objects.filter(pk__in=email_ids)
    wait_until(lambda: emails.filter(status="delivered").count() == len(email_ids), config["delivery_timeout"])
    cwc_left = Letter.objects.filter(pk__in=cwc_ids).exclude(status="delivered").count()
    Letter.objects.filter(pk__in=cwc_ids, status="queued").update(status="cancelled")
    wait_until(lambda: not Letter.objects.filter(pk__in=cwc_ids, status="sending").exists(), 30)
    latencies = sorted((e - c).total_seconds() for c, e in emails.values_list("created_at", "delivered_at"))
    return {
        "email_letters": len(email_ids),
        "cwc_letters": len(cwc_ids),
        "cwc_left_when_emails_done": cwc_left,
        "email_p50_s": round(percentile(latencies, 50), 2),
        "email_p95_s": round(percentile(latencies, 95), 2),
        "email_max_s": round(latencies[-1], 2),
    }


def route_recipients():
    """Half the senators through CWC and half by e-mail (by state, alternately); the President by e-mail."""
    from petitions.models import Recipient

    states = sorted(set(Recipient.objects.filter(kind=Recipient.Kind.SENATOR).values_list("state", flat=True)))
    for i, state in enumerate(states):
        for senator in Recipient.objects.filter(kind=Recipient.Kind.SENATOR, state=state):
            if i % 2 == 0:
                senator.channel, senator.channel_settings = Recipient.Channel.CWC, {}
            else:
                senator.channel = Recipient.Channel.EMAIL
                senator.channel_settings = {"address": f"intake-{senator.bioguide_id.lower()}@senate.bench.example"}
            senator.save()
    Recipient.objects.filter(kind=Recipient.Kind.PRESIDENT).update(
        channel=Recipient.Channel.EMAIL, channel_settings={"address": "intake@whitehouse.bench.example"}
    )


# --- Report -------------------------------------------------------------------------------------


def machine():
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    memory = re.search(r"^MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.MULTILINE)
    return {
        "cpu_model": model.group(1) if model else platform.processor(),
        "cores": os.cpu_count(),
        "memory_mb": int(memory.group(1)) // 1024 if memory else None,
        "kernel": platform.release(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "reference_ms_at_start": reference_ms(),
    }


def reference_ms():
    """Milliseconds a fixed piece of pure-Python work takes on one idle core: the VM's speed of the moment.

    This VM's speed drifts by up to half between runs of the same code a few minutes apart (every
    process slows alike, PostgreSQL and the SMTP stand-in included), so each result says how fast
    the machine was at its start and end: compare runs only where these agree.
    """
    best = math.inf
    for _ in range(5):
        started = time.perf_counter()
        total = 0
        for i in range(300_000):
            total += i * i % 7
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 1)


def versions(stack):
    import celery
    import django
    import gunicorn
    import psycopg
    import redis

    with psycopg.connect(stack.database_url) as conn:
        postgres = conn.execute("SHOW server_version").fetchone()[0]
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.splitlines()
    return {
        "python": platform.python_version(),
        "django": django.get_version(),
        "gunicorn": gunicorn.__version__,
        "celery": celery.__version__,
        "psycopg": psycopg.__version__,
        "postgresql": postgres,
        "redis_server": redis.Redis.from_url(stack.redis_url).info("server")["redis_version"],
        "wrk": wrk[0].split(" [")[0] if wrk else None,
    }


def settings_used(stack, config):
    import gunicorn_conf
    from django.conf import settings

    return {
        "mode": stack.mode,
        "connections": config["connections"],
        "warmup_seconds": config["warmup"],
        "read_seconds": config["read_seconds"],
        "sign_seconds": config["sign_seconds"],
        "sign_warmup_seconds": config["sign_warmup"],
        "paced_sign_rate": config["paced_rate"],
        "paced_seconds": config["paced_seconds"],
        "letters": config["letters"],
        "gunicorn_workers": gunicorn_conf.workers,
        "gunicorn_threads": gunicorn_conf.threads,
        "gunicorn_worker_class": gunicorn_conf.worker_class,
        "gunicorn_max_requests": gunicorn_conf.max_requests,
        "celery_concurrency_per_worker": int(stack.env.get("WORKER_CONCURRENCY") or 3 * os.cpu_count()),
        "celery_worker_cpu_weight": stack.worker_weight,
        # Confirmations wait while the web's "some avg10" is at least the limit; no file: never.
        "web_cpu_pressure_file": stack.env.get("WEB_CPU_PRESSURE_FILE", ""),
        "web_cpu_pressure_limit": settings.WEB_CPU_PRESSURE_LIMIT,
        "confirmation_max_hold_seconds": settings.CONFIRMATION_MAX_HOLD_SECONDS,
        "db_conn_max_age": settings.DATABASES["default"]["CONN_MAX_AGE"],
        "sign_min_seconds": settings.SIGN_MIN_SECONDS,
        "sign_rates_per_ip": settings.SIGN_RATES_PER_IP,
        "sign_rates_per_email": settings.SIGN_RATES_PER_EMAIL,
        "sign_rates_per_network": settings.SIGN_RATES_PER_NETWORK,
        "trusted_proxy_count": settings.TRUSTED_PROXY_COUNT,
        "cwc_rate_limit": settings.CWC_RATE_LIMIT,
        "cwc_maintenance_windows": settings.CWC_MAINTENANCE_WINDOWS,
        "count_cache_seconds": settings.COUNT_CACHE_SECONDS,
        "debug": settings.DEBUG,
        "log_level": os.environ.get("LOG_LEVEL", "INFO"),
    }


def verdict(name, value):
    op, target = TARGETS[name]
    if value is None:
        return "MISS"
    passed = {">=": value >= target, "<": value < target, "==": value == target}[op]
    return "PASS" if passed else "MISS"


def _cpu_line(cpu_ms):
    if not cpu_ms:
        return None
    short = {"gunicorn": "web", "celery_mail": "mail", "celery_letters": "letters", "stand_ins": "smtp",
             "postgresql": "pg", "redis": "redis", "wrk": "wrk"}  # fmt: skip
    return " ".join(f"{short.get(role, role)} {ms:g}" for role, ms in sorted(cpu_ms.items(), key=lambda i: -i[1]) if ms)


def table(results):
    r = results["phases"]
    mem = results["memory"]
    celery_peak = max(
        (mem.get(role, {}).get("max_worker_peak_rss_mb") or 0) for role in ("celery_mail", "celery_letters")
    )
    rows = [
        ("petition page GET", "req/s", r["page"]["ok_per_s"], "page_rps"),
        ("petition page GET", "p50/p95/p99 ms", f"{r['page']['p50_ms']}/{r['page']['p95_ms']}/{r['page']['p99_ms']}",
         "page_p99_ms", r["page"]["p99_ms"]),
        ("petition page GET", "errors", r["page"]["errors"], None),
        # Straight to gunicorn with a random query string: Django's own page cache, what a deployment
        # without the proxy serves the crowd.
        ("page GET, no proxy", "req/s", r["page_query"]["ok_per_s"], None),
        ("page GET, no proxy", "p50/p95/p99 ms",
         f"{r['page_query']['p50_ms']}/{r['page_query']['p95_ms']}/{r['page_query']['p99_ms']}", None),
        ("page GET, no proxy", "errors", r["page_query"]["errors"], None),
        ("count endpoint GET", "req/s", r["count"]["ok_per_s"], "count_rps"),
        ("count endpoint GET", "p50/p95/p99 ms",
         f"{r['count']['p50_ms']}/{r['count']['p95_ms']}/{r['count']['p99_ms']}", None),
        ("page GET through nginx", "req/s", r["proxy_page"]["ok_per_s"], "proxy_page_rps"),
        ("page GET through nginx", "p50/p99 ms", f"{r['proxy_page']['p50_ms']}/{r['proxy_page']['p99_ms']}", None),
        ("counter widget GET", "req/s", r["widget"]["ok_per_s"], None),
        ("counter widget GET", "p50/p95/p99 ms",
         f"{r['widget']['p50_ms']}/{r['widget']['p95_ms']}/{r['widget']['p99_ms']}", None),
        ("signing flat out", "signatures/s", r["sign"]["signatures_per_s"], "sign_per_s"),
        ("signing: form GET", "p50/p95/p99 ms",
         f"{r['sign']['form']['p50_ms']}/{r['sign']['form']['p95_ms']}/{r['sign']['form']['p99_ms']}", None),
        ("signing: POST", "p50/p95/p99 ms",
         f"{r['sign']['post']['p50_ms']}/{r['sign']['post']['p95_ms']}/{r['sign']['post']['p99_ms']}",
         "sign_p99_ms", r["sign"]["p99_ms"]),
        ("signing", "errors (HTTP, socket, quarantined)", r["sign"]["errors"], "sign_errors"),
        ("signing: CPU", "ms per signature, by process", _cpu_line(r["sign"].get("cpu_ms_per_signature")), None),
        ("signing: web CPU pressure", "% of the phase", r["sign"].get("web_cpu_pressure_pct"), None),
        ("signing, mail elsewhere", "signatures/s", r["alone"]["signatures_per_s"], None),
        ("signing, mail elsewhere", "POST p50/p95/p99 ms",
         f"{r['alone']['post']['p50_ms']}/{r['alone']['post']['p95_ms']}/{r['alone']['post']['p99_ms']}", None),
        ("signing, mail elsewhere", "CPU ms per signature", _cpu_line(r["alone"].get("cpu_ms_per_signature")), None),
        ("signing as a browser", "signatures/s", r["browser"]["signatures_per_s"], None),
        ("signing as a browser", "redirect GET p50/p95/p99 ms",
         "/".join(str((r["browser"].get("signed") or {}).get(k)) for k in ("p50_ms", "p95_ms", "p99_ms")), None),
        ("signing as a browser", "errors", r["browser"]["errors"], None),
        ("signing as a browser", "CPU ms per signature", _cpu_line(r["browser"].get("cpu_ms_per_signature")), None),
        ("signing paced", "signatures/s", r["paced"]["signatures_per_s"], None),
        ("signing paced: web CPU pressure", "% of the phase", r["paced"].get("web_cpu_pressure_pct"), None),
        ("confirmation e-mail", "p50/p95 s",
         f"{r['paced']['confirmation']['p50_s']}/{r['paced']['confirmation']['p95_s']}",
         "confirmation_p95_s", r["paced"]["confirmation"]["p95_s"]),
        ("confirmation backlog", "e-mails/s", r["drain"]["emails_per_s"], None),
        ("letters by e-mail", "letters/s", r["email"]["letters_per_s"], "email_letters_per_s"),
        ("letters through CWC", "letters/s", r["cwc"]["letters_per_s"], "cwc_letters_per_s"),
        ("e-mail letters, CWC full", "p50/p95 s from creation",
         f"{r.get('beside_cwc', {}).get('email_p50_s')}/{r.get('beside_cwc', {}).get('email_p95_s')}", None),
        ("gunicorn worker", "peak RSS MB", mem.get("gunicorn", {}).get("max_worker_peak_rss_mb"),
         "gunicorn_worker_rss_mb"),
        ("Celery worker", "peak RSS MB", celery_peak or None, "celery_worker_rss_mb"),
    ]  # fmt: skip
    lines = [f"{'measure':<24} {'unit':<36} {'value':>18}  {'target':<9} result", "-" * 98]
    verdicts = {}
    for row in rows:
        what, unit, shown, target = row[:4]
        value = row[4] if len(row) > 4 else shown
        if target:
            op, goal = TARGETS[target]
            verdicts[target] = verdict(target, value)
            lines.append(f"{what:<24} {unit:<36} {shown!s:>18}  {op + str(goal):<9} {verdicts[target]}")
        else:
            lines.append(f"{what:<24} {unit:<36} {shown!s:>18}")
    return "\n".join(lines), verdicts


def main():
    # Killed (a CI timeout, `kill`), it ends as Ctrl-C ends it: through the `finally` that stops the
    # servers it started, rather than leaving them running.
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="a few seconds of tiny load, to check the harness works")
    parser.add_argument("--out", help="where to write the JSON (default bench/results/<date>-<commit>-<n>.json)")
    parser.add_argument(
        "--only",
        help=(
            "comma-separated phases to run "
            "(page,count,widget,proxy_page,page_query,paced,sign,alone,browser,email,cwc,beside_cwc)"
        ),
    )
    parser.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", help="a setting for every process (WEB_THREADS=2)"
    )
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=WORKER_NICE,
        help=f"the Celery workers' CPU weight as a nice value (default {WORKER_NICE}, as compose.yaml; 0: the web's)",
    )
    args = parser.parse_args()
    mode = "smoke" if args.smoke else "full"
    config = MODES[mode]
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")

    var_dir = Path(os.environ.get("BENCH_VAR_DIR") or BASE_DIR / "var" / "bench")
    database_url = os.environ.get("BENCH_DATABASE_URL", "postgres://campaign:campaign@127.0.0.1:5432/campaign_bench")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
    overrides = {}
    if config["sign_min_seconds"] is not None:
        overrides["SIGN_MIN_SECONDS"] = str(config["sign_min_seconds"])
    overrides.update(item.split("=", 1) for item in args.set)
    stack = Stack(mode, var_dir, database_url, redis_url, overrides, worker_nice=args.worker_nice)
    os.environ.update(stack.env)
    sys.path.insert(0, str(BASE_DIR))

    started = datetime.now(UTC)
    print(f"bench ({mode}): preparing the database, static files and senators…", flush=True)
    if not stack.env["CWC_MAINTENANCE_WINDOWS"]:
        print("bench: the Senate's CWC maintenance windows are off: the CWC receiver is a stand-in", flush=True)
    stack.prepare()
    import django

    django.setup()
    from django.conf import settings

    route_recipients()
    sys.path.insert(0, str(BASE_DIR))
    import importlib.util

    spec = importlib.util.spec_from_file_location("gunicorn_conf", BASE_DIR / "gunicorn.conf.py")
    gunicorn_conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gunicorn_conf)
    sys.modules["gunicorn_conf"] = gunicorn_conf

    results = {"started_at": started.isoformat(), "machine": machine(), "notes": []}
    min_age = settings.SIGN_MIN_SECONDS + 0.2
    if config["sign_min_seconds"] is not None:
        results["notes"].append(
            f"SIGN_MIN_SECONDS lowered to {settings.SIGN_MIN_SECONDS} for this short run (production: 3)."
        )
    only = set(args.only.split(",")) if args.only else None
    sampler = None
    try:
        stack.start_all()
        stack.warm_up()
        results["versions"] = versions(stack)
        results["settings"] = settings_used(stack, config)
        sampler = MemorySampler({name: stack.pid(name) for name in ("gunicorn", "celery_mail", "celery_letters")})
        sampler.start()
        phases = results["phases"] = {}
        empty = {"ok_per_s": None, "p50_ms": None, "p95_ms": None, "p99_ms": None, "errors": None}
        no_signing = {"signatures_per_s": None, "form": empty, "post": empty, "p99_ms": None, "errors": None}

        def wanted(name):
            return only is None or name in only

        # The crowd's pages through nginx, as compose.yaml serves them; signing goes to gunicorn directly.
        proxy_port = start_proxy(stack)
        for name, path in (("page", PAGE), ("count", COUNT), ("widget", WIDGET)):
            print(f"bench: {name} GET {path} through nginx", flush=True)
            phases[name] = read_phase(stack, name, path, config, port=proxy_port) if wanted(name) else dict(empty)
        print(f"bench: page GET {PAGE} through nginx, flat out", flush=True)
        phases["proxy_page"] = proxy_page_phase(stack, config, proxy_port) if wanted("proxy_page") else dict(empty)
        print(f"bench: page GET {PAGE}?x=<random> straight to gunicorn (Django's page cache)", flush=True)
        phases["page_query"] = (
            read_phase(stack, "page_query", PAGE, config, random_query=True) if wanted("page_query") else dict(empty)
        )
        print(f"bench: signing at {config['paced_rate']}/s, timing the confirmation e-mails", flush=True)
        phases["paced"] = (
            confirmation_phase(stack, config, 1, min_age)
            if wanted("paced")
            else {"signatures_per_s": None, "confirmation": {"p50_s": None, "p95_s": None}}
        )
        print("bench: signing as fast as it goes", flush=True)
        if wanted("sign"):
            phases["sign"] = sign_phase(
                stack, "sign", config, config["sign_seconds"], config["sign_warmup"] + min_age, 0, 2, min_age
            )
        else:
            phases["sign"] = dict(no_signing)
        # The capacity plan's first step is the mail worker on a host of its own: what this host takes
        # then, with the confirmations queued meanwhile and sent in the drain below. Not a target.
        print("bench: signing as fast as it goes, the mail worker stopped", flush=True)
        if wanted("alone"):
            with stack.paused("celery_mail"):
                phases["alone"] = sign_phase(
                    stack, "alone", config, config["sign_seconds"], config["sign_warmup"] + min_age, 0, 3, min_age
                )
        else:
            phases["alone"] = dict(no_signing)
        print("bench: letting the confirmations drain", flush=True)
        phases["drain"] = drain_mail(stack, config)
        # What a browser does after the POST: it follows the redirect to the "Check your inbox" page,
        # a third request per signature that the phases above leave out. Not a target. After the
        # drain, so that the mail worker is not working off the other phases' confirmations meanwhile,
        # and drained again before the letters.
        print("bench: signing as fast as it goes, following the redirect as a browser does", flush=True)
        if wanted("browser"):
            phases["browser"] = sign_phase(
                stack, "browser", config, config["sign_seconds"], config["sign_warmup"] + min_age, 0, 4, min_age,
                follow=True,
            )  # fmt: skip
            phases["browser_drain"] = drain_mail(stack, config)
        else:
            phases["browser"] = dict(no_signing)
        for channel in ("email", "cwc"):
            print(f"bench: delivering letters through {channel}", flush=True)
            phases[channel] = delivery_phase(stack, channel, config) if wanted(channel) else {"letters_per_s": None}
        print("bench: e-mail letters while CWC works off a backlog at 5 a second", flush=True)
        if wanted("beside_cwc"):
            phases["beside_cwc"] = email_beside_cwc_phase(stack, config)
    finally:
        if sampler:
            sampler.stop()
            results["memory"] = sampler.summary()
        stack.stop()

    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["machine"]["reference_ms_at_end"] = reference_ms()
    results["finished_at"] = datetime.now(UTC).isoformat()
    text, verdicts = table(results)
    results["verdicts"] = verdicts
    header = (
        f"Campaign benchmark ({mode}) on {results['machine']['cpu_model']}, {results['machine']['cores']} cores; "
        f"load average at start {results['machine']['load_average_at_start'][0]}; "
        f"reference work {results['machine']['reference_ms_at_start']} ms at start, "
        f"{results['machine']['reference_ms_at_end']} at end"
    )
    print()
    print(header)
    print(text)
    for note in results["notes"]:
        print("Note:", note)
    out = Path(args.out) if args.out else result_path(started, mode)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str))
    print(f"\nJSON: {out}")


if __name__ == "__main__":
    main()
