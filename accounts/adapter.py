"""allauth adapter: after sign-up or log-in, bring an invitee back to their invitation."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.urls import reverse

PENDING_INVITE = "pending_invitation"  # set by groups.views.join


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request):
        token = request.session.get(PENDING_INVITE)
        if token:
            return reverse("groups:join", args=[token])
        return super().get_login_redirect_url(request)
