"""`make bench`, the HTTP part: what users feel, page by page (issue 12).

Run by ``scripts/bench.py`` (all of ``make bench``, or only this part with
``BENCH_ONLY=http``) once Django is set up on the bench database. Two users are measured:
the 10k user (user1: 10,000 contacts, 100,000 meetings, ~20,000 referrals, 5,000
follow-ups) and the 1k user (user2: a tenth of each), both members of the bench's
networking group. For every page in ``PAGES`` and each user:

- in-process (``django.test.Client``, the same user): the number of SQL statements; the SQL
  time of its own queries according to PostgreSQL (each SELECT run again under
  ``EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON)`` with its parameters, planning + execution
  time summed, median of 3; other statements, such as session writes, are counted but not
  run again); and the time outside SQL (the request's time minus the wall time of its
  queries: Python, templates), median of ``BENCH_HTTP_RUNS``;
- over HTTP: gunicorn (2 sync workers, DEBUG off, static files by whitenoise as in
  production, no max-requests recycling) on loopback, the user logged in through the real
  log-in form (the API page uses a bearer token), one warm-up request, then ``wrk`` for
  ``BENCH_HTTP_SECONDS`` (default 3) at 1 connection (``-t1 -c1``) and at 4 (``-t2 -c4``):
  p50/p95/p99 and requests per second. Any response that is not a 2xx (a redirect too:
  the page is broken or the session was lost) fails that row, loudly.

Then the workers' memory: with at least 10,000 requests served in all (a round-robin pass
over every page tops the count up when needed), the VmRSS of each gunicorn worker.

Each figure is marked against its target (``TARGETS``, for the 10k user): p50 at 1
connection, p95 at 4, SQL ms, outside-SQL ms, growth of p50 from the 1k to the 10k user, a
query count that does not grow with the data, a worker under 150 MB. Timing stays out of the
test suite; this is where it is watched.

``BENCH_PAGES="dashboard,contact list"`` measures only those pages (names as in ``PAGES``);
``BENCH_MEMORY_SECONDS`` (600) bounds the round-robin (short of 10,000 requests, memory is
not judged). ``CONN_MAX_AGE`` reaches gunicorn from the environment, as any setting does
(the value used is in the results). wrk is used from PATH, installed with apt-get when
running as root, or asked for.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import os
import re
import shutil
import socket
import statistics
import subprocess  # nosec B404
import sys
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from io import StringIO
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
LUA = ROOT / "scripts" / "bench_http.lua"
BENCH_DIR = ROOT / "bench"
SECONDS = int(os.environ.get("BENCH_HTTP_SECONDS", "3"))
WARM_SECONDS = 1  # a wrk run at 4 connections before each page's measured runs
RUNS = int(os.environ.get("BENCH_HTTP_RUNS", "7"))
MEMORY_REQUESTS = 10_000
MEMORY_SECONDS = int(os.environ.get("BENCH_MEMORY_SECONDS", "600"))  # topping up, at most
PASSWORD = "bench-password"  # as bench.py's seed_demo calls
BIG, SMALL = "user1@example.com", "user2@example.com"
WORKERS = 2
LOG_HINT = "the server's log: bench/gunicorn.log"


@dataclass(frozen=True)
class Page:
    """A page to measure. ``path`` may hold ``{contact}`` (the user's most recently touched
    contact), ``{group}`` (a group they are a member of) and ``{slip}`` (their latest slip).
    ``kind`` picks the targets; ``token``: sent with a bearer token instead of the session;
    ``organiser``: a page of the organisers' site, requested as the organiser of that group
    (signed in with a password and an authenticator app, as the site asks), so the same
    page for both users: its growth only shows run-to-run noise. ``{meeting}`` is the
    group's latest meeting."""

    name: str
    path: str
    kind: str = "page"
    token: bool = False
    organiser: bool = False


