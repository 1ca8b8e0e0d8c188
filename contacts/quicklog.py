"""Extensions of the quick-log form that other apps provide (e.g. follow-up ticks).

An extension has a ``template`` (a fragment rendered inside the form, with ``form`` in
context) and ``handle(meeting, data, user)``, called inside the transaction that saves
the meeting, so a tick is saved with the meeting or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Extension:
    name: str
    template: str
    handle: Callable


_extensions: dict[str, Extension] = {}


def register(extension: Extension) -> Extension:
    _extensions[extension.name] = extension
    return extension


def extensions() -> list[Extension]:
    return list(_extensions.values())
