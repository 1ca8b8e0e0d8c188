"""Form widgets shared by the apps.

``FastSelect`` is Django's ``Select`` rendered in Python instead of through the widget
templates: the profile's time-zone list has about 600 options, and Django renders each one
through two template includes, ~40 ms of a 75 ms page; here it takes ~2 ms. The HTML is
the same, character for character (tests/test_fast_select.py compares the two).
"""

from __future__ import annotations

import html

from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, mark_safe


def _text(value) -> str:
    """``{{ value }}``: localised, then escaped unless already safe."""
    if type(value) is str:  # Django's escape() is html.escape() behind lazy-aware wrappers
        return html.escape(value)
    return conditional_escape(localize(value))


def _formatted(value) -> str:
    """``{{ value|stringformat:'s' }}``: not localised; a safe value stays unescaped."""
    if isinstance(value, SafeData):
        return str(value)
    return html.escape(str(value))


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html: `` name="value"``, a bare name for True, nothing
    for False."""
    if not attrs:
        return ""
    return "".join(
        f" {_text(name)}" if value is True else f' {_text(name)}="{_formatted(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


class FastSelect(forms.Select):
    """A ``<select>`` whose options are rendered in Python (the same options, selection,
    optgroups, ids and ARIA attributes as ``forms.Select``: only the rendering differs)."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(f'\n  <optgroup label="{_text(group_name)}">')
            parts.extend(
                f'\n  <option value="{_formatted(option["value"])}"'
                f"{_attrs(option['attrs'])}>{_text(option['label'])}</option>\n"
                for option in options
            )
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")  # the renderer strips the template's last newline
        # Every name, value and label above is escaped.
        return mark_safe("".join(parts))  # noqa: S308  # nosec B308, B703


# Widget templates that are only django/forms/widgets/input.html.
_INPUT_TEMPLATES = frozenset(
    f"django/forms/widgets/{name}.html"
    for name in (
        "input", "text", "number", "email", "url", "password", "hidden", "date", "datetime",
        "time", "search", "tel", "color", "checkbox",
    )
)  # fmt: skip


class FastRenderer(DjangoTemplates):
    """The project's form renderer (``FORM_RENDERER``): Django's own, except that the
    templates every form draws most (an ``<input>``, a ``<textarea>``, a ``<label>``) are
    written in Python, with the same output as Django's templates character for character
    (tests/test_fast_select.py compares every field of the project's forms). A field took
    ~0.25 ms through three template includes; the quick log and the occasion form on every
    contact page have nine."""

    def render(self, template_name, context, request=None):
        if template_name in _INPUT_TEMPLATES:
            widget = context["widget"]
            value = widget["value"]
            shown = "" if value is None else f' value="{_formatted(value)}"'
            return (
                f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"'
                f"{shown}{_attrs(widget['attrs'])}>"
            )
        if template_name == "django/forms/widgets/textarea.html":
            widget = context["widget"]
            value = widget["value"]
            return (
                f'<textarea name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>\n'
                f"{_text(value) if value else ''}</textarea>"
            )
        if template_name == "django/forms/label.html":
            label = _text(context["label"])
            if not context["use_tag"]:
                return label.strip()
            tag = _text(context["tag"])
            return f"<{tag}{_attrs(context['attrs'])}>{label}</{tag}>"
        return super().render(template_name, context, request)
