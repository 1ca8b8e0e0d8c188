"""Signed, expiring, single-use tokens for the one-click links in the digest."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.core import signing
from django.db import IntegrityError, transaction

from .models import UsedToken

SALT = "followups.digest-action"
MAX_AGE = 7 * 24 * 3600  # a week: the digest is daily
ACTIONS = {"done", "snooze", "reached_out", "unsubscribe"}


class BadToken(Exception):
    """Tampered, expired, unknown or already used: the message says which."""


@dataclass(frozen=True)
class Action:
    user_id: int
    action: str
    target: int
    nonce: str


def make(user_id: int, action: str, target: int = 0) -> str:
    if action not in ACTIONS:
        raise ValueError(f"unknown digest action {action!r}")
    payload = {"u": user_id, "a": action, "t": target, "n": secrets.token_hex(8)}
    return signing.dumps(payload, salt=SALT, compress=True)


def read(token: str, max_age: int = MAX_AGE) -> Action:
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise BadToken("This link has expired. Open Referral CRM to do it there.") from exc
    except signing.BadSignature as exc:
        raise BadToken("This link is not valid.") from exc
    if data.get("a") not in ACTIONS:
        raise BadToken("This link is not valid.")
    return Action(user_id=data["u"], action=data["a"], target=data["t"], nonce=data["n"])


def consume(action: Action) -> None:
    """Record the token as used; a second use raises BadToken. Call inside the action's
    transaction so a failed action does not burn the token."""
    try:
        with transaction.atomic():
            UsedToken.objects.create(nonce=action.nonce)
    except IntegrityError as exc:
        raise BadToken("This link was already used.") from exc
