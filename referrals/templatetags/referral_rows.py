"""``{% referral_rows referrals %}``: ledger rows, rendered by referrals.rows."""

from django import template

from .. import rows

register = template.Library()


@register.simple_tag(takes_context=True)
def referral_rows(context, referrals):
    return rows.render(referrals, str(context.get("csrf_token", "")))
