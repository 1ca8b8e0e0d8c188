"""The daily digest: when it is due, what goes in it, and sending it exactly once.

Scheduling: each user's ``DigestPreference.next_digest_at`` holds the next moment (UTC)
their digest is due, computed in their own time zone (DST-safe through zoneinfo). The
sweep reads it through a partial index, so deciding who is due costs one query.

Exactly once: the sweep claims a user by moving ``next_digest_at`` forward with a
compare-and-set update; only the sweep that changed the row creates that day's
``DigestLog`` (unique per user and local date) and enqueues the send after commit. The
send task claims the log row (pending/failed, or sending with an expired claim) with a
conditional update before talking to SMTP, retries with backoff on failure, and the
next sweep re-enqueues rows whose claim expired (a worker killed mid-send).
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, F, IntegerField, Q, When
from django.db.models.expressions import RawSQL
from django.utils import timezone

from accounts.models import User
from contacts import occasions
from contacts.models import Contact, GainsFact, GainsKind
from referralcrm.ownership import each_on_their_day, first_per_owner

from . import tokens
from .models import DigestLog, DigestPreference, DigestState, FollowUp

log = logging.getLogger(__name__)

STALLED_IN_DIGEST = 5
FOLLOWUPS_IN_DIGEST = 10
REFERRALS_IN_DIGEST = 5
OCCASIONS_IN_DIGEST = 10
OCCASION_DAYS = 7  # "Coming up": birthdays and other dates from today to 6 days ahead
CLAIM_TTL = timedelta(seconds=getattr(settings, "DIGEST_CLAIM_TTL", 600))
SWEEP_BATCH = 500
# A digest that failed this many times (temporary errors) is given up: no endless resends.
MAX_ATTEMPTS = 8
MAX_BATCHES = 200  # 100,000 users per sweep run; the rest wait for the next run
# A digest more than this late (beat was down all day) is skipped, not sent stale.
MISSED_AFTER = timedelta(hours=20)


# --- When ---------------------------------------------------------------------------


def next_digest_at(pref: DigestPreference, tz: ZoneInfo, after: datetime) -> datetime | None:
    """The first moment strictly after ``after`` that is ``pref.hour``:00 local time on
    one of ``pref.weekdays``. Local times that don't exist (spring-forward gap) move to
    the first valid instant; ambiguous ones (fall back) take the first occurrence."""
    if not pref.enabled or not pref.weekdays:
        return None
    local_after = after.astimezone(tz)
    day = local_after.date()
    for _ in range(15):
        if day.weekday() in pref.weekdays:
            candidate = _local(day, pref.hour, tz)
            if candidate > after:
                return candidate.astimezone(ZoneInfo("UTC"))
        day += timedelta(days=1)
    return None


def _local(day: date, hour: int, tz: ZoneInfo) -> datetime:
    naive = datetime.combine(day, time(hour))
    aware = naive.replace(tzinfo=tz, fold=0)
    # Round-trip through UTC: a time in the spring-forward gap normalises forward.
    roundtrip = aware.astimezone(ZoneInfo("UTC")).astimezone(tz)
    if roundtrip.replace(tzinfo=None) != naive:
        return roundtrip
    return aware


def schedule(pref: DigestPreference, now: datetime | None = None) -> None:
    """Recompute and save when this user's next digest is due.

    A digest already due but not yet claimed (saved at 07:02, beat sweeps at 07:05) stays
    due: the next time is sought from just before it, not from now, so saving one's
    settings never skips that day's digest (the day's log is unique, so none is doubled).
    """
    after = now or timezone.now()
    due = pref.next_digest_at
    if due is not None and due <= after:
        after = due - timedelta(microseconds=1)
    pref.next_digest_at = next_digest_at(pref, pref.user.tzinfo, after)
    pref.save(update_fields=["next_digest_at"])


def preference_for(user: User) -> DigestPreference:
    pref, created = DigestPreference.objects.get_or_create(user=user)
    if created:
        schedule(pref)
    return pref


# --- What ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """A part of the digest another app provides (e.g. groups: "Bob thanked you for...").

    ``build(user, local_date)`` returns the items (a bounded number of queries);
    ``build_many([(user, local_date), ...])`` (optional) returns {user id: items} for a
    batch in a few queries whatever its size, and is what the digest calls when given;
    ``mark_sent(user, items)`` runs after the e-mail went out, so an item is reported once.
    The templates render ``items`` (with ``section``) in the text and HTML bodies.
    """

    name: str
    build: Callable
    mark_sent: Callable
    text_template: str
    html_template: str
    build_many: Callable | None = None

    def items_for(self, users_dates: list[tuple[User, date]]) -> dict[int, list]:
        """{user id: items}: the batch build, else one ``build`` per user."""
        if self.build_many is not None:
            return self.build_many(users_dates)
        return {user.pk: self.build(user, local_date) for user, local_date in users_dates}


_sections: list[Section] = []


def register_section(section: Section) -> Section:
    if all(s.name != section.name for s in _sections):
        _sections.append(section)
    return section


@dataclass
class StalledItem:
    contact: Contact
    days_overdue: int
    reason_fact: GainsFact | None = None


@dataclass
class Digest:
    user: User
    local_date: date
    overdue: list[FollowUp] = field(default_factory=list)
    due_today: list[FollowUp] = field(default_factory=list)
    stalled: list[StalledItem] = field(default_factory=list)
    referrals: list = field(default_factory=list)
    sections: list[tuple[Section, list]] = field(default_factory=list)

    @property
    def count(self) -> int:
        extra = sum(len(items) for _, items in self.sections)
        return (
            len(self.overdue)
            + len(self.due_today)
            + len(self.stalled)
            + len(self.referrals)
            + extra
        )

    @property
    def is_empty(self) -> bool:
        return self.count == 0


def build(user: User, local_date: date, now: datetime | None = None) -> Digest:
    """One user's digest: ``build_many`` for a batch of one, so both always agree."""
    return build_many([(user, local_date)], now)[user.pk]


