"""PostgreSQL restarted under a burst of requests: clean 503s with Retry-After while it is
down, then recovery without restarting the app.

The test starts a PostgreSQL of its own (initdb in a temporary folder, run as the postgres
user) and the app under gunicorn against it, so stopping that database touches nothing else.
"""

from __future__ import annotations

import contextlib
import glob
import http.cookiejar
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(*args: str) -> subprocess.CompletedProcess:
    # No pipes: the server that pg_ctl starts would hold them open, and run() would wait.
    return subprocess.run(
        ["runuser", "-u", "postgres", "--", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
        timeout=120,
    )


@contextlib.contextmanager
def own_postgres():
    assert PG_BIN, "PostgreSQL's server binaries are needed (Debian's postgresql package)"
    bin_dir = PG_BIN[-1]
    folder = tempfile.mkdtemp(prefix="rcrm-pg-")
    shutil.chown(folder, user="postgres", group="postgres")
    data = os.path.join(folder, "data")
    port = _free_port()
    _as_postgres(f"{bin_dir}/initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync")
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"

    log = os.path.join(folder, "server.log")

    def start():
        _as_postgres(f"{bin_dir}/pg_ctl", "-D", data, "-o", options, "-l", log, "-w", "start")

    def stop():
        _as_postgres(f"{bin_dir}/pg_ctl", "-D", data, "-m", "fast", "-w", "stop")

    start()
    try:
        yield port, start, stop
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            stop()
        shutil.rmtree(folder, ignore_errors=True)


def _get(opener, url: str) -> tuple[int, dict, str]:
    try:
        with opener.open(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


def test_a_database_restart_gives_clean_503s_then_the_app_recovers(tmp_path):
    with own_postgres() as (pg_port, start_pg, stop_pg):
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "referralcrm.settings",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{pg_port}/postgres",
            "SECRET_KEY": "fault-test-" + "x" * 40,
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1",
            "STATIC_ROOT": str(tmp_path / "static"),
            "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13"),
        }
        manage = [sys.executable, "manage.py"]
        for command in (["migrate", "-v", "0"], ["collectstatic", "--no-input", "-v", "0"]):
            subprocess.run(manage + command, cwd=ROOT, env=env, check=True)
        subprocess.run(
            [*manage, "shell", "-c",
             "from accounts.models import User; from allauth.account.models import EmailAddress;"
             "u = User.objects.create_user('fault@example.com', 'fault-Passw0rd!');"
             "EmailAddress.objects.create(user=u, email=u.email, verified=True, primary=True)"],
            cwd=ROOT, env=env, check=True,
        )  # fmt: skip
        web_port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "referralcrm.wsgi", "-b", f"127.0.0.1:{web_port}",
             "-w", "2", "--timeout", "30"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        base = f"http://127.0.0.1:{web_port}"
        try:
            for _ in range(100):
                with contextlib.suppress(OSError):
                    urllib.request.urlopen(base + "/accounts/login/", timeout=2)
                    break
                time.sleep(0.1)
            jar = http.cookiejar.CookieJar()
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
            _, _, page = _get(opener, base + "/accounts/login/")
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
            form = urllib.parse.urlencode(
                {"csrfmiddlewaretoken": token, "login": "fault@example.com",
                 "password": "fault-Passw0rd!"}
            ).encode()  # fmt: skip
            request = urllib.request.Request(
                base + "/accounts/login/", data=form, headers={"Referer": base + "/"}
            )
            opener.open(request, timeout=10)
            before = [_get(opener, base + "/contacts/")[0] for _ in range(5)]
            assert before == [200] * 5

            stop_pg()
            during = [_get(opener, base + "/contacts/") for _ in range(5)]
            assert [status for status, _, _ in during] == [503] * 5
            assert all(headers.get("Retry-After") == "30" for _, headers, _ in during)
            assert "Back in a moment" in during[0][2]
            api = _get(opener, base + "/api/v1/contacts/")
            assert api[0] == 503 and "unavailable" in api[2]

            start_pg()
            after = [_get(opener, base + "/contacts/")[0] for _ in range(5)]
            assert after == [200] * 5  # same processes, same session: reconnected by itself
            assert server.poll() is None
        finally:
            server.terminate()
            server.wait(10)
