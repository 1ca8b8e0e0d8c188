"""Secret URLs never reach the logs.

Some URLs are credentials: the calendar feed, the digest's one-click links and unsubscribe,
group invitations, and allauth's password-reset and e-mail confirmation keys. Anyone who
reads an access log could use them. ``redact`` replaces the secret part with ``[redacted]``;
``RedactSecretsFilter`` applies it to Django's log records (request and runserver loggers
log the path), and ``RedactingGunicornLogger`` to gunicorn's access log
(``gunicorn.conf.py`` names it).
"""

from __future__ import annotations

import logging
import re

SECRET_PATHS = re.compile(
    r"(?P<prefix>/(?:followups/calendar|followups/act|followups/unsubscribe|groups/join"
    r"|accounts/password/reset/key|accounts/confirm-email)/)(?P<secret>[^/\s?\"']+)"
)


def redact(text: str) -> str:
    return SECRET_PATHS.sub(r"\g<prefix>[redacted]", text)


class RedactSecretsFilter(logging.Filter):
    """Rewrites the record's message with secrets removed (always lets it through)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is the logging module's business, not ours
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


try:  # gunicorn is a dependency of the web process only
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # pragma: no cover
    _GunicornLogger = object


class RedactingGunicornLogger(_GunicornLogger):
    """gunicorn's logger, with the request line and path of access-log lines redacted."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "{raw_uri}e", "{path_info}e"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        return atoms