def build_many(users_dates, now: datetime | None = None) -> dict[int, Digest]:
    """{user id: Digest} for (user, their local date) pairs, one pair per user.

    A few set-based queries whatever the number of users (the sweep builds a batch at a
    time, one user or a thousand): follow-ups due, stalled contacts, their reasons to call
    and open referrals (each the first few rows per user, ``first_per_owner``), then each
    registered section's batch build. Each user's lists are read from their own local date.
    """
    from referrals.models import Referral

    now = now or timezone.now()
    users_dates = list(users_dates)
    digests = {user.pk: Digest(user=user, local_date=day) for user, day in users_dates}
    if not digests:
        return {}
    owners_days = [(user_id, d.local_date) for user_id, d in digests.items()]

    followups = first_per_owner(
        FollowUp.objects.pending()
        .filter(each_on_their_day(owners_days, lambda day: Q(due_on__lte=day)))
        .only("pk", "title", "due_on", "status"),  # what the e-mail shows (and links to)
        ["due_on", "pk"],
        FOLLOWUPS_IN_DIGEST,
    )
    # Stalled by cadence (touch_due_at, kept by the contact), most overdue first.
    stalled = first_per_owner(
        Contact.objects.active()
        .filter(owner__in=list(digests), touch_due_at__lt=now)
        .only("pk", "name", "company", "touch_due_at", "last_touched_at"),
        ["touch_due_at", "pk"],
        STALLED_IN_DIGEST,
    )
    reasons = _reasons_to_call([c.pk for contacts in stalled.values() for c in contacts])
    referrals = first_per_owner(
        Referral.objects.open()
        .filter(each_on_their_day(owners_days, _worth_chasing))
        .select_related("partner"),
        ["referred_on", "pk"],
        REFERRALS_IN_DIGEST,
    )
    for user_id, digest in digests.items():
        due = followups.get(user_id, [])
        digest.overdue = [f for f in due if f.due_on < digest.local_date]
        digest.due_today = [f for f in due if f.due_on == digest.local_date]
        digest.stalled = [
            StalledItem(c, (now - c.touch_due_at).days, reasons.get(c.pk))
            for c in stalled.get(user_id, [])
        ]
        digest.referrals = referrals.get(user_id, [])
    batch = [(d.user, d.local_date) for d in digests.values()]
    for section in _sections:
        for user_id, items in section.items_for(batch).items():
            if items:
                digests[user_id].sections.append((section, items))
    return digests


def _worth_chasing(local_date: date) -> Q:
    """An open referral the digest lists: a week old, or hot."""
    return Q(referred_on__lte=local_date - timedelta(days=7)) | Q(temperature="hot")


def _reasons_to_call(contact_ids: list[int]) -> dict[int, GainsFact]:
    """One query: each contact's reason to call, its most recent goal, else
    accomplishment, else interest, else its most recent fact of any kind."""
    if not contact_ids:
        return {}
    preference = Case(
        When(kind=GainsKind.GOAL, then=0),
        When(kind=GainsKind.ACCOMPLISHMENT, then=1),
        When(kind=GainsKind.INTEREST, then=2),
        default=3,
        output_field=IntegerField(),
    )
    # One array parameter, not thousands of placeholders for the driver to parse.
    listed = RawSQL("SELECT unnest(%s::bigint[])", [contact_ids])
    facts = (
        GainsFact.objects.filter(contact_id__in=listed)
        .annotate(preference=preference)
        .order_by("contact_id", "preference", "-learned_on", "-pk")
        .distinct("contact_id")
    )
    return {fact.contact_id: fact for fact in facts}


