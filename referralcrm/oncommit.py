"""Work gathered during a transaction and done once, when it commits.

A subclass of ``OnCommit`` collects what a transaction touched (ids, say) and does the work
in ``run()``. ``current()`` is this transaction's collector, registered with ``on_commit``
once: a rolled-back transaction (or savepoint) drops its callback, and the next change
starts afresh. plan.strength (refreshing relationship strength) and plan.precompute
(marking stored suggestions stale) use it.
"""

from __future__ import annotations

from typing import Self

from django.db import transaction


class OnCommit:
    def __init__(self) -> None:
        self.done = False

    def run(self) -> None:
        raise NotImplementedError

    def __call__(self) -> None:
        self.done = True
        connection = transaction.get_connection()
        if getattr(connection, self._attr(), None) is self:
            setattr(connection, self._attr(), None)
        self.run()

    @classmethod
    def _attr(cls) -> str:
        return f"_oncommit_{cls.__module__}.{cls.__qualname__}"

    @classmethod
    def current(cls) -> Self:
        connection = transaction.get_connection()
        pending = getattr(connection, cls._attr(), None)
        if (
            pending is None
            or pending.done
            or not any(entry[1] is pending for entry in connection.run_on_commit)
        ):
            pending = cls()
            setattr(connection, cls._attr(), pending)
            # robust: a failure is logged, never turns a committed change into an error.
            transaction.on_commit(pending, robust=True)
        return pending
