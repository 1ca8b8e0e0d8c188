"""The dashboard composes widgets that each app provides.

An app registers a widget in its ``AppConfig.ready()``::

    dashboard.register(order=20)(my_widget)

A widget is a function ``(request) -> Widget | None``; it runs its own (bounded)
queries and names the template that renders it. No app imports another's views.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.http import HttpRequest


@dataclass
class Widget:
    template: str
    context: dict = field(default_factory=dict)
    wide: bool = False
    # Live widgets are re-rendered when the page's data changes (e.g. a meeting is logged).
    live: bool = True


WidgetFn = Callable[[HttpRequest], Widget | None]
_registry: list[tuple[int, WidgetFn]] = []


def register(order: int = 50) -> Callable[[WidgetFn], WidgetFn]:
    def decorator(fn: WidgetFn) -> WidgetFn:
        if all(existing is not fn for _, existing in _registry):
            _registry.append((order, fn))
            _registry.sort(key=lambda pair: pair[0])
        return fn

    return decorator


def widgets_for(request: HttpRequest) -> list[Widget]:
    return [w for _, fn in _registry if (w := fn(request)) is not None]