def _coming_up(user: User, local_date: date) -> list[occasions.Upcoming]:
    """One query: the user's occasions in the next ``OCCASION_DAYS`` from their local day."""
    return occasions.coming_up(user, local_date, OCCASION_DAYS, OCCASIONS_IN_DIGEST)


def _coming_up_many(users_dates: list[tuple[User, date]]) -> dict[int, list]:
    """``_coming_up`` for a batch, in one query."""
    return occasions.coming_up_many(users_dates, OCCASION_DAYS, OCCASIONS_IN_DIGEST)


def _nothing_to_mark(user: User, items: list) -> None:
    """An occasion is a reason to get in touch every day of the week before it (as a
    follow-up is until done), so nothing is marked as told."""


# Like any section, occasions count toward the digest: a digest with only a birthday
# coming up is sent, since that is something to act on; with nothing at all, none is.
register_section(
    Section(
        name="occasions",
        build=_coming_up,
        build_many=_coming_up_many,
        mark_sent=_nothing_to_mark,
        text_template="emails/digest-occasions.txt",
        html_template="emails/digest-occasions.html",
    )
)


# --- Sweep ----------------------------------------------------------------------------


def sweep(now: datetime | None = None, enqueue=None) -> list[int]:
    """Claim every user whose digest is due; return the DigestLog ids to send.

    Works in batches of ``SWEEP_BATCH`` users, each in its own transaction with three
    queries: the due preferences (``select_for_update(skip_locked=True)``, so sweeps
    running at once split the work instead of waiting), one INSERT of that day's logs
    that skips rows already there (the unique (user, local date) key is the claim: a
    user whose log exists is never claimed twice), and one UPDATE moving each
    ``next_digest_at`` to the next local digest time. ``enqueue(log_id)`` runs after
    each batch commits (the Celery task's ``delay``; None for the synchronous command).
    """
    now = now or timezone.now()
    claimed: list[int] = []
    for _ in range(MAX_BATCHES):
        batch_claimed, seen = _sweep_batch(now, enqueue)
        claimed += batch_claimed
        if seen < SWEEP_BATCH:
            break
    with transaction.atomic():
        retry = [pk for pk in _expired_claims(now) if pk not in claimed]
        if enqueue is not None:
            for log_id in retry:
                transaction.on_commit(lambda log_id=log_id: enqueue(log_id))
    return claimed + retry


@transaction.atomic
def _sweep_batch(now: datetime, enqueue) -> tuple[list[int], int]:
    due = list(
        DigestPreference.objects.filter(enabled=True, next_digest_at__lte=now)
        .select_related("user")
        .select_for_update(skip_locked=True, of=("self",))
        .order_by("next_digest_at")[:SWEEP_BATCH]
    )
    if not due:
        return [], 0
    wanted = []  # (user id, local date) of digests to send today
    for pref in due:
        tz = pref.user.tzinfo
        scheduled = pref.next_digest_at
        if now - scheduled <= MISSED_AFTER:  # a day missed entirely is skipped, not sent stale
            wanted.append((pref.user_id, scheduled.astimezone(tz).date()))
        pref.next_digest_at = next_digest_at(pref, tz, max(now, scheduled))
    claimed = _insert_logs(wanted, now)
    _save_next_digest_at(due)
    if enqueue is not None:
        for log_id in claimed:
            transaction.on_commit(lambda log_id=log_id: enqueue(log_id))
    return claimed, len(due)


def _insert_logs(wanted: list[tuple[int, date]], now: datetime) -> list[int]:
    """INSERT the day's logs, skipping any that exist; return the ids of the new ones."""
    if not wanted:
        return []
    table = connection.ops.quote_name(DigestLog._meta.db_table)
    # The table name is a constant; every value goes as a parameter (two arrays).
    sql = (
        f"INSERT INTO {table} (user_id, local_date, state, attempts, items, last_error, created_at) "  # noqa: S608  # nosec B608
        "SELECT wanted.user_id, wanted.local_date, %s, 0, 0, '', %s "
        "FROM unnest(%s::bigint[], %s::date[]) AS wanted (user_id, local_date) "
        "ON CONFLICT (user_id, local_date) DO NOTHING RETURNING id"
    )
    user_ids, days = zip(*wanted, strict=True)
    with connection.cursor() as cursor:
        cursor.execute(sql, [DigestState.PENDING, now, list(user_ids), list(days)])
        return [row[0] for row in cursor.fetchall()]


