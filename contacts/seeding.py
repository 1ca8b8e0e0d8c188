"""Other apps extend ``seed_demo`` with their own synthetic data.

A seeder is ``(rng, user, contacts, meetings, now, scale) -> Counter`` registered in the
app's ``AppConfig.ready()`` with ``seeding.register(fn)``. It runs inside the user's
seeding transaction, after contacts and meetings are inserted (with primary keys).
``scale`` is the number of meetings asked for, so data stays in proportion.
"""

from __future__ import annotations

from collections.abc import Callable

Seeder = Callable[..., object]
_seeders: list[Seeder] = []


def register(fn: Seeder) -> Seeder:
    if fn not in _seeders:
        _seeders.append(fn)
    return fn


def seeders() -> list[Seeder]:
    return list(_seeders)
