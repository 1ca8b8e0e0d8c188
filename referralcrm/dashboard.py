"""The dashboard composes widgets that each app provides.

An app registers a widget in its ``AppConfig.ready()``::

    dashboard.register(order=20)(my_widget)

A widget is a function ``(request) -> Widget | None``; it runs its own (bounded)
queries and names the template that renders it. No app imports another's views.

A widget registered with ``lazy=True`` is not run with the page: the page holds a
placeholder of the widget's size that htmx fills from ``/dashboard/widgets/<name>/`` once
the page is shown (``hx-trigger="load"``), so a costly widget never delays the first paint
and the page does not shift when it arrives. Its ``wide`` and ``live`` are given at
registration, since the page is laid out before the widget runs. A lazy widget that has
nothing to show for some users is given ``shown``, a cheap check run with the page: where
it says no, the page holds no placeholder that would later vanish.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.http import HttpRequest
from django.urls import reverse


@dataclass
class Widget:
    template: str
    context: dict = field(default_factory=dict)
    wide: bool = False
    # Live widgets are re-rendered when the page's data changes (e.g. a meeting is logged).
    live: bool = True
    # Set on a lazy widget's placeholder: the URL that renders the widget itself.
    lazy_url: str = ""
    name: str = ""
    placeholder: str = ""


WidgetFn = Callable[[HttpRequest], Widget | None]


@dataclass(frozen=True)
class Registered:
    order: int
    fn: WidgetFn
    lazy: bool = False
    wide: bool = False
    live: bool = True
    placeholder: str = ""
    shown: Callable[[HttpRequest], bool] | None = None

    @property
    def name(self) -> str:
        return self.fn.__name__.removesuffix("_widget").replace("_", "-")


_registry: list[Registered] = []


def register(
    order: int = 50,
    *,
    lazy: bool = False,
    wide: bool = False,
    live: bool = True,
    placeholder: str = "",
    shown: Callable[[HttpRequest], bool] | None = None,
) -> Callable[[WidgetFn], WidgetFn]:
    """``placeholder`` (lazy widgets) names a template of the widget's shape shown until it
    arrives, so nothing below it moves; without one, a line saying it is loading. ``shown``
    (lazy widgets): whether the widget has anything to show the request's user."""

    def decorator(fn: WidgetFn) -> WidgetFn:
        if all(existing.fn is not fn for existing in _registry):
            entry = Registered(order, fn, lazy, wide, live, placeholder, shown)
            if any(existing.name == entry.name for existing in _registry):
                raise ValueError(f"two dashboard widgets are named {entry.name!r}")
            _registry.append(entry)
            _registry.sort(key=lambda e: e.order)
        return fn

    return decorator


def widgets_for(request: HttpRequest) -> list[Widget]:
    widgets = []
    for entry in _registry:
        if entry.lazy:
            if entry.shown is not None and not entry.shown(request):
                continue
            widgets.append(
                Widget(
                    "partials/lazy_widget.html",
                    wide=entry.wide,
                    live=entry.live,
                    lazy_url=reverse("dashboard_widget", args=[entry.name]),
                    name=entry.name,
                    placeholder=entry.placeholder,
                )
            )
        elif (widget := entry.fn(request)) is not None:
            widget.name = entry.name
            widgets.append(widget)
    return widgets


def lazy_widget(request: HttpRequest, name: str) -> Widget | None:
    """The lazy widget called ``name`` rendered for ``request``; None when there is no such
    widget (or it has nothing to show)."""
    for entry in _registry:
        if entry.lazy and entry.name == name:
            widget = entry.fn(request)
            if widget is not None:
                widget.name, widget.wide = entry.name, entry.wide
            return widget
    return None


def lazy_names() -> list[str]:
    return [entry.name for entry in _registry if entry.lazy]
