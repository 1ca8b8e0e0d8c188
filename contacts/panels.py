"""Panels other apps add to the contact page (e.g. the reciprocity panel).

A panel is ``(request, contact) -> Widget | None`` (see ``referralcrm.dashboard.Widget``),
registered in the app's ``AppConfig.ready()`` with ``panels.register(fn)``. Each runs a
bounded number of queries.
"""

from __future__ import annotations

from collections.abc import Callable

from referralcrm.dashboard import Widget

PanelFn = Callable[..., Widget | None]
_panels: list[PanelFn] = []


def register(fn: PanelFn) -> PanelFn:
    if fn not in _panels:
        _panels.append(fn)
    return fn


def panels_for(request, contact) -> list[Widget]:
    return [w for fn in _panels if (w := fn(request, contact)) is not None]
