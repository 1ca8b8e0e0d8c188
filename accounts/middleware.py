import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.utils import timezone


class TimezoneMiddleware:
    """Show dates and times in the signed-in user's own time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            timezone.activate(user.tzinfo)
        else:
            timezone.deactivate()
        return self.get_response(request)


def stamp_session(sender, request, user, **kwargs) -> None:
    """At log-in: when the session started and was last seen (saved with the log-in itself,
    so the next request has nothing to write)."""
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session["_started_at"] = now
        request.session["_seen_at"] = now


class SessionTimeoutMiddleware:
    """Ends a signed-in session after ``SESSION_IDLE_TIMEOUT`` seconds without a request, or
    ``SESSION_ABSOLUTE_TIMEOUT`` seconds after log-in, whichever comes first. The last-seen
    time is written at most once a minute, so a page view does not always save the session.
    """

    WRITE_EVERY = 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            session = request.session
            started = session.setdefault("_started_at", now)
            seen = session.get("_seen_at", now)
            idle = settings.SESSION_IDLE_TIMEOUT
            absolute = settings.SESSION_ABSOLUTE_TIMEOUT
            if now - seen > idle or now - started > absolute:
                logout(request)
                messages.info(request, "You were signed out after a while away; please log in.")
                if request.path.startswith("/api/") or request.htmx:
                    return self.get_response(request)
                return redirect_to_login(request.get_full_path())
            if now - seen >= self.WRITE_EVERY or "_seen_at" not in session:
                session["_seen_at"] = now
        return self.get_response(request)
