import sys

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import dashboard as dashboard_registry
from . import health


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("dashboard")
    return render(request, "home.html")


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    widgets = dashboard_registry.widgets_for(request)
    return render(request, "dashboard.html", {"widgets": widgets})


@login_required
@require_GET
def dashboard_widget(request: HttpRequest, name: str) -> HttpResponse:
    """One lazy dashboard widget, which htmx swaps in for its placeholder."""
    if name not in dashboard_registry.lazy_names():
        raise Http404
    widget = dashboard_registry.lazy_widget(request, name)
    if widget is None:
        return HttpResponse("")  # nothing to show: the placeholder goes
    return render(request, "partials/widget_section.html", {"widget": widget})


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    healthy, body = health.report()
    return JsonResponse(body, status=200 if healthy else 503)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):  # API clients get the API's error shape, not a page
        return JsonResponse({"detail": "Not found."}, status=404)
    return render(request, "404.html", status=404)


DATABASE_DOWN_RETRY_AFTER = 30
DISK_FULL_SQLSTATE = "53100"  # PostgreSQL's disk_full


def _storage_full(exc: Exception) -> bool:
    """The database cannot grow: SQLite's "database or disk is full" (SQLITE_FULL) or
    PostgreSQL's disk_full. Trying again soon will not help until space is freed."""
    if "database or disk is full" in str(exc):
        return True
    return getattr(exc.__cause__, "sqlstate", None) == DISK_FULL_SQLSTATE


def server_error(request: HttpRequest) -> HttpResponse:
    """A plain 500 — or, when the database cannot be reached (restarting, failing over), a
    503 with Retry-After: nothing is wrong with the request, it can simply be tried again;
    or, when the database's disk is full, a 507 that says so (reads still work)."""
    from django.db import InterfaceError, OperationalError
    from django.template import loader

    exc = sys.exc_info()[1]
    if isinstance(exc, OperationalError) and _storage_full(exc):
        if _is_api(request):
            detail = "The server's storage is full: nothing was saved. Try again later."
            return JsonResponse({"detail": detail}, status=507)
        return HttpResponse(loader.get_template("507.html").render({}), status=507)
    if isinstance(exc, OperationalError | InterfaceError):
        if _is_api(request):
            response = JsonResponse(
                {"detail": "The database is unavailable for a moment; try again."}, status=503
            )
        else:
            response = HttpResponse(loader.get_template("503.html").render({}), status=503)
        response["Retry-After"] = str(DATABASE_DOWN_RETRY_AFTER)
        return response
    if _is_api(request):
        return JsonResponse({"detail": "Server error: it has been logged."}, status=500)
    # No context processors beyond the request: the database may be what failed.
    return HttpResponse(loader.get_template("500.html").render({}), status=500)