# One list, easy to extend: add a page (or a dashboard widget's URL) here.
PAGES = [
    Page("dashboard", "/dashboard/"),
    # The dashboard's lazy widgets, each loaded by htmx once the page is shown.
    Page("dashboard widget: small steps", "/dashboard/widgets/small-steps/"),
    Page("dashboard widget: my groups", "/dashboard/widgets/group/"),
    Page("dashboard widget: chart", "/dashboard/widgets/chart/"),
    Page("contact list", "/contacts/"),
    Page("contact search, GAINS word 'golf'", "/contacts/?q=golf", kind="search"),
    Page("contact search 'an'", "/contacts/?q=an", kind="search"),
    # With a filter (or another sort): the list's own page query, not the best-match copy.
    Page("contact search 'an', stage filter", "/contacts/?q=an&stage=contact"),
    Page("typeahead 'an'", "/contacts/typeahead/?q=an", kind="typeahead"),
    Page("contact page", "/contacts/{contact}/"),
    Page("contact page panel: reciprocity", "/contacts/{contact}/panels/reciprocity/"),
    Page("ledger", "/referrals/"),
    Page("introductions", "/referrals/introductions/"),
    Page("spends", "/referrals/spends/"),
    Page("who to ask", "/referrals/who-to-ask/"),
    Page("follow-ups", "/followups/"),
    Page("profile settings", "/profile/"),
    Page("digest settings", "/followups/settings/"),
    Page("API tokens", "/settings/api-tokens/"),
    Page("webhooks", "/settings/webhooks/"),
    Page("plan", "/plan/"),
    Page("plan introductions", "/plan/introductions/"),
    Page("one-to-one brief", "/plan/prep/{contact}/"),
    Page("duplicates", "/contacts/duplicates/"),
    Page("import", "/import/"),
    Page("export", "/export/"),
    Page("my groups", "/groups/"),
    Page("group page", "/groups/{group}/"),
    Page("slip page", "/groups/slips/{slip}/"),
    Page("API contacts (50)", "/api/v1/contacts/?page_size=50", token=True),
    Page("organisers' site", "/organise/", organiser=True),
    Page(
        "organisers' member report, 12 months",
        "/organise/report/?group={group}&period=12m",
        organiser=True,
    ),
    Page("organisers' attendance", "/organise/meetings/{meeting}/attendance/", organiser=True),
]

# For the 10k user, in ms: p50 at 1 connection, p95 at 4, the page's own SQL.
TARGETS = {
    "page": {"p50": 30, "p95": 80, "sql": 5},
    "search": {"p50": 30, "p95": 40, "sql": 3},
    "typeahead": {"p50": 20, "p95": 40, "sql": 3},
}
OUTSIDE_SQL_MS = 20
GROWTH = 1.3  # p50 from the 1k to the 10k user
WORKER_MB = 150
# Before measuring, wait (at most QUIET_WAIT seconds) for the load average to fall below this.
QUIET_LOAD = float(os.environ.get("BENCH_QUIET_LOAD", "1.0"))
QUIET_WAIT = float(os.environ.get("BENCH_QUIET_WAIT", "180"))


def selected_pages() -> list[Page]:
    """The pages BENCH_PAGES names, comma-separated (a name may hold commas itself)."""
    parts = [n.strip() for n in os.environ.get("BENCH_PAGES", "").lower().split(",")]
    parts = [n for n in parts if n]
    if not parts:
        return list(PAGES)
    joined = "," + ",".join(parts) + ","

    def key(page: Page) -> str:
        return ",".join(n.strip() for n in page.name.lower().split(","))

    chosen = [p for p in PAGES if f",{key(p)}," in joined]
    covered = {n for p in chosen for n in key(p).split(",")}
    unknown = [n for n in parts if n not in covered]
    if unknown:
        names = "; ".join(p.name for p in PAGES)
        sys.exit(f"BENCH_PAGES: unknown {', '.join(unknown)}; pages are: {names}")
    return chosen


# --- Seeding ----------------------------------------------------------------------------


