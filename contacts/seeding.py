"""Other apps extend ``seed_demo`` with their own synthetic data.

A seeder is ``(rng, user, contacts, meetings, now, scale) -> Counter`` registered in the
app's ``AppConfig.ready()`` with ``seeding.register(fn)``. It runs inside the user's
seeding transaction, after contacts and meetings are inserted (with primary keys).
``scale`` is the number of meetings asked for, so data stays in proportion.

Data that spans users (networking groups, say) comes from a *global* seeder,
``fn(*, rng, options, now, stdout, password_hash, demo_user) -> Counter`` registered with
``seeding.register_global(fn)``. It runs once, after every user is seeded, inside a
transaction of its own. ``rng`` is ``random.Random(f"{seed}:{app label}")``, ``options``
holds every option of the command (``seed`` resolved), ``password_hash`` is the hash new
users get and ``demo_user`` the demo user with ``--demo`` (else None). Its options come
from ``seeding.register_arguments(fn)``, where ``fn(parser)`` adds argparse options.
"""

from __future__ import annotations

from collections.abc import Callable

Seeder = Callable[..., object]
_seeders: list[Seeder] = []
_global_seeders: list[Seeder] = []
_argument_adders: list[Callable] = []


def register(fn: Seeder) -> Seeder:
    if fn not in _seeders:
        _seeders.append(fn)
    return fn


def seeders() -> list[Seeder]:
    return list(_seeders)


def register_global(fn: Seeder) -> Seeder:
    if fn not in _global_seeders:
        _global_seeders.append(fn)
    return fn


def global_seeders() -> list[Seeder]:
    return list(_global_seeders)


def register_arguments(fn: Callable) -> Callable:
    if fn not in _argument_adders:
        _argument_adders.append(fn)
    return fn


def argument_adders() -> list[Callable]:
    return list(_argument_adders)
