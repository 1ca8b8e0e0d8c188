"""`make bench`: performance figures on PostgreSQL (not in the test suite).

Uses its own database (BENCH_DATABASE_URL, default referralcrm_bench, dropped and
re-created) and prints a table of figures:

1. seed_demo: 10,000 contacts + 100,000 meetings (and the ledger: ~20,000 referrals) for one user
2. the contact list, contact page, dashboard, ledger and who-to-ask for that user: SQL queries and ms
3. the digest sweep over 10,000 users with 1,000,000 contacts: seconds and queries per user
4. sending digests to a local SMTP server over one reused connection: e-mails per second
5. the member report of a 300-member networking group over a year (seed_demo --groups 1
   --group-size 300): seeding seconds, then the report built in-process (median ms, queries)
   and the organisers' report page over HTTP
6. import of a 10,000-card vCard file (preview + confirm, then the same file again) and the
   import preview page; full JSON export of the 10,000-contact user; each command in its own
   process so its peak memory is its own
7. what users feel, over HTTP (scripts/bench_http.py): the 10k user (user1) and a 1k user
   (user2: 1,000 contacts, 10,000 meetings, ~2,000 referrals, 500 follow-ups), both members of
   the group of item 5; per page: queries, SQL ms of its own queries (PostgreSQL's EXPLAIN
   ANALYZE), ms outside SQL, then gunicorn (2 workers) driven by wrk at 1 and 4 connections:
   p50/p95/p99, requests/s, growth from the 1k to the 10k user; the workers' memory after
   10,000 requests. Each figure is marked against its target (✓/✗).

It prints a table and writes everything to bench/results.json (git-ignored). Exits 1 when a
page answered anything but a 2xx.

Environment:
    BENCH_ONLY=http           only the HTTP part, on the bench database as it is (seeding the
                              two users and the group only if they are missing; never dropped)
    BENCH_ONLY=sweep          only the digest sweep (item 3), on the bench database as it is
                              (its 10,000 users made only if missing, their digests unclaimed)
    BENCH_PAGES="dashboard,contact list"   only these pages (names in bench_http.PAGES)
    BENCH_HTTP_SECONDS=3      each wrk run;  BENCH_HTTP_RUNS=7  in-process runs per page
    BENCH_MEMORY_SECONDS=600  at most this long topping the requests up to 10,000 (memory)
    CONN_MAX_AGE              and other settings reach gunicorn from the environment
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/referralcrm_bench"
)
USERS = int(os.environ.get("BENCH_USERS", "10000"))
CONTACTS_PER_USER = int(os.environ.get("BENCH_CONTACTS_PER_USER", "100"))
SEND_COUNT = int(os.environ.get("BENCH_SEND", "1000"))
GROUP_SIZE = int(os.environ.get("BENCH_GROUP_SIZE", "300"))
REPORT_RUNS = 7
BENCH_ONLY = os.environ.get("BENCH_ONLY", "").strip().lower()
RESULTS = ROOT / "bench" / "results.json"
SWEEP_TARGET_SECONDS = 20


def recreate_database() -> None:
    parsed = urlparse(BENCH_URL)
    name = parsed.path.lstrip("/")
    admin = BENCH_URL.rsplit("/", 1)[0] + "/postgres"
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def ensure_database() -> None:
    """BENCH_ONLY=http reuses the bench database: created when missing, never dropped."""
    name = urlparse(BENCH_URL).path.lstrip("/")
    admin = BENCH_URL.rsplit("/", 1)[0] + "/postgres"
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django() -> None:
    os.environ["DATABASE_URL"] = BENCH_URL
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/11")
    # Collected static files of the bench's own, served by whitenoise as in production.
    os.environ.setdefault("STATIC_ROOT", str(ROOT / "bench" / "staticfiles"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "referralcrm.settings"
    import django

    django.setup()


results: list[tuple[str, str]] = []


def report(name: str, value: str) -> None:
    results.append((name, value))
    print(f"  {name}: {value}", flush=True)


@contextlib.contextmanager
def counting_queries():
    """Count the SQL statements run inside the block: ``with counting_queries() as n: ...; n[0]``."""
    from django.db import connection

    queries = [0]

    def count(execute, sql, params, many, context):
        queries[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        yield queries


def bench_seed() -> None:
    from django.core.management import call_command

    start = time.perf_counter()
    call_command(
        "seed_demo", users=1, contacts=10_000, meetings=100_000, seed=1, password="bench-password"
    )
    report(
        "seed_demo 10,000 contacts + 100,000 meetings (1 user)",
        f"{time.perf_counter() - start:.1f} s",
    )


def bench_pages() -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from contacts.models import Contact
    from referrals import reciprocity
    from referrals.models import Referral

    user = User.objects.get(email="user1@example.com")
    report("referrals of that user", f"{Referral.objects.filter(owner=user).count():,}")
    start = time.perf_counter()
    rows = list(reciprocity.who_to_ask(user, limit=10))
    report(
        "who-to-ask list (10 rows) over 10,000 contacts",
        f"{(time.perf_counter() - start) * 1000:.0f} ms",
    )
    assert rows, "who to ask is empty"
    client = Client()
    client.force_login(user)
    contact = Contact.objects.filter(owner=user).order_by("-last_touched_at").first()
    pages = {
        "contact list": "/contacts/",
        "contact list, search 'an'": "/contacts/?q=an",
        "contact list, stalled": "/contacts/?stalled=on&sort=overdue",
        "contact page": f"/contacts/{contact.pk}/",
        "dashboard": "/dashboard/",
        "ledger": "/referrals/",
        "who to ask": "/referrals/who-to-ask/",
        "follow-ups": "/followups/",
    }
    for name, url in pages.items():
        client.get(url)  # warm
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            response = client.get(url)
            ms = (time.perf_counter() - start) * 1000
        assert response.status_code == 200, (url, response.status_code)
        report(f"page {name}", f"{len(ctx.captured_queries)} queries, {ms:.0f} ms")


def make_digest_population() -> None:
    """USERS users with CONTACTS_PER_USER contacts each, a few due follow-ups each."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import User
    from contacts.models import Contact, GainsFact
    from followups.models import DigestPreference, FollowUp

    rng = random.Random(7)
    now = timezone.now()
    start = time.perf_counter()
    password = make_password("bench")
    zones = ["UTC", "Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]
    with transaction.atomic():
        users = User.objects.bulk_create(
            [
                User(email=f"digest{i}@example.com", password=password, time_zone=rng.choice(zones))
                for i in range(USERS)
            ],
            batch_size=5000,
        )
        DigestPreference.objects.bulk_create(
            [
                DigestPreference(
                    user=u,
                    weekdays=[0, 1, 2, 3, 4, 5, 6],
                    next_digest_at=now - timedelta(minutes=1),
                    calendar_token=f"bench-{u.pk}",
                )
                for u in users
            ],
            batch_size=5000,
        )
    contacts_total = 0
    for chunk_start in range(0, len(users), 500):
        chunk = users[chunk_start : chunk_start + 500]
        rows = []
        for u in chunk:
            for j in range(CONTACTS_PER_USER):
                last = now - timedelta(days=rng.randint(0, 200))
                cadence = rng.choice([14, 30, 60, 90, None])
                rows.append(
                    Contact(
                        owner=u,
                        name=f"Contact {j}",
                        company="Co",
                        cadence_days=cadence,
                        last_touched_at=last,
                        created_at=last - timedelta(days=30),
                        touch_due_at=(last + timedelta(days=cadence)) if cadence else None,
                    )
                )
        with transaction.atomic():
            created = Contact.objects.bulk_create(rows, batch_size=10000)
            contacts_total += len(created)
            facts, followups = [], []
            for c in created[:: CONTACTS_PER_USER // 10 or 1]:
                facts.append(
                    GainsFact(
                        owner_id=c.owner_id,
                        contact=c,
                        kind="goal",
                        text="Wants to grow",
                        learned_on=now.date(),
                    )
                )
                followups.append(
                    FollowUp(
                        owner_id=c.owner_id,
                        contact=c,
                        title="Call back",
                        due_on=now.date() - timedelta(days=rng.randint(0, 5)),
                    )
                )
            GainsFact.objects.bulk_create(facts, batch_size=10000)
            FollowUp.objects.bulk_create(followups, batch_size=10000)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    report(
        f"digest population: {USERS:,} users, {contacts_total:,} contacts (built in)",
        f"{time.perf_counter() - start:.1f} s",
    )


def bench_sweep() -> None:
    from django.utils import timezone

    from followups import digest
    from followups.models import DigestLog

    now = timezone.now()
    non_empty = 0
    start = time.perf_counter()
    with counting_queries() as queries:
        claimed = digest.sweep(now=now)
        claim_seconds, claim_queries = time.perf_counter() - start, queries[0]
        for offset in range(0, len(claimed), 1000):
            logs = DigestLog.objects.filter(pk__in=claimed[offset : offset + 1000])
            batch = [(entry.user, entry.local_date) for entry in logs.select_related("user")]
            non_empty += sum(not d.is_empty for d in digest.build_many(batch, now).values())
    elapsed = time.perf_counter() - start
    report(
        f"digest sweep: who is due, {len(claimed):,} users claimed",
        f"{claim_seconds:.1f} s, {claim_queries} queries",
    )
    report(
        f"digest sweep + building every digest for {USERS:,} users",
        f"{elapsed:.1f} s, {queries[0] / max(USERS, 1):.2f} queries per user, {non_empty:,} non-empty",
    )


def bench_send() -> None:
    import asyncio  # noqa: F401 - aiosmtpd needs it loaded

    from aiosmtpd.controller import Controller
    from django.core.mail import get_connection
    from django.db.models import Prefetch  # noqa: F401
    from django.utils import timezone

    from followups import digest, mail
    from followups.models import DigestLog

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(len(envelope.content))
            return "250 OK"

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        now = timezone.now()
        logs = list(DigestLog.objects.select_related("user").order_by("pk")[:SEND_COUNT])
        built = [(digest.build(entry.user, entry.local_date, now), entry) for entry in logs]
        built = [(d, e) for d, e in built if not d.is_empty]
        connection = get_connection(
            "django.core.mail.backends.smtp.EmailBackend", host="127.0.0.1", port=port, timeout=10
        )
        start = time.perf_counter()
        connection.open()
        for d, entry in built:
            mail.build_message(d, entry, connection).send()
        connection.close()
        elapsed = time.perf_counter() - start
    finally:
        controller.stop()
    report(
        f"send {len(built):,} digests over one SMTP connection (render + send)",
        f"{len(received) / elapsed:.0f} e-mails/s ({elapsed:.1f} s)",
    )


def bench_group_report() -> None:
    """A GROUP_SIZE-member group with a year of meetings, slips and one-to-ones, then its
    member report: in-process (median of REPORT_RUNS) and as the organisers' page."""
    from io import StringIO

    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from groups import report as member_report
    from groups.models import Group, Slip

    start = time.perf_counter()
    # Only the group part: user1 exists already and gets nothing more; the other members
    # are made by the group seeder with a profile and no private data.
    call_command(
        "seed_demo",
        users=1,
        contacts=0,
        meetings=0,
        seed=1,
        groups=1,
        group_size=GROUP_SIZE,
        password="bench-password",
        stdout=StringIO(),
    )
    seconds = time.perf_counter() - start
    group = Group.objects.latest("pk")
    members = group.memberships.count()
    report(
        f"seed_demo --groups 1 --group-size {GROUP_SIZE}: {members} members, "
        f"{Slip.objects.filter(group=group).count():,} slips",
        f"{seconds:.1f} s",
    )

    end = timezone.localdate()
    begin = end - timedelta(days=365)
    member_report.build(group, begin, end)  # warm
    timings, queries = [], 0
    for _ in range(REPORT_RUNS):
        with counting_queries() as counted:
            started = time.perf_counter()
            built = member_report.build(group, begin, end)
            timings.append((time.perf_counter() - started) * 1000)
        queries = counted[0]
    assert len(built.rows) == members and built.totals["given"], "the report is empty"
    report(
        f"member report, {members} members over a year (in-process, median of {REPORT_RUNS})",
        f"{queries} queries, {statistics.median(timings):.0f} ms",
    )

    # The organisers' page needs an organiser with an authenticator, signed in with it.
    import bench_http

    client = Client()
    client.cookies["sessionid"] = bench_http.organiser_session(group.pk)
    url = f"/organise/report/?group={group.pk}&period=12m"
    name = f"page organisers' member report, {members} members, 12 months"
    response = client.get(url)  # warm
    if response.status_code != 200:
        report(name, f"n/a (HTTP {response.status_code})")
        return
    timings, queries = [], 0
    for _ in range(REPORT_RUNS):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        queries = len(ctx.captured_queries)
    report(name, f"{queries} queries, {statistics.median(timings):.0f} ms")


IMPORT_CARDS = int(os.environ.get("BENCH_IMPORT_CARDS", "10000"))

PEAK_RUNNER = """
import re, sys, time, django
django.setup()
from django.core.management import call_command
started = time.perf_counter()
call_command(*sys.argv[1:], stdout=open("/dev/null", "w"))
# VmHWM: this process's own peak (ru_maxrss would carry the forking parent's over exec).
peak_kb = int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1))
print(time.perf_counter() - started, peak_kb // 1024)
"""


def _run_command(*args: str) -> tuple[float, int]:
    """(seconds, peak MB) of a management command run in a process of its own."""
    # Runs this same Python on a fixed script with our own arguments: no outside input.
    import subprocess  # nosec B404

    out = subprocess.run(  # nosec B603
        [sys.executable, "-c", PEAK_RUNNER, *args],
        cwd=ROOT,
        env={**os.environ},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return float(out[-2]), int(out[-1])


def make_vcards(path: Path, count: int) -> None:
    rng = random.Random(9)
    firsts = ["Ana", "Ben", "Chloe", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivan", "Jo"]
    lasts = ["Roe", "Diaz", "Okafor", "Nguyen", "Smith", "Berg", "Kaur", "Rossi", "Ito", "Lund"]
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            first, last = rng.choice(firsts), rng.choice(lasts)
            out.write(
                "BEGIN:VCARD\r\nVERSION:3.0\r\n"
                f"FN:{first} {last} {i}\r\nN:{last} {i};{first};;;\r\n"
                f"ORG:{last} & Co {i % 700}\r\nTITLE:Consultant\r\n"
                f"EMAIL;TYPE=INTERNET,WORK:{first.lower()}.{i}@example.com\r\n"
                f"TEL;TYPE=CELL:+1 415 {200 + i // 10000:03d} {i % 10000:04d}\r\n"
                f"BDAY:--{1 + i % 12:02d}{1 + i % 28:02d}\r\n"
                f"CATEGORIES:Chapter {i % 5},Prospects\r\n"
                f"NOTE:Met at mixer {i % 40}\\, wants introductions\r\nEND:VCARD\r\n"
            )


def bench_portability() -> None:
    import tempfile

    from django.test import Client

    from accounts.models import User
    from contacts.models import Contact
    from portability import importer
    from portability.models import ImportBatch

    importer_user = User.objects.create_user("importer@example.com", "bench-password")
    with tempfile.TemporaryDirectory() as tmp:
        vcf = Path(tmp) / "phone.vcf"
        make_vcards(vcf, IMPORT_CARDS)
        size_mb = vcf.stat().st_size / 1024 / 1024
        seconds, peak = _run_command("import_contacts", "--user", importer_user.email, str(vcf))
        created = Contact.objects.filter(owner=importer_user).count()
        report(
            f"import {IMPORT_CARDS:,}-card vCard ({size_mb:.1f} MB), preview + confirm",
            f"{seconds:.1f} s, peak {peak} MB, {created:,} contacts created",
        )
        seconds, peak = _run_command("import_contacts", "--user", importer_user.email, str(vcf))
        again = Contact.objects.filter(owner=importer_user).count() - created
        report(
            "the same file imported again (all matched)",
            f"{seconds:.1f} s, peak {peak} MB, {again} contacts created",
        )
        # The pages' path (what the Celery tasks run) for another new user: read and
        # match, the preview page (first 100 of 10,000 rows), then confirm and import.
        web_user = User.objects.create_user("importer2@example.com", "bench-password")
        batch = ImportBatch.objects.create(
            owner=web_user, filename="phone.vcf", format="vcard", data=vcf.read_bytes()
        )
        started = time.perf_counter()
        importer.prepare(batch)
        preview_s = time.perf_counter() - started
        client = Client()
        client.force_login(web_user)
        url = f"/import/{batch.pk}/"
        client.get(url)
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            assert client.get(url).status_code == 200
            timings.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        assert importer.confirm(batch)
        batch = importer.run(batch.pk)
        confirm_s = time.perf_counter() - started
        report(
            f"import {IMPORT_CARDS:,} cards through the pages' code: preview, then confirm",
            f"{preview_s:.1f} s + {confirm_s:.1f} s, "
            f"{Contact.objects.filter(owner=web_user).count():,} contacts created",
        )
        report(
            f"import preview page ({IMPORT_CARDS:,} rows, 100 shown)",
            f"{statistics.median(timings):.0f} ms",
        )

        archive = Path(tmp) / "archive.json"
        seconds, peak = _run_command(
            "export_data",
            "--user",
            "user1@example.com",
            "--format",
            "json",
            "--output",
            str(archive),
        )
        report(
            "JSON export of 10,000 contacts + 100,000 meetings",
            f"{seconds:.1f} s, peak {peak} MB, {archive.stat().st_size / 1024 / 1024:.0f} MB file",
        )


def bench_api() -> None:
    """The API's list of 100 contacts with their GAINS for the 10,000-contact user, over a
    bearer token (server time in-process, queries), and the webhook fan-out."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from api.models import ApiToken

    user = User.objects.get(email="user1@example.com")
    _, token = ApiToken.issue(user, name="bench", scope="read")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    url = "/api/v1/contacts/?page_size=100"
    assert client.get(url).status_code == 200
    timings = []
    for _ in range(9):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    page = response.json()
    assert len(page["results"]) == 100
    report(
        "API: 100 contacts with GAINS (of 10,000), bearer token",
        f"{len(ctx.captured_queries)} queries, {statistics.median(timings):.0f} ms (median of 9)",
    )
    from bench_webhooks import bench_webhooks

    seconds, delivered = bench_webhooks()
    report(
        "webhook fan-out: 1,000 events to a local receiver",
        f"{seconds:.1f} s, {delivered} delivered",
    )


def bench_plan() -> None:
    """Introduction suggestions over the 10,000-contact user's network (best of 3), and the
    plan page and a one-to-one brief (queries, median ms) for that user."""
    from bench_plan import bench_suggestions
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from contacts.models import Contact, GainsFact

    user = User.objects.get(email="user1@example.com")
    facts = GainsFact.objects.filter(owner=user).count()
    seconds, count = bench_suggestions(email=user.email, limit=20)
    report(
        f"introduction suggestions (20) over 10,000 contacts / {facts:,} GAINS facts",
        f"{seconds * 1000:.0f} ms, {count} found",
    )
    client = Client()
    client.force_login(user)
    contact = Contact.objects.filter(owner=user).order_by("-last_touched_at").first()
    for name, url in {
        "plan page": "/plan/",
        "introductions page": "/plan/introductions/",
        "one-to-one brief": f"/plan/prep/{contact.pk}/",
    }.items():
        client.get(url)
        timings = []
        for _ in range(5):
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        report(
            f"page {name}",
            f"{len(ctx.captured_queries)} queries, {statistics.median(timings):.0f} ms",
        )


def seed_for_http() -> None:
    """BENCH_ONLY=http: seed what the HTTP part needs, unless an earlier run did."""
    import bench_http

    from accounts.models import User
    from groups.models import Membership

    if not User.objects.filter(email=bench_http.BIG).exists():
        bench_seed()
    if not User.objects.filter(email=bench_http.SMALL).exists():
        report("seed_demo: the 1k user", bench_http.seed_small_user())
    if not Membership.objects.filter(user__email=bench_http.SMALL).exists():
        bench_group_report()


def prepare_sweep_again() -> None:
    """BENCH_ONLY=sweep: the digest population as ``make_digest_population`` leaves it, made
    if missing; else every digest of it unclaimed and due again, as on its first run."""
    from django.db import connection
    from django.utils import timezone

    from followups.models import DigestLog, DigestPreference

    population = DigestPreference.objects.filter(user__email__startswith="digest")
    if not population.exists():
        make_digest_population()
        return
    DigestLog.objects.filter(user__email__startswith="digest").delete()
    population.update(next_digest_at=timezone.now() - timedelta(minutes=1))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")  # autovacuum's work, as before the HTTP part


def timed_sweep() -> dict:
    started = time.perf_counter()
    bench_sweep()
    seconds = time.perf_counter() - started
    sweep = {"seconds": round(seconds, 1), "target": SWEEP_TARGET_SECONDS}
    sweep["ok"] = seconds <= SWEEP_TARGET_SECONDS
    report(
        f"digest sweep, all of bench_sweep (target ≤ {SWEEP_TARGET_SECONDS} s)",
        f"{seconds:.1f} s {'✓' if sweep['ok'] else '✗'}",
    )
    return sweep


def write_results(http: dict, sweep: dict | None) -> None:
    RESULTS.parent.mkdir(exist_ok=True)
    data = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": BENCH_URL,
        "only": BENCH_ONLY or None,
        "figures": [{"name": name, "value": value} for name, value in results],
        "sweep": sweep,
        "http": http,
    }
    RESULTS.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def main() -> int:
    if BENCH_ONLY not in {"", "http", "sweep"}:
        sys.exit(f"BENCH_ONLY={BENCH_ONLY!r}: only 'http' and 'sweep' are known")
    print(f"Benchmark database: {BENCH_URL}", flush=True)
    if BENCH_ONLY:
        ensure_database()
    else:
        recreate_database()
    setup_django()
    import bench_http
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    sweep = None
    if BENCH_ONLY == "sweep":
        prepare_sweep_again()
        sweep = timed_sweep()
        write_results({}, sweep)
        print("\n| figure | value |\n|---|---|")
        for name, value in results:
            print(f"| {name} | {value} |")
        return 0
    if BENCH_ONLY == "http":
        seed_for_http()
    else:
        bench_seed()
        report(
            "seed_demo --first-user 2: the 1k user (1,000 contacts + 10,000 meetings)",
            bench_http.seed_small_user(),
        )
        bench_pages()
        # Before the digest population: its ANALYZE stays small, and the digest figures are
        # unchanged (the group's members are not due).
        bench_group_report()
        bench_portability()
        bench_api()
        bench_plan()
        make_digest_population()
        sweep = timed_sweep()
        bench_send()
    # Last: the pages meet the whole database, other users' rows included.
    http = bench_http.run()
    write_results(http, sweep)
    if results:
        print("\n| figure | value |\n|---|---|")
        for name, value in results:
            print(f"| {name} | {value} |")
    print()
    print(bench_http.table(http))
    print(f"\nWritten to {RESULTS.relative_to(ROOT)}")
    failed = [row["name"] for row in http["pages"] if row.get("failed")]
    if failed:
        print(f"FAILED pages (not 2xx): {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
