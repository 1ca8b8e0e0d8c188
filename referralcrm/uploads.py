"""Refusing oversized uploads before they are read (the import page, the spend CSV).

``declared_too_large(request, limit)`` looks at the declared Content-Length before the body
is touched; ``LimitedUploadHandler`` stops a body without one (or one that lies) as soon as
it passes the limit, so a 50 MB file is never read into memory or written to disk in full.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.views.decorators.csrf import csrf_exempt, csrf_protect

# Room for the multipart envelope and the form's other fields.
ENVELOPE_BYTES = 64 * 1024


def declared_too_large(request, limit: int) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > limit + ENVELOPE_BYTES


class LimitedUploadHandler(FileUploadHandler):
    """Counts a file's bytes as they arrive and stops the upload past ``limit``.

    Installed first in ``request.upload_handlers``; the view checks ``too_large`` after
    touching ``request.FILES``.
    """

    def __init__(self, limit: int, request=None):
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.too_large = False

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.too_large = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size):
        return None


def megabytes(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MB"


def limited_upload(limit: Callable[[], int], refuse: Callable):
    """Decorate a view that takes a file: a POST whose declared length is over ``limit()``
    gets ``refuse(request)`` before its body is read (nothing is read, so the CSRF check,
    which reads the form, comes after); otherwise the counting handler is installed and the
    view runs with CSRF protection. The view calls ``upload_too_large(request)`` after
    touching ``request.FILES``."""

    def decorator(view):
        protected = csrf_protect(view)

        @csrf_exempt
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method == "POST":
                if declared_too_large(request, limit()):
                    return refuse(request)
                handler = LimitedUploadHandler(limit(), request)
                request.upload_handlers.insert(0, handler)
                request.limited_upload = handler
            return protected(request, *args, **kwargs)

        return wrapper

    return decorator


def upload_too_large(request) -> bool:
    handler = getattr(request, "limited_upload", None)
    return bool(handler and handler.too_large)
