"""``/settings/api-tokens/``: the signed-in user's personal access tokens.

A token's plaintext is shown once: the create POST parks it in the session and redirects;
the next GET pops it from the session and shows it (with ``Cache-Control: no-store``).
"""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from .models import ApiToken, TokenScope

# The session key holding a just-made token until the next GET of the page shows it.
NEW_TOKEN_SESSION_KEY = "api_new_token"
# A user may hold this many usable tokens at once (revoke one to make another).
MAX_USABLE_TOKENS = 25
# Revoked and expired tokens listed under the usable ones (the most recent first).
INACTIVE_SHOWN = 20
# Expiry dates further away than this are refused (the create_api_token command agrees).
MAX_EXPIRY_DAYS = 3650

EXPIRY_CHOICES = [
    ("never", "Never"),
    ("30", "In 30 days"),
    ("90", "In 90 days"),
    ("365", "In a year"),
    ("date", "On a date"),
]


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=ApiToken._meta.get_field("name").max_length,
        label="Name",
        help_text="What it is for, so you can tell tokens apart: “iPhone shortcut”, “n8n”.",
    )
    scope = forms.ChoiceField(
        choices=TokenScope.choices,
        initial=TokenScope.READ,
        widget=forms.RadioSelect,
        label="Access",
    )
    expiry = forms.ChoiceField(
        choices=EXPIRY_CHOICES, initial="90", widget=forms.RadioSelect, label="Expires"
    )
    expires_on = forms.DateField(
        required=False,
        label="Expiry date",
        help_text="Only for “On a date”: the token works until the end of that day.",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, owner, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner = owner

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise ValidationError("Give the token a name.")
        return name

    def clean(self):
        data = super().clean()
        expiry, expires_on = data.get("expiry"), data.get("expires_on")
        if expiry == "date":
            today = timezone.localdate()
            if expires_on is None:
                if "expires_on" not in self.errors:
                    self.add_error("expires_on", "Pick the day the token stops working.")
            elif expires_on < today:
                self.add_error("expires_on", "Pick today or a later day.")
            elif expires_on > today + timedelta(days=MAX_EXPIRY_DAYS):
                self.add_error("expires_on", "Pick a day within the next ten years.")
        if ApiToken.objects.for_user(self.owner).usable().count() >= MAX_USABLE_TOKENS:
            raise ValidationError(
                f"You already have {MAX_USABLE_TOKENS} working tokens: revoke one you no longer "
                "use first."
            )
        return data

    def expires_at(self) -> dt.datetime | None:
        """When the token stops working (None: never). Call after ``is_valid()``."""
        expiry = self.cleaned_data["expiry"]
        if expiry == "never":
            return None
        if expiry == "date":
            # Works through the whole chosen day, in the user's own time zone.
            next_day = self.cleaned_data["expires_on"] + timedelta(days=1)
            return timezone.make_aware(dt.datetime.combine(next_day, dt.time.min))
        return timezone.now() + timedelta(days=int(expiry))

    def save(self) -> tuple[ApiToken, str]:
        return ApiToken.issue(
            self.owner,
            name=self.cleaned_data["name"],
            scope=self.cleaned_data["scope"],
            expires_at=self.expires_at(),
        )


def _describe_rate(rate: str) -> str:
    """``"120/min"`` → ``"120 requests a minute"`` (DRF reads only the period's first letter)."""
    number, _, period = rate.partition("/")
    unit = {"s": "second", "m": "minute", "h": "hour", "d": "day"}.get(period[:1], period)
    return f"{number} requests a {unit}"


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    """The list of tokens and the form to make one; after making one, its plaintext once."""
    form = TokenForm(request.POST or None, owner=request.user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            token, plaintext = form.save()
            request.session[NEW_TOKEN_SESSION_KEY] = {"id": token.pk, "plaintext": plaintext}
            messages.success(request, f"Token “{token.name}” made.")
            return redirect("apisettings:tokens")
        status = 400
    new_token = (
        request.session.pop(NEW_TOKEN_SESSION_KEY, None) if request.method == "GET" else None
    )
    mine = ApiToken.objects.for_user(request.user)
    now = timezone.now()
    usable = list(mine.usable(now))
    inactive = list(
        mine.filter(Q(revoked_at__isnull=False) | Q(expires_at__lte=now))[:INACTIVE_SHOWN]
    )
    context = {
        "form": form,
        "usable": usable,
        "inactive": inactive,
        "new_token": new_token,
        "api_root": request.build_absolute_uri(reverse("api:schema").rsplit("/", 1)[0] + "/"),
        "docs_url": reverse("api:docs"),
        "inactive_shown": INACTIVE_SHOWN,
        "rate_limit": _describe_rate(settings.API_RATE_LIMIT),
    }
    return render(request, "api/tokens.html", context, status=status)


@login_required
@require_POST
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke one of your tokens; revoking it again changes nothing."""
    token = get_object_or_404(ApiToken.objects.for_user(request.user), pk=pk)
    if token.revoked_at is None:
        token.revoke()
        messages.success(request, f"Token “{token.name}” revoked: it no longer works.")
    else:
        messages.info(request, f"Token “{token.name}” was already revoked.")
    return redirect("apisettings:tokens")


urlpatterns = [
    path("api-tokens/", tokens, name="tokens"),
    path("api-tokens/<int:pk>/revoke/", revoke, name="token_revoke"),
]