def seed_small_user() -> str:
    """The 1k user (user2): 1,000 contacts and 10,000 meetings, so ~2,000 referrals and 500
    follow-ups (seed_demo keeps them in proportion to the meetings)."""
    from django.core.management import call_command

    out = StringIO()
    started = time.perf_counter()
    call_command(
        "seed_demo",
        users=1,
        first_user=2,
        contacts=1_000,
        meetings=10_000,
        seed=2,
        password=PASSWORD,
        stdout=out,
    )
    return f"{time.perf_counter() - started:.1f} s"


def user_context(user) -> dict:
    """What the paths' placeholders stand for, for ``user``."""
    from django.db.models import F, Q

    from contacts.models import Contact
    from groups.models import GroupMeeting, Membership, MembershipStatus, Slip

    context = {}
    contact = (
        Contact.objects.for_user(user)
        .order_by(F("last_touched_at").desc(nulls_last=True), "pk")
        .first()
    )
    if contact:
        context["contact"] = contact.pk
    membership = (
        Membership.objects.of_user(user).exclude(status=MembershipStatus.LEFT).order_by("pk")
    ).first()
    if membership:
        context["group"] = membership.group_id
        meeting = GroupMeeting.objects.filter(group_id=membership.group_id).order_by("-on", "-pk")
        if meeting := meeting.first():
            context["meeting"] = meeting.pk
    slip = Slip.objects.filter(Q(giver__user=user) | Q(receiver__user=user)).order_by("-pk")
    if slip := slip.first():
        context["slip"] = slip.pk
    return context


# --- In-process: queries, SQL time from PostgreSQL, time outside SQL ------------------------


