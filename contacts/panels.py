"""Panels other apps add to the contact page (e.g. the reciprocity panel).

A panel is ``(request, contact) -> Widget | None`` (see ``referralcrm.dashboard.Widget``),
registered in the app's ``AppConfig.ready()`` with ``panels.register(fn)``. Each runs a
bounded number of queries.

A panel registered with ``lazy=True`` is not run with the page: the page holds a
placeholder of the panel's shape (``placeholder``, a template given the contact) that htmx
fills from ``/contacts/<pk>/panels/<name>/`` once the page is shown, as the dashboard's
lazy widgets do, so a panel of several aggregates never delays the contact's own page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse

from referralcrm.dashboard import Widget

PanelFn = Callable[..., Widget | None]


@dataclass(frozen=True)
class Registered:
    fn: PanelFn
    lazy: bool = False
    placeholder: str = ""

    @property
    def name(self) -> str:
        return self.fn.__name__.removesuffix("_panel").replace("_", "-")


_panels: list[Registered] = []


def register(fn: PanelFn, *, lazy: bool = False, placeholder: str = "") -> PanelFn:
    if all(existing.fn is not fn for existing in _panels):
        entry = Registered(fn, lazy, placeholder)
        if any(existing.name == entry.name for existing in _panels):
            raise ValueError(f"two contact panels are named {entry.name!r}")
        _panels.append(entry)
    return fn


def panels_for(request, contact) -> list[Widget]:
    """The contact page's panels: each rendered, or (lazy) its placeholder."""
    shown = []
    for entry in _panels:
        if entry.lazy:
            shown.append(
                Widget(
                    "",
                    {"contact": contact},
                    lazy_url=reverse("contacts:panel", args=[contact.pk, entry.name]),
                    name=entry.name,
                    placeholder=entry.placeholder,
                )
            )
        elif (widget := entry.fn(request, contact)) is not None:
            widget.name = entry.name
            shown.append(widget)
    return shown


def lazy_names() -> set[str]:
    return {entry.name for entry in _panels if entry.lazy}


def lazy_panel(request, contact, name: str) -> Widget | None:
    """The lazy panel called ``name`` for ``contact`` (one of the request's user's own: the
    caller looked it up with ``for_user``); None when there is none or it shows nothing."""
    for entry in _panels:
        if entry.lazy and entry.name == name:
            widget = entry.fn(request, contact)
            if widget is not None:
                widget.name = entry.name
            return widget
    return None
