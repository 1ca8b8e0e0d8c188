"""Say in one line whether the test servers (PostgreSQL, Redis) are reachable."""

import os
import socket
import sys
from urllib.parse import urlparse

DEFAULTS = {
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/referralcrm",
    "REDIS_URL": "redis://127.0.0.1:6379/13",
}
PORTS = {"postgres": 5432, "postgresql": 5432, "redis": 6379}


def reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or PORTS[parsed.scheme]), timeout=2
        ):
            return True
    except OSError:
        return False


def main() -> int:
    down = [
        f"{name} ({url})"
        for name, url in ((n, os.environ.get(n) or d) for n, d in DEFAULTS.items())
        if not reachable(url)
    ]
    if down:
        print(
            "Tests need PostgreSQL and Redis; not reachable: "
            + ", ".join(down)
            + ". Start them with `docker compose up -d db redis` (or set DATABASE_URL/REDIS_URL)."
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
