"""CPU per message on the mail side: confirmation and e-mail letter task bodies, run in this process.

    .venv/bin/python bench/mail_cpu.py [--count 400] [--profile confirm|letter] [--worker] [--batch 10]

Wall-clock rates on a shared two-core machine are noise; CPU time is not. This runs the task bodies
(send_confirmations; deliver_letter and deliver_due_letters for the e-mail channel) in-process
against PostgreSQL, Redis and the benchmark's SMTP stand-in (bench/stand_ins.py, in its own process
so its CPU is not counted here) and prints time.process_time() per message: the whole task body,
and the part spent in the SMTP send (building the MIME message and talking to the server), and the
stand-in's own CPU from /proc.
--profile prints cProfile's top entries (CPU time) for one kind (with --batch, deliver_letters
BATCH a task). --worker also measures a real Celery worker (prefork, one child; WORKER_ARGS go to
celery, PY_SPY=1 samples it) from its /proc CPU ticks, which adds Celery's own per-task cost: one
letter a task (a retry), and the letters a confirmation's reminder finds due. --batch N also times
deliver_letters with N e-mail letters a task (what the sweeper and organizers' re-sends queue),
in-process and, with --worker, in the worker.
The machine is shared: compare versions in alternating runs and take the median.

Its database (MAIL_CPU_DATABASE_URL, default campaign_mail) is dropped and made afresh; its Redis
database (MAIL_CPU_REDIS_URL, default db 4) is emptied.
"""

import argparse
import cProfile
import io
import os
import pstats
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "bench"))

from run import free_port, reset_stores, wait_until  # noqa: E402

DATABASE_URL = os.environ.get("MAIL_CPU_DATABASE_URL", "postgres://campaign:campaign@127.0.0.1:5432/campaign_mail")
REDIS_URL = os.environ.get("MAIL_CPU_REDIS_URL", "redis://127.0.0.1:6379/4")
SMTP_PORT = free_port()
ENV = {
    "DJANGO_SETTINGS_MODULE": "campaign.settings",
    "DEBUG": "0",
    "SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
    "CAMPAIGN_VAR_DIR": str(BASE_DIR / "var" / "mail-cpu"),
    "DATABASE_URL": DATABASE_URL,
    "REDIS_URL": REDIS_URL,
    "ALLOWED_HOSTS": "127.0.0.1",
    "SITE_URL": "https://127.0.0.1:8000",
    "EMAIL_HOST": "127.0.0.1",
    "EMAIL_PORT": str(SMTP_PORT),
    "LOG_LEVEL": "WARNING",
}


