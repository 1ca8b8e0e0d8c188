"""HTML e-mails: the templates carry classes, and ``templates/emails/email.css`` is inlined
into style attributes when a message is rendered (mail clients ignore stylesheets; the
templates themselves stay free of inline styles like every other template)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import css_inline
from django.conf import settings
from django.template.loader import render_to_string


@cache
def _inliner() -> css_inline.CSSInliner:
    css = (Path(settings.BASE_DIR) / "templates" / "emails" / "email.css").read_text()
    return css_inline.CSSInliner(extra_css=css, load_remote_stylesheets=False)


def render_html(template: str, context: dict) -> str:
    """Render an HTML e-mail template with the e-mail stylesheet inlined."""
    return _inliner().inline(render_to_string(template, context))
