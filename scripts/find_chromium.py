"""Print the path of a Chromium for the browser tests, installing Debian's if need be.

Looks, in order, at CHROMIUM_PATH, Debian's /usr/bin/chromium, chromium or chromium-browser
on the PATH, and Playwright's own downloaded browser. With none found, a root user with apt
gets Debian's package installed; anyone else gets one line saying what to install (exit 1).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess  # nosec B404 - runs apt-get with fixed arguments, as root, by design
import sys
from pathlib import Path


def candidates() -> list[str]:
    found = [os.environ.get("CHROMIUM_PATH", ""), "/usr/bin/chromium"]
    found += [shutil.which(name) or "" for name in ("chromium", "chromium-browser")]
    # Playwright's own browser, where `playwright install` could download one.
    with contextlib.suppress(Exception):
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            found.append(pw.chromium.executable_path)
    return [path for path in found if path]


def usable(path: str) -> bool:
    return Path(path).is_file() and os.access(path, os.X_OK)


def main() -> int:
    for path in candidates():
        if usable(path):
            print(path)
            return 0
    apt = shutil.which("apt-get")
    if os.geteuid() == 0 and apt:
        print("Installing Debian's chromium for the browser tests…", file=sys.stderr)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        # Fixed arguments, no outside input.
        subprocess.run([apt, "update", "-qq"], check=False, env=env)  # nosec B603
        install = [apt, "install", "-y", "-qq", "chromium"]
        done = subprocess.run(install, check=False, env=env)  # nosec B603
        if done.returncode == 0 and usable("/usr/bin/chromium"):
            print("/usr/bin/chromium")
            return 0
    print(
        "Browser tests need Chromium: install it (apt install chromium) or set CHROMIUM_PATH.",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
