"""The contact timeline, open to other apps through one small interface.

An app registers a provider in its ``AppConfig.ready()``::

    from contacts import timeline
    timeline.register(my_provider)

A provider is ``(contact, limit) -> list[Entry]``: it runs a bounded number of queries
(at most ``limit`` rows) and names the template that renders each entry. The contact page
merges all entries by date. ``contacts`` never imports the other apps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone


@dataclass
class Entry:
    when: datetime
    template: str
    obj: Any
    kind: str = ""


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
    return entries[:limit]
