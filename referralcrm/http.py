from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request: HttpRequest, default: str = "dashboard") -> str:
    """The posted ``next`` URL if it stays on this site, else ``default`` (a URL name)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(default)


def parse_id(value) -> int | None:
    """A positive database id from a query or form value, or None ('²'.isdigit() is True)."""
    text = str(value or "")
    if text.isascii() and text.isdecimal() and len(text) < 19:
        return int(text)
    return None
