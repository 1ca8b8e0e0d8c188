"""Where a new referral is shared instead of kept private (e.g. a slip to a group member).

A handler is ``(user, cleaned_data) -> Referral | None``, registered in the app's
``AppConfig.ready()`` with ``sharing.register(fn)``. The ledger form calls the handlers
before saving: the first to return the user's ledger row has recorded it (shared with the
other party); if none does, the referral is saved as the user's private row.
"""

from __future__ import annotations

from collections.abc import Callable

Handler = Callable[..., object]
_handlers: list[Handler] = []


def register(fn: Handler) -> Handler:
    if fn not in _handlers:
        _handlers.append(fn)
    return fn


def share(user, data: dict):
    for handler in _handlers:
        if (row := handler(user, data)) is not None:
            return row
    return None
