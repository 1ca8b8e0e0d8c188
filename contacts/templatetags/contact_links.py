"""Template filters for links to reach a contact."""

from __future__ import annotations

import re

from django import template

register = template.Library()

_NOT_DIALLED = re.compile(r"[^\d+*#,;]")


@register.filter
def tel_href(number: str) -> str:
    """A ``tel:`` URI for a phone number as typed: "+1 (415) 555-0101" -> "tel:+14155550101";
    an extension ("x 12", "ext. 12") becomes a pause and the digits (RFC 3966 allows no spaces)."""
    text = str(number or "")
    text = re.sub(r"\s*(?:ext\.?|x)\s*(\d+)\s*$", r",\1", text, flags=re.IGNORECASE)
    return "tel:" + _NOT_DIALLED.sub("", text)
