"""``/settings/webhooks/``: the signed-in user's webhook endpoints and their delivery logs."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from . import webhooks
from .models import Event, WebhookDelivery, WebhookEndpoint

LOG_PAGE_SIZE = 25
RECENT_IN_LIST = 3
MAX_ENDPOINTS = 20


class WebhookEndpointForm(forms.ModelForm):
    url = forms.CharField(
        label="Endpoint URL",
        max_length=500,
        help_text="A public https:// address that answers POST requests with a 2xx status.",
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/hooks/referral-crm"}),
    )
    events = forms.MultipleChoiceField(
        label="Send these events",
        choices=Event.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Pick at least one event."},
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "events", "description"]
        labels = {"description": "Description (optional)"}

    def clean_url(self) -> str:
        url = self.cleaned_data["url"].strip()
        forms.URLField(assume_scheme="https").clean(url)  # well-formed first, then where it points
        try:
            webhooks.check_url(url)
        except webhooks.UnsafeURL as exc:
            raise forms.ValidationError(str(exc)) from exc
        return url


def _endpoint(request: HttpRequest, pk: int) -> WebhookEndpoint:
    """The user's endpoint, or 404 (also for another user's)."""
    return get_object_or_404(WebhookEndpoint.objects.for_user(request.user), pk=pk)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def webhook_list(request: HttpRequest) -> HttpResponse:
    mine = WebhookEndpoint.objects.for_user(request.user)
    form = WebhookEndpointForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if mine.count() >= MAX_ENDPOINTS:
            form.add_error(None, f"You can have up to {MAX_ENDPOINTS} endpoints; delete one first.")
        if form.is_valid():
            endpoint = form.save(commit=False)
            endpoint.owner = request.user
            endpoint.save()
            messages.success(
                request, "Endpoint added. Use its secret to check each delivery's signature."
            )
            return redirect(endpoint)
        status = 400
    endpoints = list(mine.order_by("-created_at", "-pk")[:MAX_ENDPOINTS])
    recent: dict[int, list[WebhookDelivery]] = {endpoint.pk: [] for endpoint in endpoints}
    if endpoints:
        # The last few deliveries of every endpoint, in one query (a window function).
        rows = (
            WebhookDelivery.objects.filter(endpoint__in=endpoints)
            .annotate(
                rank=Window(
                    RowNumber(),
                    partition_by=[F("endpoint_id")],
                    order_by=[F("created_at").desc(), F("pk").desc()],
                )
            )
            .filter(rank__lte=RECENT_IN_LIST)
            .defer("payload")
        )
        for row in rows:
            recent[row.endpoint_id].append(row)
    items = [(endpoint, recent[endpoint.pk]) for endpoint in endpoints]
    disabled = [e for e in endpoints if not e.is_active]
    context = {"form": form, "items": items, "disabled": disabled}
    return render(request, "api/webhooks.html", context, status=status)


@login_required
@never_cache
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    log = WebhookDelivery.objects.filter(endpoint=endpoint).defer("payload")
    page = Paginator(log, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "api/webhooks_detail.html",
        {"endpoint": endpoint, "page": page, "events": Event, "querystring": ""},
    )


@login_required
@require_POST
def webhook_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    endpoint.rotate_secret()
    messages.success(request, "New secret made. Deliveries are signed with it from now on.")
    return redirect(endpoint)


@login_required
@require_POST
def webhook_enable(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    try:
        webhooks.check_url(endpoint.url)
    except webhooks.UnsafeURL as exc:
        messages.error(request, f"Not re-enabled: {exc}")
        return redirect(endpoint)
    endpoint.enable()
    messages.success(request, "Endpoint re-enabled. New events will be sent to it.")
    return redirect(endpoint)


@login_required
@require_POST
def webhook_test(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    if not endpoint.is_active:
        messages.error(request, "Re-enable the endpoint before sending it a test event.")
        return redirect(endpoint)
    webhooks.send_test_event(endpoint)
    messages.success(request, "Test event queued: it appears in the log below within seconds.")
    return redirect(endpoint)


@login_required
@require_POST
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    endpoint.delete()
    messages.success(request, f"Endpoint {endpoint.url} deleted.")
    return redirect("apisettings:webhooks")


urlpatterns = [
    path("webhooks/", webhook_list, name="webhooks"),
    path("webhooks/<int:pk>/", webhook_detail, name="webhook"),
    path("webhooks/<int:pk>/rotate/", webhook_rotate, name="webhook_rotate"),
    path("webhooks/<int:pk>/enable/", webhook_enable, name="webhook_enable"),
    path("webhooks/<int:pk>/test/", webhook_test, name="webhook_test"),
    path("webhooks/<int:pk>/delete/", webhook_delete, name="webhook_delete"),
]