def setup_django():
    os.environ.update(ENV)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_data(count, tag="a"):
    """A petition, two senators and the President by e-mail; COUNT pending signers and COUNT e-mail letters."""
    from django.utils import timezone

    from petitions import demo
    from petitions.models import Letter, Petition, Recipient, Signature
    from petitions.signing.services import render_letter

    petition = Petition.objects.create(
        slug=f"mail-cpu-{tag}", title_be=demo.TITLE_BE, title_en=demo.TITLE_EN, introduction_be=demo.INTRODUCTION_BE,
        introduction_en=demo.INTRODUCTION_EN, letter_be=demo.LETTER_BE, letter_en=demo.LETTER_EN, goal=100,
        status=Petition.Status.OPEN,
    )  # fmt: skip
    senators = [
        Recipient.objects.create(
            kind=Recipient.Kind.SENATOR, name=name, last_name=name.split()[-1], state="IA", senate_class=n,
            bioguide_id=f"X{tag}{n}", channel=Recipient.Channel.EMAIL,
            channel_settings={"address": f"intake-{n}@senate.bench.example"},
        )
        for n, name in ((2, "Joni Ernst"), (3, "Chuck Grassley"))
    ]  # fmt: skip

    def signer(i, status, language):
        return Signature(
            petition=petition, status=status, title="Ms.", first_name="Ada", last_name=f"Signer{i}",
            email=f"s{tag}{status}{i}@bench.example.org", email_normalized=f"s{tag}{status}{i}@bench.example.org",
            address="1 Main St", city="Des Moines", state="IA", zip_code="50309", phone="555-555-0134",
            language=language, letter_hash=petition.letter_hash(), letter_text=petition.letter_en,
            confirmed_at=timezone.now() if status == Signature.Status.CONFIRMED else None,
        )  # fmt: skip

    pending = Signature.objects.bulk_create(
        [signer(i, Signature.Status.PENDING, "be" if i % 2 else "en") for i in range(count)]
    )
    confirmed = Signature.objects.bulk_create(
        [signer(i, Signature.Status.CONFIRMED, "en") for i in range((count + 1) // 2)]
    )
    letters = [
        Letter(signature=s, recipient=r, channel=Recipient.Channel.EMAIL, body=render_letter(s, r))
        for s in confirmed
        for r in senators
    ][:count]
    return [s.pk for s in pending], [letter.pk for letter in Letter.objects.bulk_create(letters)]


class SendTimer:
    """Adds up the CPU spent inside the SMTP backend's send_messages (MIME build and SMTP exchange)."""

    def __init__(self):
        from django.core.mail.backends.smtp import EmailBackend

        self.cpu = 0.0
        original = EmailBackend.send_messages

        def timed(backend, messages):
            started = time.process_time()
            try:
                return original(backend, messages)
            finally:
                self.cpu += time.process_time() - started

        EmailBackend.send_messages = timed


def measure(label, work, count, timer, server_pid):
    """Time WORK(), which sends COUNT messages after the caller's warm-up, and print CPU per message."""
    timer.cpu = 0.0
    server_before = _ticks(server_pid)
    started = time.process_time()
    work()
    total = (time.process_time() - started) / count * 1000
    send = timer.cpu / count * 1000
    server = (_ticks(server_pid) - server_before) / os.sysconf("SC_CLK_TCK") / count * 1000
    print(
        f"{label:<28} {total:6.2f} ms CPU per message, of it in the SMTP send {send:5.2f} ms;"
        f" the SMTP stand-in {server:5.2f} ms ({count} messages)"
    )


def measure_letters(ids, timer, server_pid):
    """CPU per e-mail letter of deliver_letter, one task per letter."""
    from petitions.tasks import deliver_letter

    for pk in ids[:10]:  # Warm-up: imports, template compilation, the first connection.
        deliver_letter(pk)
    ids = ids[10:]
    measure("e-mail letter deliver_letter", lambda: [deliver_letter(pk) for pk in ids], len(ids), timer, server_pid)


def hold_confirmations(ids, held=True):
    """Make the confirmations of IDS not due (as if another worker held them), or due again."""
    from datetime import timedelta

    from django.utils import timezone

    from petitions.models import Signature

    until = timezone.now() + timedelta(days=1) if held else None
    Signature.objects.filter(pk__in=ids).update(confirmation_lease_until=until)


def measure_confirmations(ids, timer, server_pid):
    """CPU per confirmation of send_confirmations: IDS all due at once, sent in its batches by one call."""
    from petitions.tasks import send_confirmations

    hold_confirmations(ids[10:])
    send_confirmations()  # Warm-up: imports, template compilation, the first connection.
    ids = ids[10:]
    hold_confirmations(ids, held=False)
    measure("confirmations, in batches", send_confirmations, len(ids), timer, server_pid)


def profile(work):
    """cProfile's top entries for WORK(), a warmed-up call."""
    profiler = cProfile.Profile(time.process_time)  # CPU, not the wall clock: waits on PostgreSQL are not ours
    profiler.enable()
    work()
    profiler.disable()
    if os.environ.get("PROFILE_DUMP"):
        profiler.dump_stats(os.environ["PROFILE_DUMP"])
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
    stats.print_stats(45)
    out.write("\n---- by own time ----\n")
    stats.sort_stats("tottime").print_stats(30)
    print(out.getvalue())


def measure_batches(ids, size, timer, server_pid):
    """CPU per letter of deliver_letters with SIZE e-mail letters a task, as a confirmation enqueues them.

    One conditional UPDATE claims the batch, one SELECT reads it, each letter goes out over the kept
    connection and has its own outcome UPDATE. Celery's own per-task cost is not in this figure
    (--worker measures it).
    """
    from petitions.tasks import deliver_letters

    chunks = [ids[i : i + size] for i in range(0, len(ids), size)]
    for chunk in chunks[:3]:  # Warm-up, as in measure().
        deliver_letters(chunk)
    chunks = chunks[3:]
    count = sum(len(chunk) for chunk in chunks)
    timer.cpu = 0.0
    server_before = _ticks(server_pid)
    started = time.process_time()
    for chunk in chunks:
        deliver_letters(chunk)
    total = (time.process_time() - started) / count * 1000
    server = (_ticks(server_pid) - server_before) / os.sysconf("SC_CLK_TCK") / count * 1000
    label = f"deliver_letters, {size} a task"
    print(
        f"{label:<28} {total:6.2f} ms CPU per letter,  of it in the SMTP send {timer.cpu / count * 1000:5.2f} ms;"
        f" the SMTP stand-in {server:5.2f} ms ({count} letters)"
    )


def hold_letters(ids, held=True):
    """Make the letters IDS not due (as if waiting for a retry), or due again."""
    from datetime import timedelta

    from django.utils import timezone

    from petitions.models import Letter

    when = timezone.now() + timedelta(days=1) if held else None
    Letter.objects.filter(pk__in=ids).update(next_attempt_at=when)


def measure_due_letters(ids, timer, server_pid):
    """CPU per letter of deliver_due_letters, a confirmation's reminder: IDS all due at once.

    It takes LETTER_BATCH_SIZE due letters a claim; its own reminders to other processes go to
    Redis, unread here, and their cost is counted.
    """
    from petitions.models import Letter
    from petitions.tasks import deliver_due_letters

    hold_letters(ids[10:])
    deliver_due_letters()  # Warm-up: the first ten.
    ids = ids[10:]
    hold_letters(ids, held=False)
    due = Letter.objects.filter(pk__in=ids, status=Letter.Status.QUEUED)
    measure(
        "deliver_due_letters",
        lambda: [deliver_due_letters() for _ in range(100) if due.exists()],
        len(ids),
        timer,
        server_pid,
    )
    # Its reminders to other processes would reach the workers measured next.
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def _ticks(pid):
    """User plus system CPU ticks of PID and its children still alive."""
    total = 0
    for task in [pid, *_children(pid)]:
        fields = Path(f"/proc/{task}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total


def _children(pid):
    found = []
    for path in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(path.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(path.parent.name))
        except (OSError, ValueError):
            pass
    return found


def worker_cpu(kind, ids, log_dir, batch=0):
    """CPU per message of a real `bin/entrypoint worker` (prefork, one child), all of its processes.

    KIND is "confirmation" (the mail queue), "letter" (the letters queue; with BATCH, letters go
    BATCH a deliver_letters task) or "due letter" (one reminder, as a confirmation sends).
    WORKER_ARGS in the environment go to celery, as bin/entrypoint passes them.
    """
    from petitions.models import Letter, Signature
    from petitions.tasks import deliver_letter, deliver_letters, remind_letters, send_confirmations

    if kind == "confirmation":
        queue, task, done = "mail", None, Signature.objects.filter(confirmation_sent_at__isnull=False)
        hold_confirmations(ids[10:])
    elif kind == "due letter":
        queue, task, done = "letters", None, Letter.objects.filter(status=Letter.Status.DELIVERED)
        hold_letters(ids[10:])
    else:
        queue, task, done = "letters", deliver_letter, Letter.objects.filter(status=Letter.Status.DELIVERED)
    env = {**{k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ}, **ENV}
    env.update(PYTHON=sys.executable, WORKER_CONCURRENCY="1", LOG_LEVEL=os.environ.get("WORKER_LOG_LEVEL", "INFO"))
    log = open(Path(log_dir) / f"worker-{queue}.log", "ab")  # noqa: SIM115 - closed below
    extra = os.environ.get("WORKER_ARGS", "").split()
    worker = subprocess.Popen(  # noqa: S603
        [str(BASE_DIR / "bin" / "entrypoint"), "worker", queue, *extra], cwd=BASE_DIR, env=env, stdout=log,
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:

        def enqueue(pks):
            if kind == "confirmation":
                # One reminder sends every due confirmation, in batches (tasks.send_confirmations).
                hold_confirmations(pks, held=False)
                send_confirmations.delay()
            elif kind == "due letter":
                # As a confirmation does: one reminder, and the worker takes every due letter in batches.
                hold_letters(pks, held=False)
                remind_letters()
            elif batch:
                for i in range(0, len(pks), batch):
                    deliver_letters.delay(pks[i : i + batch])
            else:
                for pk in pks:
                    task.delay(pk)

        warm, rest = ids[:10], ids[10:]
        enqueue(warm)
        wait_until(lambda: done.filter(pk__in=warm).count() == len(warm), 90, "the worker to start")
        before = _ticks(worker.pid)
        spy = _py_spy(worker.pid, Path(log_dir) / f"py-spy-{queue}.txt")
        enqueue(rest)
        wait_until(lambda: done.filter(pk__in=rest).count() == len(rest), 300, f"the {kind}s")
        used = (_ticks(worker.pid) - before) / os.sysconf("SC_CLK_TCK")
        if spy:
            spy.send_signal(signal.SIGINT)
            spy.wait(30)
            print(f"py-spy samples: {Path(log_dir) / f'py-spy-{queue}.txt'}")
        label = f"worker, per {kind}" + (f", {batch} a task" if batch else "")
        print(f"{label:<28} {used / len(rest) * 1000:6.2f} ms CPU (all worker processes)")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
        log.close()


def _py_spy(pid, path):
    """With PY_SPY=1, sample the worker and its pool children (py-spy, if installed) into PATH."""
    if not os.environ.get("PY_SPY"):
        return None
    command = [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid), "--subprocesses"]
    command += ["--format", "raw", "--rate", "250", "--output", str(path)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=400)
    parser.add_argument("--profile", choices=["confirm", "letter"])
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("--batch", type=int, default=0, help="also time deliver_letters with BATCH letters a task")
    args = parser.parse_args()

    reset_stores(DATABASE_URL, REDIS_URL)
    setup_django()
    log_dir = tempfile.mkdtemp(prefix="mail-cpu-")
    stand_ins = subprocess.Popen(  # noqa: S603
        [sys.executable, str(BASE_DIR / "bench" / "stand_ins.py"), str(SMTP_PORT), str(free_port()), log_dir],
        stdout=subprocess.PIPE,
    )
    try:
        stand_ins.stdout.readline()
        from petitions.tasks import deliver_letter, send_confirmations

        confirmations, letters = make_data(args.count)
        timer = SendTimer()
        if args.profile == "confirm":
            hold_confirmations(confirmations[10:])
            send_confirmations()  # Warm-up: the first ten.
            hold_confirmations(confirmations[10:], held=False)
            profile(send_confirmations)
            return
        if args.profile and args.batch:
            from petitions.tasks import deliver_letters

            chunks = [letters[i : i + args.batch] for i in range(0, len(letters), args.batch)]
            for chunk in chunks[:3]:
                deliver_letters(chunk)
            profile(lambda: [deliver_letters(chunk) for chunk in chunks[3:]])
            return
        if args.profile:
            for pk in letters[:10]:
                deliver_letter(pk)
            profile(lambda: [deliver_letter(pk) for pk in letters[10:]])
            return
        measure_confirmations(confirmations, timer, stand_ins.pid)
        measure_letters(letters, timer, stand_ins.pid)
        measure_due_letters(make_data(args.count, "d")[1], timer, stand_ins.pid)
        if args.batch:
            measure_batches(make_data(args.count, "b")[1], args.batch, timer, stand_ins.pid)
        if args.worker:
            confirmations, letters = make_data(args.count, "w")
            worker_cpu("confirmation", confirmations, log_dir)
            worker_cpu("letter", letters, log_dir)
            worker_cpu("due letter", make_data(args.count, "y")[1], log_dir)
            if args.batch:
                worker_cpu("letter", make_data(args.count, "x")[1], log_dir, batch=args.batch)
    finally:
        stand_ins.send_signal(signal.SIGTERM)
        stand_ins.wait(10)


if __name__ == "__main__":
    main()
