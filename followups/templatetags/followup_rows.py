"""``{% followup_rows items %}``: the rows of follow-ups, rendered by followups.rows."""

from django import template

from .. import rows

register = template.Library()


@register.simple_tag(takes_context=True)
def followup_rows(context, items):
    return rows.render(items, str(context.get("csrf_token", "")))
