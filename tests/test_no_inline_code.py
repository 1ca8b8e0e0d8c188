"""The Content-Security-Policy forbids inline scripts, handlers and styles: no template may
carry one. E-mail templates use classes too; their styles are inlined when a message is
rendered (referralcrm.emails)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INLINE = re.compile(
    r"<script>|<script [^>]*>[^<]|hx-on[:-]|\bon(click|change|submit|input|keydown|load|focus)="
    r"|style=\"|js:"
)


def page_templates() -> list[Path]:
    skip = {".venv", "static", "staticfiles", "var", "node_modules"}
    return [
        path for path in ROOT.rglob("*.html") if not skip.intersection(path.relative_to(ROOT).parts)
    ]


def test_templates_are_found():
    names = {p.name for p in page_templates()}
    assert {"base.html", "picker.html", "attendance.html"} <= names


def test_no_page_template_has_inline_code():
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()[:80]}"
        for path in page_templates()
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if INLINE.search(line)
    ]
    assert found == []
