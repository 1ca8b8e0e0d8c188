"""The pairs of the duplicates page (``<li>`` each: the reasons, both contacts' cards, and
"Review and merge" / "Not duplicates"), rendered in Python rather than by a template.

A page has 50 pairs, so 100 contact cards of a dozen values each: Django's template engine
spent ~15 ms on them, most of the page's budget. Links come from ``referralcrm.links``
(one ``reverse()`` per route for the page); everything from the user is escaped.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from referralcrm.links import csrf_field, url_maker


def _card(contact, url: str) -> str:
    name = escape(contact.name)
    archived = ' <span class="badge badge-muted">archived</span>' if contact.is_archived else ""
    about = " · ".join(escape(text) for text in (contact.profession, contact.company) if text)
    facts = "".join(f"<li>{escape(fact)}</li>" for fact in [*contact.emails, *contact.phones])
    n = contact.meeting_count
    return (
        f'<section class="merge-card" aria-label="{name}">\n'
        f'  <div class="spread"><a href="{url}"><strong>{name}</strong></a>{archived}</div>\n'
        f"{f'  <small>{about}</small>' if about else ''}\n"
        f'  <ul class="merge-facts">{facts}'
        f'<li class="muted">{n} meeting{"" if n == 1 else "s"}</li></ul>\n'
        f"</section>\n"
    )


def render(candidates, csrf_token: str) -> SafeString:
    """The ``<li>`` of each candidate (``low`` and ``high`` filled by ``with_contacts``,
    with ``meeting_count``), for a page whose CSRF token is ``csrf_token``."""
    contact_url, merge_url = url_maker("contacts:detail"), url_maker("portability:merge", 2)
    dismiss_url = reverse("portability:dismiss_duplicate")
    csrf = csrf_field(csrf_token)
    rows = []
    for pair in candidates:
        low, high = pair.low_id, pair.high_id
        reasons = "".join(
            f'<span class="badge badge-warn">{escape(reason)}</span>' for reason in pair.reason_list
        )
        rows.append(
            f'<li id="pair-{low}-{high}">\n'
            f'<p class="row">{reasons}</p>\n'
            f'<div class="merge-pair">\n'
            f"{_card(pair.low, contact_url(low))}{_card(pair.high, contact_url(high))}"
            f"</div>\n"
            f'<div class="row">\n'
            f'  <a role="button" href="{merge_url(low, high)}">Review and merge</a>\n'
            f'  <form method="post" action="{dismiss_url}" class="inline-form"'
            f' hx-post="{dismiss_url}" hx-target="closest li" hx-swap="outerHTML">\n'
            f"    {csrf}\n"
            f'    <input type="hidden" name="a" value="{low}">\n'
            f'    <input type="hidden" name="b" value="{high}">\n'
            f'    <button type="submit" class="secondary outline">Not duplicates</button>\n'
            f"  </form>\n"
            f"</div>\n"
            f"</li>\n"
        )
    # Every value from the user or the database is escaped above.
    return mark_safe("".join(rows))  # noqa: S308  # nosec B308, B703
