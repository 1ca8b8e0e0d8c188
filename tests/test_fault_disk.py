"""Disk full on the embedded default (SQLite): a clear error, reads go on, nothing corrupted,
and writes work again once space is freed.

The app runs under gunicorn on a SQLite file in a temporary folder. A full disk is
simulated portably, without root: every connection the app opens caps the file at a fixed
number of pages (``PRAGMA max_page_count`` through ``init_command`` in DATABASE_URL), and
the test fills the file up to that cap with a filler table — SQLite then fails writes with
SQLITE_FULL, "database or disk is full", exactly as on a full disk. Deleting the filler
rows frees pages inside the file, as deleting files would free the disk.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EMAIL = "full@example.com"
PASSWORD = "full-Passw0rd!"
ROOM = 40  # pages (4 kB each) of room above what the app holds when the test starts
SET_UP = f"""
from allauth.account.models import EmailAddress
from django.core.management import call_command
from accounts.models import User
call_command("migrate", verbosity=0)
call_command(
    "collectstatic", interactive=False, verbosity=0,
    ignore_patterns=["admin", "rest_framework", "drf_spectacular_sidecar", "django_htmx"],
)
user = User.objects.create_user({EMAIL!r}, {PASSWORD!r})
EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Browser:
    """Cookies, CSRF tokens and form posts over plain HTTP."""

    def __init__(self, base: str):
        self.base = base
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def get(self, path: str) -> tuple[int, str]:
        return self._open(urllib.request.Request(self.base + path))

    def post(self, path: str, fields: dict) -> tuple[int, str]:
        _, page = self.get(path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, **fields}).encode()
        headers = {"Referer": self.base + path}
        return self._open(urllib.request.Request(self.base + path, data=data, headers=headers))

    def _open(self, request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=15) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()


def fill_up(path: Path, cap: int) -> int:
    """Add filler rows until the file reaches ``cap`` pages; return the rows added."""
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA max_page_count = {cap}")
    db.execute("CREATE TABLE IF NOT EXISTS filler (blob BLOB)")
    db.commit()
    rows = 0
    with contextlib.suppress(sqlite3.OperationalError):  # "database or disk is full"
        while True:
            db.execute("INSERT INTO filler VALUES (randomblob(1000))")
            db.commit()
            rows += 1
    db.close()
    return rows


def sql(path: Path, query: str, *params) -> list:
    db = sqlite3.connect(path)
    try:
        rows = db.execute(query, params).fetchall()
        db.commit()
        return rows
    finally:
        db.close()


def contact_form(name: str) -> dict:
    unknown = dict.fromkeys(("is_expert", "is_passionate", "honours_referrals"), "unknown")
    return {"name": name, "stage": "contact", "cadence_days": 30, "notes": "n" * 6000, **unknown}


def test_a_full_disk_gives_a_clear_error_and_nothing_is_lost(tmp_path):
    database = tmp_path / "db.sqlite3"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "EMAIL_URL"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="referralcrm.settings",
        SECRET_KEY="disk-full-test-" + "x" * 40,
        DEBUG="0",
        DATA_DIR=str(tmp_path),
        STATIC_ROOT=str(tmp_path / "static"),
        DATABASE_URL=f"sqlite:///{database}",
    )
    # One process migrates, collects the static files the pages use and adds the user.
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SET_UP], cwd=ROOT, env=env, check=True,
        timeout=300,
    )  # fmt: skip
    [(pages,)] = sql(database, "PRAGMA page_count")
    cap = pages + ROOM
    # Every connection of the app is capped at ``cap`` pages: the disk's size.
    capped = urllib.parse.quote(f"PRAGMA max_page_count = {cap}")
    env["DATABASE_URL"] = f"sqlite:///{database}?init_command={capped}"
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "referralcrm.wsgi", "-b", f"127.0.0.1:{port}",
         "-w", "1", "--timeout", "30"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        browser = Browser(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError):
                browser.get("/accounts/login/")
                break
            assert time.monotonic() < deadline, "gunicorn did not answer"
            time.sleep(0.2)
        status, _ = browser.post("/accounts/login/", {"login": EMAIL, "password": PASSWORD})
        assert status == 200  # followed the redirect to the dashboard
        for name in ("Before One", "Before Two"):
            status, _ = browser.post("/contacts/new/", contact_form(name))
            assert status == 200
        before = sql(database, "SELECT id, name, notes FROM contacts_contact ORDER BY id")
        assert [row[1] for row in before] == ["Before One", "Before Two"]

        assert fill_up(database, cap) > 0  # the disk is now full

        status, page = browser.post("/contacts/new/", contact_form("During"))
        assert status == 507, page
        assert "Storage is full" in page
        assert "Traceback" not in page
        # Reading goes on.
        for path in ("/contacts/", f"/contacts/{before[0][0]}/", "/dashboard/", "/followups/"):
            status, page = browser.get(path)
            assert status == 200, path
        assert "Before Two" in browser.get("/contacts/")[1]
        # Nothing corrupted, nothing lost, nothing half-written.
        assert sql(database, "PRAGMA integrity_check") == [("ok",)]
        assert sql(database, "SELECT id, name, notes FROM contacts_contact ORDER BY id") == before

        sql(database, "DELETE FROM filler")  # space is freed
        status, page = browser.post("/contacts/new/", contact_form("After"))
        assert status == 200, page
        names = [name for (name,) in sql(database, "SELECT name FROM contacts_contact")]
        assert sorted(names) == ["After", "Before One", "Before Two"]
        assert sql(database, "PRAGMA integrity_check") == [("ok",)]
        assert server.poll() is None
    finally:
        server.terminate()
        server.wait(timeout=10)
