"""The attendance list's items (``<li>``) on the organisers' site, rendered in Python.

A meeting of a 300-member group lists every member with a form, a CSRF field and two links
to the same route each: Django's template engine spent ~40 ms there, most of the page. This
is the markup the template partial had (tests/test_group_attendance.py compares the two on
every kind of item); the htmx answer to one tap is one of these items too.
"""

from __future__ import annotations

from django.utils.safestring import SafeString, mark_safe

from referralcrm.links import csrf_field, escape, url_maker

from .models import AttendanceCode

UNMARKED = "\u2013"  # the en dash shown in the code's box until a mark is given


def item(
    mark_url: str,
    membership,
    attendance,
    csrf: str,
    *,
    error: str = "",
    substitute_input: str = "",
) -> str:
    """One member's ``<li>``: ``mark_url`` is theirs, ``csrf`` the CSRF field's HTML."""
    pk = membership.pk
    code = attendance.code if attendance else ""
    name = escape(membership.name)
    state = escape(attendance.get_code_display()) if attendance else "not marked"
    htmx = f'hx-post="{mark_url}" hx-target="#m-{pk}" hx-swap="outerHTML"'
    out = [
        f'<li id="m-{pk}" class="attendance-item">\n'
        f'<form method="post" class="mark-row mark-{escape(code or "none")}" '
        f'action="{mark_url}"\n{htmx}>\n{csrf}\n'
        '<input type="hidden" name="cycle" value="1">\n'
        f'<span class="mark-code" aria-hidden="true">{escape(code or UNMARKED)}</span>\n'
        f'<button type="submit" class="mark mark-{escape(code or "none")}" '
        f'aria-label="{name}: {state}. Tap to change.">\n'
        f'<span class="mark-name">{name}</span>\n</button>\n'
    ]
    if membership.seat:
        out.append(f'<small class="mark-seat">{escape(membership.seat)}</small>')
    out.append("\n</form>\n")
    if code == AttendanceCode.SUBSTITUTE:
        value = substitute_input if error else attendance.substitute_name
        out.append(
            f'<form method="post" class="substitute" action="{mark_url}"\n'
            f'{htmx} hx-trigger="change, submit">\n{csrf}\n'
            '<input type="hidden" name="code" value="S">\n'
            f'<label for="sub-{pk}">Substitute for {name}</label>\n'
            f'<input id="sub-{pk}" name="substitute_name" maxlength="120" '
            f'value="{escape(value)}" autocomplete="off">\n'
            '<button type="submit" class="button">Save</button>\n</form>\n'
        )
    if error:
        out.append(f'<p class="errornote" role="alert">{escape(error)}</p>')
    out.append("\n</li>\n")
    return "".join(out)


def render(meeting_id: int, rows, csrf_token: str, *, error: str = "") -> SafeString:
    """Every row's item (``rows``: {"membership", "attendance"} as the page builds them)."""
    mark_url = url_maker("organise:attendance_mark", 2)
    csrf = csrf_field(csrf_token)
    items = [
        item(
            mark_url(meeting_id, r["membership"].pk),
            r["membership"],
            r["attendance"],
            csrf,
            error=error,
        )
        for r in rows
    ]
    return mark_safe("".join(items))  # noqa: S308  # nosec B308, B703