def _save_next_digest_at(prefs: list[DigestPreference]) -> None:
    """One UPDATE of every ``next_digest_at`` of the batch, joined to the new values
    (``bulk_update``'s CASE of one WHEN per row costs more in Python than the sweep's SQL)."""
    table = connection.ops.quote_name(DigestPreference._meta.db_table)
    # The table name is a constant; every value goes as a parameter.
    sql = (
        f"UPDATE {table} AS pref SET next_digest_at = new.next_at "  # noqa: S608  # nosec B608
        "FROM unnest(%s::bigint[], %s::timestamptz[]) AS new (id, next_at) WHERE pref.id = new.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [[p.pk for p in prefs], [p.next_digest_at for p in prefs]])


def _expired_claims(now: datetime) -> list[int]:
    """Logs whose send never finished: a crashed worker, or retries that ran out — each
    taken up again only while it has attempts left (``MAX_ATTEMPTS``)."""
    stale = now - CLAIM_TTL
    return list(
        DigestLog.objects.filter(
            Q(state=DigestState.SENDING, claimed_at__lt=stale)
            | Q(state=DigestState.FAILED, claimed_at__lt=stale)
            | Q(state=DigestState.PENDING, created_at__lt=stale),
            local_date__gte=(now - timedelta(days=1)).date(),
            attempts__lt=MAX_ATTEMPTS,
        ).values_list("pk", flat=True)[:SWEEP_BATCH]
    )


# --- Send -------------------------------------------------------------------------------


def claim_log(log_id: int, now: datetime | None = None) -> DigestLog | None:
    """Take the log for sending; None if it is sent, empty, or another worker holds it."""
    now = now or timezone.now()
    takeable = Q(state__in=[DigestState.PENDING, DigestState.FAILED]) | Q(
        state=DigestState.SENDING, claimed_at__lt=now - CLAIM_TTL
    )
    changed = DigestLog.objects.filter(takeable, pk=log_id, attempts__lt=MAX_ATTEMPTS).update(
        state=DigestState.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not changed:
        return None
    return DigestLog.objects.select_related("user").get(pk=log_id)


def send_log(log_id: int, now: datetime | None = None, connection=None) -> str:
    """Build and send one claimed digest. Returns the final state; raises on SMTP errors
    (after marking the log failed) so the caller can retry."""
    from .mail import send_digest_email

    entry = claim_log(log_id, now)
    if entry is None:
        return "skipped"
    user = entry.user
    pref = DigestPreference.objects.filter(user=user).first()
    if not user.is_active or pref is None or not pref.enabled:
        _finish(entry, DigestState.EMPTY, 0)
        return DigestState.EMPTY
    digest = build(user, entry.local_date, now)
    if digest.is_empty:
        _finish(entry, DigestState.EMPTY, 0)
        return DigestState.EMPTY
    try:
        send_digest_email(digest, entry, connection=connection)
    except smtplib.SMTPRecipientsRefused as exc:
        return _refused(entry, pref, exc, _first_code(exc))
    except smtplib.SMTPResponseException as exc:
        if 500 <= exc.smtp_code < 600:
            return _refused(entry, pref, exc, exc.smtp_code)
        _failed(entry, exc)
        raise
    except Exception as exc:
        _failed(entry, exc)
        raise
    _finish(entry, DigestState.SENT, digest.count)
    for section, items in digest.sections:
        section.mark_sent(user, items)
    return DigestState.SENT


def _failed(entry: DigestLog, exc: Exception) -> None:
    DigestLog.objects.filter(pk=entry.pk, state=DigestState.SENDING).update(
        state=DigestState.FAILED, last_error=f"{type(exc).__name__}: {exc}"[:300]
    )


def _first_code(exc: smtplib.SMTPRecipientsRefused) -> int:
    codes = [code for code, _ in exc.recipients.values()]
    return codes[0] if codes else 550


def _refused(entry: DigestLog, pref, exc: Exception, code: int) -> str:
    """A permanent refusal (5xx): retrying would not help and could get the sender
    blocked. The log ends refused; the settings page shows the bounce. A 4xx refusal of
    the recipient is temporary: the caller retries it like any other failure."""
    reason = f"{code}: {exc}"[:300]
    if code < 500:
        _failed(entry, exc)
        raise exc
    DigestLog.objects.filter(pk=entry.pk).update(state=DigestState.REFUSED, last_error=reason)
    DigestPreference.objects.filter(pk=pref.pk).update(
        bounced_at=timezone.now(), bounce_reason=reason
    )
    return DigestState.REFUSED


def _finish(entry: DigestLog, state: str, items: int) -> None:
    DigestLog.objects.filter(pk=entry.pk).update(
        state=state, items=items, sent_at=timezone.now() if state == DigestState.SENT else None
    )


def action_links(user_id: int) -> dict:
    """Factories for the digest's one-click links."""
    base = settings.SITE_URL

    def link(action: str, target: int = 0) -> str:
        return f"{base}/followups/act/{tokens.make(user_id, action, target)}/"

    return {
        "link": link,
        "unsubscribe": f"{base}/followups/unsubscribe/{tokens.make(user_id, 'unsubscribe')}/",
    }
