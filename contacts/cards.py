"""The contact list's cards (``<li>``), on the list and its search pages.

Rendered in Python rather than by the template: Django's engine spent ~0.15 ms on a card
(its badges, the time since the last meeting, the reason and the tags), 4 of the search
page's 18 ms. The markup is that of ``contacts/_card.html``, which the tests compare it with
for every branch; the links come from ``referralcrm.links`` (one ``reverse()`` a page).
"""

from __future__ import annotations

from collections import defaultdict

from django.template.defaultfilters import urlencode
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince

from referralcrm.links import escape, url_maker

from .models import Contact

# What a card shows (the list loads only these): the owner for the search reason's query.
FIELDS = (
    "pk",
    "owner_id",
    "name",
    "company",
    "profession",
    "stage",
    "strength",
    "last_touched_at",
    "touch_due_at",
    "is_archived",
)


def tag_names(contacts) -> dict[int, list[str]]:
    """Each contact's tags' names, by name: one query of names for the page (the contacts
    are the user's own, and so are their tags), no ``Tag`` objects built."""
    through = Contact.tags.through
    names: dict[int, list[str]] = defaultdict(list)
    rows = (
        through.objects.filter(contact_id__in=[c.pk for c in contacts])
        .order_by("tag__name", "tag_id")
        .values_list("contact_id", "tag__name")
    )
    for contact_id, name in rows:
        names[contact_id].append(name)
    return names


def render(contacts, now=None) -> SafeString:
    """The cards of these contacts (on a search page each with its ``reason``), "touched …
    ago" counted to ``now`` (the request's time by default)."""
    contacts = list(contacts)
    now = now or timezone.now()
    contact_url = url_maker("contacts:detail")
    tags_of = tag_names(contacts) if contacts else {}
    cards = []
    for c in contacts:
        stalled = (
            '<span class="badge badge-warn">stalled</span>'
            if not c.is_archived and c.touch_due_at and c.touch_due_at < now
            else ""
        )
        sep = " · " if c.profession and c.company else ""
        if c.last_touched_at:
            touched = f"touched {escape(timesince(c.last_touched_at, now))} ago"
        else:
            touched = "never met"
        card = [
            "<li>\n"
            '  <div class="spread">\n'
            f'    <a href="{contact_url(c.pk)}"><strong>{escape(c.name)}</strong></a>\n'
            '    <span class="row">\n'
            f"      {stalled}\n"
            f'      <span class="badge stage-{escape(c.stage)}">'
            f"{escape(c.get_stage_display())}</span>\n"
            '      <span class="badge strength-badge" title="Relationship strength">'
            f'<span class="visually-hidden">strength </span>{int(c.strength)}'
            '<span class="visually-hidden"> of 100</span></span>\n'
            "    </span>\n"
            "  </div>\n"
            '  <div class="spread">\n'
            f"    <small>{escape(c.profession)}{sep}{escape(c.company)}</small>\n"
            f'    <small class="muted">{touched}</small>\n'
            "  </div>\n"
        ]
        if reason := getattr(c, "reason", None):
            pieces = "".join(
                f"<mark>{escape(piece)}</mark>" if hit else escape(piece)
                for piece, hit in reason["segments"]
            )
            card.append(
                f'  <p class="search-reason"><small>{escape(reason["label"])}: '
                f"{pieces}</small></p>\n"
            )
        if tags := tags_of.get(c.pk):
            links = "".join(
                f'<a class="badge badge-muted" href="?tag={escape(urlencode(name))}">'
                f"#{escape(name)}</a>"
                for name in tags
            )
            card.append(f'  <div class="row">{links}</div>\n')
        card.append("</li>\n")
        cards.append("".join(card))
    return mark_safe("".join(cards))  # noqa: S308  # nosec B308, B703
