"""Extra suggestions other apps add to the contact picker (e.g. fellow group members).

A source is ``(user, q, limit) -> list[Suggestion]``, registered in the app's
``AppConfig.ready()`` with ``picker.register(fn)``; one bounded query each. Picking a
suggestion POSTs to its ``url`` (which may add a contact) and gets back the picker's chip.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Suggestion:
    label: str
    detail: str
    url: str


Source = Callable[..., list[Suggestion]]
_sources: list[Source] = []


def register(fn: Source) -> Source:
    if fn not in _sources:
        _sources.append(fn)
    return fn


def extra_suggestions(user, q: str, limit: int) -> list[Suggestion]:
    found: list[Suggestion] = []
    for source in _sources:
        if len(found) >= limit:
            break
        found += source(user, q, limit - len(found))
    return found