@contextlib.contextmanager
def recording_queries():
    """Every statement run inside the block: ``(sql, params, many, seconds)``."""
    from django.db import connection

    calls: list[tuple] = []

    def record(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            calls.append((sql, params, many, time.perf_counter() - started))

    with connection.execute_wrapper(record):
        yield calls


@contextlib.contextmanager
def kept_connection():
    """In-process requests keep one database connection: connecting is neither SQL nor
    Python, so it would blur both figures (the HTTP figures include it when gunicorn runs
    with CONN_MAX_AGE=0)."""
    from django.db import connection

    saved = connection.settings_dict["CONN_MAX_AGE"]
    connection.close()
    connection.settings_dict["CONN_MAX_AGE"] = None
    try:
        yield
    finally:
        connection.settings_dict["CONN_MAX_AGE"] = saved
        connection.close()


def is_select(sql: str) -> bool:
    """Only reads are run again under EXPLAIN ANALYZE (which executes the statement)."""
    head = sql.lstrip().upper()
    if head.startswith("SELECT"):
        return True
    writes = ("INSERT ", "UPDATE ", "DELETE ", "MERGE ")
    return head.startswith("WITH") and not any(w in head for w in writes)


def postgres_ms(calls: list[tuple]) -> list[tuple[float, str]]:
    """(planning + execution ms PostgreSQL reports, sql) for each SELECT in ``calls``.
    TIMING OFF: per-node clocks would inflate a many-row query's total, still measured."""
    from django.db import connection

    timed = []
    with connection.cursor() as cursor:
        for sql, params, many, _ in calls:
            if many or not is_select(sql):
                continue
            cursor.execute("EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + sql, params)
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            timed.append((plan[0]["Planning Time"] + plan[0]["Execution Time"], sql))
    return timed


def measure_in_process(client, path: str) -> dict:
    """Queries, SQL ms (PostgreSQL's own), server ms and ms outside SQL of one page."""
    response = client.get(path)  # warm
    if response.status_code != 200:
        raise PageFailed(f"in-process GET {path}: HTTP {response.status_code}")
    servers, outside = [], []
    with kept_connection():
        client.get(path)  # the kept connection opened
        for _ in range(RUNS):
            with recording_queries() as calls:
                started = time.perf_counter()
                response = client.get(path)
                seconds = time.perf_counter() - started
            if response.status_code != 200:
                raise PageFailed(f"in-process GET {path}: HTTP {response.status_code}")
            servers.append(seconds * 1000)
            outside.append((seconds - sum(c[3] for c in calls)) * 1000)
        passes = [postgres_ms(calls) for _ in range(3)]
    totals = [sum(ms for ms, _ in timed) for timed in passes]
    # The slowest query of the median pass: where to look first.
    median_pass = passes[totals.index(statistics.median_low(totals))]
    slowest = max(median_pass, default=(0.0, ""))
    return {
        "queries": len(calls),
        "not_selects": sum(1 for c in calls if c[2] or not is_select(c[0])),
        "sql_ms": round(statistics.median(totals), 2),
        "slowest_sql": {"ms": round(slowest[0], 2), "sql": slowest[1][:2000]},
        "server_ms": round(statistics.median(servers), 2),
        "outside_sql_ms": round(statistics.median(outside), 2),
    }


# --- HTTP: gunicorn, log-in, wrk ------------------------------------------------------------


class PageFailed(Exception):
    """A page answered something other than 200 (or had nothing to show): its row fails."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch(port: int, method: str, path: str, headers=None, body=None):
    """(status, headers, body) of one request, on a connection of its own."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def cookies(headers) -> dict[str, str]:
    jar = SimpleCookie()
    for value in headers.get_all("Set-Cookie") or []:
        jar.load(value)
    return {name: morsel.value for name, morsel in jar.items()}


def log_in(port: int, email: str) -> str:
    """Log in through allauth's form over HTTP, as a browser does; the session id."""
    status, headers, body = fetch(port, "GET", "/accounts/login/")
    csrf = cookies(headers).get("csrftoken")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if status != 200 or not csrf or not token:
        sys.exit(f"Log-in page: HTTP {status}, no CSRF cookie or token")
    form = {"login": email, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1).decode()}
    status, headers, _ = fetch(
        port,
        "POST",
        "/accounts/login/",
        headers={
            "Cookie": f"csrftoken={csrf}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        body=urlencode(form),
    )
    session = cookies(headers).get("sessionid")
    if status != 302 or not session:
        sys.exit(f"Logging in {email} over HTTP failed: HTTP {status}, no session cookie")
    # Signed in if a page for signed-in users does not send us to log in (a broken page,
    # a 500, fails its own row later).
    status, headers, _ = fetch(
        port, "GET", "/dashboard/", headers={"Cookie": f"sessionid={session}"}
    )
    if status in {301, 302} and "/accounts/login/" in headers.get("Location", ""):
        sys.exit(f"Logged in as {email} over HTTP, but the session is not accepted")
    return session


def find_wrk() -> str:
    """wrk from PATH; as root with apt-get, installed (Debian's wrk 4.1.0); else stop."""
    path, apt = shutil.which("wrk"), shutil.which("apt-get")
    if path is None and apt and os.geteuid() == 0:
        print("  installing wrk with apt-get...", flush=True)
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "check": False}
        # Fixed commands, no outside input.
        if subprocess.run([apt, "install", "-y", "-q", "wrk"], **quiet).returncode:  # nosec B603
            subprocess.run([apt, "update", "-q"], **quiet)  # nosec B603
            subprocess.run([apt, "install", "-y", "-q", "wrk"], **quiet)  # nosec B603
        path = shutil.which("wrk")
    if path is None:
        sys.exit(
            "The HTTP benchmark needs wrk: install it (apt-get install wrk / brew install wrk)."
        )
    return path


class Server:
    """gunicorn serving the app on loopback as in production, started and stopped by us."""

    def __init__(self, log_path: Path):
        self.port = free_port()
        self.log_path = log_path
        env = {
            **os.environ,  # DATABASE_URL (the bench database), REDIS_URL, SECRET_KEY...
            "DEBUG": "False",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SITE_URL": f"http://127.0.0.1:{self.port}",
            "API_RATE_LIMIT": "1000000/min",  # wrk is one client; the limit is not measured
        }
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "referralcrm.wsgi",
            "--workers",
            str(WORKERS),
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--timeout",
            "120",
        ]
        self.log = log_path.open("w")
        # Our own interpreter running gunicorn with fixed arguments (gunicorn.conf.py is
        # read from ROOT, as in production).
        self.process = subprocess.Popen(  # nosec B603
            command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )

    def wait_healthy(self, timeout: float = 60) -> None:
        """Until /healthz answers 200 (the beat heartbeat is recorded for it by the caller)."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"gunicorn exited ({self.process.returncode}); see {self.log_path}")
            with contextlib.suppress(OSError):
                status, _, body = fetch(self.port, "GET", "/healthz")
                if status == 200:
                    return
                last = f"HTTP {status}: {body[:300]!r}"
            time.sleep(0.3)
        self.stop()
        sys.exit(f"gunicorn never became healthy ({last}); see {self.log_path}")

    def worker_pids(self) -> list[int]:
        pids = []
        for status in Path("/proc").glob("[0-9]*/status"):
            with contextlib.suppress(OSError):
                ppid = re.search(r"^PPid:\s+(\d+)", status.read_text(), re.M)
                if ppid and int(ppid.group(1)) == self.process.pid:
                    pids.append(int(status.parent.name))
        return sorted(pids)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmRSS:\s+(\d+)", status, re.M).group(1)) / 1024


def wrk(tool: str, port: int, paths: list[str], headers: dict, threads: int, conns: int, seconds):
    """One wrk run over ``paths`` (in turn); the Lua script's figures."""
    command = [tool, f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--timeout", "60s"]
    command += ["-s", str(LUA)]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command += [f"http://127.0.0.1:{port}{paths[0]}", "--", *paths]
    # wrk with our own arguments: the paths and headers are the bench's.
    out = subprocess.run(  # nosec B603
        command, capture_output=True, text=True, check=True
    ).stdout
    return json.loads(next(line for line in reversed(out.splitlines()) if line.startswith("{")))


# --- The run --------------------------------------------------------------------------------


@dataclass
class Person:
    label: str
    user: object
    context: dict
    token: str
    session: str = ""
    organiser_session: str = ""

    def path(self, page: Page) -> str:
        try:
            return page.path.format_map(self.context)
        except KeyError as missing:
            raise PageFailed(f"no {missing.args[0]} for {self.user.email} to show") from None

    def headers(self, page: Page | None) -> dict:
        """The session cookie, or the bearer token for the API (both for a round-robin)."""
        if page is None:
            return {"Cookie": f"sessionid={self.session}", "Authorization": f"Bearer {self.token}"}
        if page.token:
            return {"Authorization": f"Bearer {self.token}"}
        if page.organiser:
            return {"Cookie": f"sessionid={self.organiser_session}"}
        return {"Cookie": f"sessionid={self.session}"}


def people() -> list[Person]:
    from accounts.models import User
    from api.models import ApiToken

    found = []
    for label, email in (("10k", BIG), ("1k", SMALL)):
        user = User.objects.get(email=email)
        _, token = ApiToken.issue(user, name="bench-http", scope="read")
        found.append(Person(label, user, user_context(user), token))
    if "group" in found[0].context:
        organiser = organiser_session(found[0].context["group"])
        for person in found:
            person.organiser_session = organiser
    return found


def organiser_session(group_id: int) -> str:
    """The key of a session of the group's organiser, signed in with a password and an
    authenticator app (the organisers' site asks for both); "" when it has none."""
    from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
    from allauth.mfa.models import Authenticator
    from django.test import Client

    from groups.models import Membership, Role

    organiser = (
        Membership.objects.filter(group_id=group_id, role=Role.ORGANISER)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    if organiser is None:
        return ""
    user = organiser.user
    authenticator, _ = Authenticator.objects.get_or_create(
        user=user,
        type=Authenticator.Type.TOTP,
        defaults={"data": {"secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"}},
    )
    client = Client()
    client.force_login(user)
    session, at = client.session, time.time()
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {"method": "password", "at": at, "email": user.email},
        {"method": "mfa", "at": at, "id": authenticator.pk, "type": Authenticator.Type.TOTP},
    ]
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()
    return session.session_key


def in_process(pages: list[Page], persons: list[Person], rows: dict) -> None:
    import logging

    from django.test import Client

    # A page that raises fails its row with the error's first line; no traceback on top.
    logging.getLogger("django.request").setLevel(logging.CRITICAL)
    for person in persons:
        session_client = Client()
        session_client.force_login(person.user)
        token_client = Client(HTTP_AUTHORIZATION=f"Bearer {person.token}")
        organiser_client = Client()
        organiser_client.cookies["sessionid"] = person.organiser_session
        for page in pages:
            row = rows[page.name]
            if row.get("failed"):
                continue
            try:
                client = token_client if page.token else session_client
                if page.organiser:
                    client = organiser_client
                row["users"][person.label] = measure_in_process(client, person.path(page))
            except PageFailed as failure:
                fail(row, f"{person.label}: {failure}")
            except Exception as error:  # a page that raises fails its row, not the bench
                first_line = str(error).splitlines()[0] if str(error) else ""
                fail(row, f"{person.label}: {type(error).__name__}: {first_line}")


def over_http(tool: str, server: Server, pages: list[Page], persons: list[Person], rows: dict):
    served = 0
    for person in persons:
        for page in pages:
            row = rows[page.name]
            if row.get("failed"):
                continue
            path, headers = person.path(page), person.headers(page)
            try:
                status, _, _ = fetch(server.port, "GET", path, headers=headers)  # warm-up
            except OSError as error:
                status = f"{type(error).__name__} {error}"
            served += 1
            if not isinstance(status, int) or not 200 <= status < 300:
                fail(row, f"{person.label}: warm-up GET {path}: HTTP {status} ({LOG_HINT})")
                continue
            # Both workers render the page before it is measured: at 1 connection one
            # worker can serve every request, and the other's first renders of the page
            # (templates compiled, modules imported on first use) then fell in the run at 4
            # (the dashboard, measured first: p99 469 ms, p95 125 ms; 52 ms once warm).
            served += wrk(tool, server.port, [path], headers, 2, 4, WARM_SECONDS)["requests"]
            figures = row["users"].setdefault(person.label, {})
            for threads, conns in ((1, 1), (2, 4)):
                run = wrk(tool, server.port, [path], headers, threads, conns, SECONDS)
                served += run["requests"]
                figures[f"c{conns}"] = run
                if not run["requests"]:
                    fail(
                        row, f"{person.label} at {conns} connection(s): no response in {SECONDS} s"
                    )
                    break
                if run["non2xx"] or run["socket_errors"]:
                    fail(
                        row,
                        f"{person.label} at {conns} connection(s): {run['non2xx']} responses "
                        f"not 2xx (first: HTTP {run['first_non2xx_status']}), "
                        f"{run['socket_errors']} socket errors ({LOG_HINT})",
                    )
                    break
            print(f"  {person.label} {page.name}: {short(figures)}", flush=True)
    return served


def short(figures: dict) -> str:
    parts = [f"{figures['queries']} queries, SQL {figures['sql_ms']:.1f} ms"] if figures else []
    if "c1" in figures:
        parts.append(f"p50@1 {figures['c1']['p50']:.1f} ms")
    if "c4" in figures:
        parts.append(f"p95@4 {figures['c4']['p95']:.1f} ms, {figures['c4']['rps']:.0f}/s")
    return ", ".join(parts)


def fail(row: dict, reason: str) -> None:
    row.setdefault("failed", reason)
    print(f"  !!! FAILED {row['name']}: {reason}", flush=True)


def memory(tool: str, server: Server, paths: list[str], person: Person, served: int) -> dict:
    """Top the requests served up to MEMORY_REQUESTS with a round-robin over every page that
    answered (for at most MEMORY_SECONDS), then each worker's VmRSS."""
    deadline = time.monotonic() + MEMORY_SECONDS
    non2xx = 0
    while served < MEMORY_REQUESTS and paths and time.monotonic() < deadline:
        seconds = max(1, min(10, math.ceil(deadline - time.monotonic())))
        run = wrk(tool, server.port, paths, person.headers(None), 2, 4, seconds)
        served += run["requests"]
        non2xx += run["non2xx"] + run["socket_errors"]
    workers = {pid: round(rss_mb(pid), 1) for pid in server.worker_pids()}
    peak = max(workers.values(), default=0.0)
    return {"requests": served, "non2xx": non2xx, "workers_rss_mb": workers, "max_rss_mb": peak}


def mark(row: dict) -> None:
    """Each figure of the 10k user against its target: ``row["ok"][figure]``."""
    big, small = row["users"].get("10k", {}), row["users"].get("1k", {})
    target, ok = TARGETS[row["kind"]], {}
    if "sql_ms" in big:
        ok["sql_ms"] = big["sql_ms"] <= target["sql"]
        ok["outside_sql_ms"] = big["outside_sql_ms"] <= OUTSIDE_SQL_MS
    if "queries" in big and "queries" in small:
        ok["queries"] = big["queries"] <= small["queries"]  # no more queries with more data
    if "c1" in big:
        ok["p50"] = big["c1"]["p50"] <= target["p50"]
    if "c4" in big:
        ok["p95"] = big["c4"]["p95"] <= target["p95"]
    if "c1" in big and "c1" in small:
        row["growth"] = round(big["c1"]["p50"] / small["c1"]["p50"], 2)
        ok["growth"] = row["growth"] <= GROWTH
    row["ok"] = ok


def settle_database() -> float:
    """What autovacuum does in production, done once before measuring (it may be off on a
    test machine, as on this one): the row versions that seeding left dead (every contact is
    written again by its triggers, strength and duplicate keys) are vacuumed and statistics
    gathered. Without it a search read three dead versions for each live contact.

    Then a CHECKPOINT: what the vacuum, the seeding or a test run just before wrote is
    flushed now, not by the checkpointer spreading it over the next minutes of measuring (a
    test run's databases took it four minutes here, and the pages measured first paid).
    Skipped where the bench's role may not checkpoint."""
    from django.db import DatabaseError, connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
        with contextlib.suppress(DatabaseError):  # autocommit: a refusal changes nothing
            cursor.execute("CHECKPOINT")
    return time.perf_counter() - started


def wait_for_quiet() -> float:
    """Seconds waited (at most QUIET_WAIT) for the machine's 1-minute load average to fall
    below QUIET_LOAD: right after seeding, a test run or an earlier bench, the pages measured
    first would otherwise pay for what was running before."""
    started = time.monotonic()
    while os.getloadavg()[0] >= QUIET_LOAD and time.monotonic() - started < QUIET_WAIT:
        time.sleep(2)
    return time.monotonic() - started


def run() -> dict:
    """The whole HTTP part: a dict for bench/results.json (rows that failed have ``failed``)."""
    from referralcrm.health import record_heartbeat

    pages = selected_pages()
    tool = find_wrk()
    print(
        f"VACUUM (ANALYZE) and CHECKPOINT of the bench database: {settle_database():.1f} s",
        flush=True,
    )
    waited = wait_for_quiet()
    print(
        f"Waited {waited:.0f} s for the load average to fall below {QUIET_LOAD} "
        f"(now {os.getloadavg()[0]:.2f})",
        flush=True,
    )
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    from django.conf import settings

    conn_max_age = settings.DATABASES["default"]["CONN_MAX_AGE"]  # gunicorn reads the same
    persons = people()
    rows = {p.name: {"name": p.name, "path": p.path, "kind": p.kind, "users": {}} for p in pages}
    print(
        f"HTTP: {len(pages)} pages x {len(persons)} users: in-process, then wrk {SECONDS} s "
        "at 1 and at 4 connections",
        flush=True,
    )
    in_process(pages, persons, rows)
    BENCH_DIR.mkdir(exist_ok=True)
    record_heartbeat()  # no beat runs here; /healthz then checks the database, cache, broker
    server = Server(BENCH_DIR / "gunicorn.log")
    try:
        server.wait_healthy()
        for person in persons:
            person.session = log_in(server.port, person.user.email)
        served = over_http(tool, server, pages, persons, rows)
        big = persons[0]
        paths = [big.path(p) for p in pages if not rows[p.name].get("failed")]
        used = memory(tool, server, paths, big, served)
    finally:
        server.stop()
    for row in rows.values():
        mark(row)
    # Judged only once enough requests went through (BENCH_MEMORY_SECONDS may cut it short).
    enough = used["requests"] >= MEMORY_REQUESTS
    used["ok"] = used["max_rss_mb"] < WORKER_MB if enough else None
    return {
        "settings": {
            "workers": WORKERS,
            "wrk_seconds": SECONDS,
            "in_process_runs": RUNS,
            "conn_max_age": conn_max_age,
            "cpus": os.cpu_count(),
            # The machine may be shared: how busy it was, over 1, 5 and 15 minutes.
            "load_average_at_start": load_at_start,
            "waited_for_quiet_s": round(waited),
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        },
        "targets": {
            "by_kind_ms": TARGETS,
            "outside_sql_ms": OUTSIDE_SQL_MS,
            "growth": GROWTH,
            "worker_mb": WORKER_MB,
        },
        "pages": list(rows.values()),
        "memory": used,
    }


def tick(ok: bool | None) -> str:
    return "" if ok is None else (" ✓" if ok else " ✗")


def table(result: dict) -> str:
    """The pages as a Markdown table, each figure marked against its target."""
    lines = [
        "| page | queries | SQL ms | outside-SQL ms | p50@1 | p95@4 | p99@4 | rps@4 "
        "| p50 1k | growth 1k→10k |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in result["pages"]:
        if row.get("failed"):
            lines.append(f"| {row['name']} | FAILED: {row['failed']} |||||||||")
            continue
        big, small, ok = row["users"]["10k"], row["users"]["1k"], row["ok"]
        queries = f"{big['queries']}{tick(ok.get('queries'))}"
        if not ok.get("queries", True):
            queries += f" (1k: {small['queries']})"
        lines.append(
            "| "
            + " | ".join(
                [
                    row["name"],
                    queries,
                    f"{big['sql_ms']:.1f}{tick(ok.get('sql_ms'))}",
                    f"{big['outside_sql_ms']:.1f}{tick(ok.get('outside_sql_ms'))}",
                    f"{big['c1']['p50']:.1f}{tick(ok.get('p50'))}",
                    f"{big['c4']['p95']:.1f}{tick(ok.get('p95'))}",
                    f"{big['c4']['p99']:.1f}",
                    f"{big['c4']['rps']:.0f}",
                    f"{small['c1']['p50']:.1f}",
                    f"{row['growth']:.2f}x{tick(ok.get('growth'))}",
                ]
            )
            + " |"
        )
    used, settings = result["memory"], result["settings"]
    short_of = "" if used["ok"] is not None else f", fewer than {MEMORY_REQUESTS:,}: not judged"
    lines.append("")
    lines.append(
        f"gunicorn worker memory after {used['requests']:,} requests{short_of}: max VmRSS "
        f"{used['max_rss_mb']:.0f} MB{tick(used['ok'])} (target < {WORKER_MB} MB after "
        f"{MEMORY_REQUESTS:,}; "
        + ", ".join(f"pid {pid}: {mb:.0f} MB" for pid, mb in used["workers_rss_mb"].items())
        + ")"
    )
    lines.append(
        f"{settings['workers']} sync workers, CONN_MAX_AGE={settings['conn_max_age']}, wrk "
        f"{settings['wrk_seconds']} s per run, {settings['cpus']} CPUs, load average "
        f"{settings['load_average_at_start'][0]} at the start, "
        f"{settings['load_average_at_end'][0]} at the end."
    )
    lines.append(
        "Targets (10k user): p50@1 ≤ 30 ms (typeahead 20), p95@4 ≤ 80 ms (search and typeahead "
        f"40), SQL ≤ 5 ms (search 3), outside SQL ≤ {OUTSIDE_SQL_MS} ms, growth ≤ {GROWTH}x, "
        "queries not above the 1k user's."
    )
    return "\n".join(lines)
