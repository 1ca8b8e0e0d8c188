"""The contact timeline, open to other apps through one small interface.

An app registers a provider in its ``AppConfig.ready()``::

    from contacts import timeline
    timeline.register(my_provider)

A provider is ``(contact, limit) -> list[Entry]``: it runs a bounded number of queries
(at most ``limit`` rows) and names the template that renders each entry. The contact page
merges all entries by date. ``contacts`` never imports the other apps.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.template.defaultfilters import date as date_filter
from django.utils import timezone
from django.utils.formats import localize
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from referralcrm.links import escape


@dataclass
class Entry:
    """One line of the timeline. ``render`` (optional), ``(obj, contact) -> str``: the
    entry's HTML written in Python, the same markup as ``template`` (tests compare the two),
    for kinds a contact has dozens of; the page includes ``template`` for the others."""

    when: datetime
    template: str
    obj: Any
    kind: str = ""
    render: Callable[[Any, Any], str] | None = None
    html: str = ""


Provider = Callable[[Any, int], list[Entry]]
_providers: list[Provider] = []


def register(provider: Provider) -> Provider:
    if provider not in _providers:
        _providers.append(provider)
    return provider


def entries_for(contact, limit: int = 30) -> list[Entry]:
    entries: list[Entry] = []
    for provider in _providers:
        entries.extend(provider(contact, limit))
    far_past = timezone.make_aware(datetime(1970, 1, 1))
    entries.sort(key=lambda e: e.when or far_past, reverse=True)
    entries = entries[:limit]
    for entry in entries:
        if entry.render is not None:
            entry.html = mark_safe(entry.render(entry.obj, contact))  # noqa: S308  # nosec B308, B703
    return entries


# --- For renderers: what the templates' filters write ----------------------------------


def day(value, format: str | None = "j M Y") -> str:
    """``{{ value|date:"j M Y" }}``, escaped (a datetime in the current time zone, as the
    template engine gives it to the filter); ``format`` None: ``{{ value }}``."""
    zone = None
    if isinstance(value, datetime):
        value = timezone.template_localtime(value)
        # Aware datetimes of one instant are equal in every zone: the zone is in the key.
        zone = (value.utcoffset(), value.tzname())
    return _formatted(value, zone, format, get_language())


def stamp(value: datetime) -> str:
    """``{{ value }}`` of an aware datetime (its localised date and time in the current time
    zone), escaped, formatted once per instant, zone and language as ``day`` does."""
    return day(value, None)


@functools.lru_cache(maxsize=4096)
def _formatted(value, zone, format: str | None, language: str | None) -> str:
    """Formatting a date reads its month's name from the translations (~50 µs): the same
    days come back on every page, so each is formatted once per zone and language. No
    ``format``: what ``{{ value }}`` writes (``localize``)."""
    return escape(localize(value) if format is None else date_filter(value, format))
