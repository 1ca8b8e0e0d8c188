"""Fill the database with realistic synthetic networkers, contacts, meetings and GAINS facts.

    python manage.py seed_demo --users 3 --contacts 200 --meetings 1000 --seed 1
    python manage.py seed_demo --demo --contacts 300 --meetings 2000
    python manage.py seed_demo --users 1 --first-user 2 --contacts 1000 --meetings 10000

``--contacts`` and ``--meetings`` are per user; ``--first-user N`` starts at userN, so users
of different sizes can be seeded one after the other. Each user's rows are generated in memory
first, so the denormalised ``Contact.last_touched_at`` / ``touch_due_at`` are computed from
the generated meetings, and then written with ``bulk_create``, one transaction per user.

Every model has a small ``build_*`` function that returns unsaved rows; ``seed_user`` calls
them in dependency order and inserts the results. To seed another model (referrals,
follow-ups...), write a ``build_<model>(rng, user, contacts, ...)`` that uses the saved
``contacts``/``meetings`` and add it to ``seed_user``.
"""

from __future__ import annotations

import bisect
import itertools
import random
import re
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from django.utils import timezone

from accounts.models import User
from contacts import seed_data as words
from contacts import seeding
from contacts.models import (
    Contact,
    GainsFact,
    GainsKind,
    Meeting,
    MeetingKind,
    Stage,
    Tag,
    TriState,
)

BATCH_SIZE = 5000
HISTORY_DAYS = 730  # meetings are spread over the last two years
DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-password"  # as manage.py demo_user
DEFAULT_PASSWORD = "password"
# The same profile as ``manage.py demo_user`` gives a new demo user.
DEMO_PROFILE = {
    "display_name": "Dana Demo",
    "business_name": "Demo Financial Planning",
    "profession": "Financial planner",
}

ContactTag = Contact.tags.through
Attendee = Meeting.attendees.through

STAGE_WEIGHTS = {Stage.CONTACT: 50, Stage.ACQUAINTANCE: 30, Stage.CONNECTION: 20}
# cadence in days (None: no cadence) -> weight, per stage: closer relationships, tighter cadence
CADENCE_WEIGHTS = {
    Stage.CONTACT: {30: 10, 60: 20, 90: 35, None: 35},
    Stage.ACQUAINTANCE: {14: 5, 30: 35, 60: 35, 90: 15, None: 10},
    Stage.CONNECTION: {14: 35, 30: 45, 60: 15, None: 5},
}
# referrability answers (unknown, yes, no) per stage
REFERRABILITY_WEIGHTS = {
    Stage.CONTACT: (75, 20, 5),
    Stage.ACQUAINTANCE: (45, 45, 10),
    Stage.CONNECTION: (10, 82, 8),
}
# how often a contact of this stage turns up at meetings, relative to the others
MEETING_WEIGHT = {Stage.CONTACT: 1.0, Stage.ACQUAINTANCE: 3.0, Stage.CONNECTION: 8.0}
NEVER_MET_SHARE = 0.3  # of plain contacts: a business card and nothing since
# GAINS facts entered by hand on the contact page (no meeting), per stage
PROFILE_FACTS = {Stage.CONTACT: (0, 1), Stage.ACQUAINTANCE: (1, 3), Stage.CONNECTION: (2, 5)}

MEETING_KIND_WEIGHTS = {
    MeetingKind.ONE_TO_ONE: 25,
    MeetingKind.COFFEE: 15,
    MeetingKind.CALL: 18,
    MeetingKind.VIDEO: 8,
    MeetingKind.EVENT: 14,
    MeetingKind.EMAIL: 12,
    MeetingKind.MESSAGE: 6,
    MeetingKind.OTHER: 2,
}
# share of meetings of each kind after which GAINS facts were jotted down
FACT_SHARE = {
    MeetingKind.ONE_TO_ONE: 0.5,
    MeetingKind.COFFEE: 0.3,
    MeetingKind.CALL: 0.15,
    MeetingKind.VIDEO: 0.2,
    MeetingKind.EVENT: 0.2,
    MeetingKind.EMAIL: 0.03,
    MeetingKind.MESSAGE: 0.03,
    MeetingKind.OTHER: 0.1,
}
# 1, 2 or 3 attendees
ATTENDEE_WEIGHTS = {MeetingKind.EVENT: (45, 35, 20), None: (85, 12, 3)}
HOUR_WEIGHTS = {7: 4, 8: 10, 9: 10, 10: 10, 11: 9, 12: 12, 13: 8, 14: 8, 15: 8, 16: 7, 17: 6, 18: 5}
CURRENCY_BY_ZONE_PREFIX = {"Europe/London": "GBP", "Australia/": "AUD"}


class Words(dict):
    """Fills ``{placeholders}`` in the word lists, drawing each value from ``rng`` on demand."""

    POOLS = {
        "city": words.CITIES,
        "group": words.NETWORK_GROUPS,
        "first": words.FIRST_NAMES,
        "profession": [p.lower() for p, _ in words.PROFESSIONS],
        "season": words.SEASONS,
        "street": words.STREETS,
        "n": [str(n) for n in range(3, 31)],
    }

    def __init__(self, rng: random.Random):
        super().__init__()
        self.rng = rng

    def __missing__(self, key: str) -> str:
        return self.rng.choice(self.POOLS[key])

    def fill(self, template: str) -> str:
        return template.format_map(self) if "{" in template else template

    def pick(self, templates: list[str]) -> str:
        return self.fill(self.rng.choice(templates))


def _weighted(weights: dict) -> tuple[list, list]:
    """(values, cumulative weights) for ``rng.choices(values, cum_weights=...)``."""
    return list(weights), list(itertools.accumulate(weights.values()))


STAGES = _weighted(STAGE_WEIGHTS)
CADENCES = {stage: _weighted(w) for stage, w in CADENCE_WEIGHTS.items()}
MEETING_KINDS = _weighted(MEETING_KIND_WEIGHTS)
HOURS = _weighted(HOUR_WEIGHTS)
TRISTATE = [TriState.UNKNOWN, TriState.YES, TriState.NO]
GAINS_KINDS = list(GainsKind.values)


def choose(rng: random.Random, weighted: tuple[list, list]):
    values, cum = weighted
    return rng.choices(values, cum_weights=cum)[0]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def bulk(model: type[models.Model], rows: list) -> list:
    return model.objects.bulk_create(rows, batch_size=BATCH_SIZE)


# --- Users ----------------------------------------------------------------------------


def build_user_profile(rng: random.Random) -> dict:
    """Display and business name, trade, time zone and the user's own GAINS texts."""
    fill = Words(rng)
    first, last = rng.choice(words.FIRST_NAMES), rng.choice(words.LAST_NAMES)
    profession, company_words = rng.choice(words.PROFESSIONS)
    time_zone = rng.choice(words.TIME_ZONES)
    currency = next(
        (c for prefix, c in CURRENCY_BY_ZONE_PREFIX.items() if time_zone.startswith(prefix)),
        "USD",
    )
    profile = {
        "display_name": f"{first} {last}",
        "business_name": f"{last} {rng.choice(company_words)}",
        "profession": profession,
        "time_zone": time_zone,
        "default_currency": currency,
    }
    for field, sentences in words.USER_GAINS.items():
        profile[field] = " ".join(fill.fill(s) for s in rng.sample(sentences, 2))
    return profile


def ensure_user(
    rng: random.Random,
    email: str,
    password_hash: str,
    *,
    reset_password: bool = False,
    profile: dict | None = None,
) -> tuple[User, bool]:
    """Get or create ``email`` with a verified primary address; fill blank profile fields.

    A new user gets ``password_hash``; an existing one only with ``reset_password``.
    """
    user = User.objects.filter(email__iexact=email).first()
    created = user is None
    generated = build_user_profile(rng)
    if profile:
        generated.update(profile)
    if created:
        user = User(email=email, password=password_hash, **generated)
    else:
        for field, value in generated.items():
            if field in {"time_zone", "default_currency"}:
                continue  # never blank; keep the user's own
            if not getattr(user, field):
                setattr(user, field, value)
        if reset_password:
            user.password = password_hash
    user.save()
    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    return user, created


# --- Tags -----------------------------------------------------------------------------


def seed_tags(rng: random.Random, user: User) -> tuple[list[Tag], int]:
    """A handful of the user's tags, reusing ones the user already has; (tags, created)."""
    names = rng.sample(words.TAGS, rng.randint(8, min(14, len(words.TAGS))))
    existing = {t.name.lower(): t for t in Tag.objects.filter(owner=user)}
    new = [Tag(owner=user, name=name) for name in names if name.lower() not in existing]
    bulk(Tag, new)
    by_name = {**existing, **{t.name.lower(): t for t in new}}
    return [by_name[name.lower()] for name in names], len(new)


def build_contact_tags(rng: random.Random, contacts: list[Contact], tags: list[Tag]) -> list:
    """0-3 tags on each (saved) contact: rows of the Contact.tags through table."""
    counts, cum = [0, 1, 2, 3], [40, 75, 93, 100]
    rows = []
    for contact in contacts:
        k = min(len(tags), rng.choices(counts, cum_weights=cum)[0])
        rows.extend(ContactTag(contact_id=contact.pk, tag_id=t.pk) for t in rng.sample(tags, k))
    return rows


# --- Contacts -------------------------------------------------------------------------


def build_contacts(rng: random.Random, user: User, n: int, now: datetime) -> list[Contact]:
    """``n`` unsaved contacts sorted by ``created_at`` (before any touch is known)."""
    fill = Words(rng)
    start = now - timedelta(days=HISTORY_DAYS)
    history = int((now - start).total_seconds()) - 86400
    contacts = []
    for _ in range(n):
        first, last = rng.choice(words.FIRST_NAMES), rng.choice(words.LAST_NAMES)
        profession, company_words = rng.choice(words.PROFESSIONS)
        city = rng.choice(words.CITIES)
        stage = choose(rng, STAGES)

        roll = rng.random()
        if roll < 0.5:
            company = f"{last} {rng.choice(company_words)}"
        elif roll < 0.85:
            company = f"{rng.choice(words.COMPANY_PREFIXES)} {rng.choice(company_words)}"
        else:
            company = ""  # a sole trader
        person = slug(first) + "." + slug(last)
        if company and rng.random() < 0.75:
            emails = [f"{person}@{slug(company)}.com"]
            if rng.random() < 0.2:
                emails.append(f"{person}{rng.randint(1, 99)}@{rng.choice(words.EMAIL_DOMAINS)}")
        else:
            emails = [f"{person}{rng.randint(1, 99)}@{rng.choice(words.EMAIL_DOMAINS)}"]
        phones = [
            f"+1 {rng.choice(words.AREA_CODES)}-555-{rng.randint(100, 199):04d}"
            for _ in range(1 if rng.random() < 0.75 else 2)
        ]

        if rng.random() < 0.3:  # already in the phone before the history window
            created_at = start - timedelta(seconds=rng.randrange(365 * 86400))
        else:
            created_at = start + timedelta(seconds=rng.randrange(history))
        expert, passionate, honours = rng.choices(
            TRISTATE, weights=REFERRABILITY_WEIGHTS[stage], k=3
        )
        contacts.append(
            Contact(
                owner_id=user.pk,
                name=f"{first} {last}",
                company=company,
                profession=profession,
                emails=emails,
                phones=phones,
                website=f"https://www.{slug(company)}.com"
                if company and rng.random() < 0.6
                else "",
                address=f"{rng.randint(10, 9999)} {rng.choice(words.STREETS)}, {city}"
                if rng.random() < 0.3
                else "",
                city=city,
                met_how=fill.pick(words.MET_HOW) if rng.random() < 0.8 else "",
                notes=fill.pick(words.CONTACT_NOTES) if rng.random() < 0.4 else "",
                stage=stage,
                cadence_days=choose(rng, CADENCES[stage]),
                is_expert=expert,
                is_passionate=passionate,
                honours_referrals=honours,
                word_of_mouth=fill.pick(words.WORD_OF_MOUTH)
                if rng.random() < (0.35 if stage == Stage.CONNECTION else 0.08)
                else "",
                is_archived=stage == Stage.CONTACT and rng.random() < 0.03,
                created_at=created_at,
            )
        )
    contacts.sort(key=lambda c: c.created_at)
    return contacts


def apply_touches(
    rng: random.Random, contacts: list[Contact], meetings: list[Meeting], attendees: list[tuple]
) -> None:
    """Set each contact's last touch and touch due from its meetings (as log_meeting does),
    and move ``created_at`` before the first meeting."""
    first: list[datetime | None] = [None] * len(contacts)
    last: list[datetime | None] = [None] * len(contacts)
    for meeting, indexes in zip(meetings, attendees, strict=True):
        when = meeting.occurred_at
        for i in indexes:
            if last[i] is None or when > last[i]:
                last[i] = when
            if first[i] is None or when < first[i]:
                first[i] = when
    for contact, first_touch, last_touch in zip(contacts, first, last, strict=True):
        if first_touch is not None and contact.created_at >= first_touch:
            contact.created_at = first_touch - timedelta(minutes=rng.randint(30, 14 * 24 * 60))
        contact.last_touched_at = last_touch
        contact.touch_due_at = contact.compute_touch_due_at()


# --- Meetings -------------------------------------------------------------------------


def meeting_weights(rng: random.Random, contacts: list[Contact]) -> list[float]:
    """Cumulative weights: connections meet often, some plain contacts never."""
    weights = []
    for contact in contacts:
        if contact.stage == Stage.CONTACT and rng.random() < NEVER_MET_SHARE:
            weights.append(0.0)
        else:
            weights.append(MEETING_WEIGHT[contact.stage] * rng.uniform(0.3, 1.7))
    return list(itertools.accumulate(weights))


def random_moment(rng: random.Random, tz: ZoneInfo, now: datetime) -> datetime:
    """A working-hours moment in the user's time zone within the last two years."""
    day = now.astimezone(tz).date() - timedelta(days=rng.randrange(HISTORY_DAYS))
    if day.weekday() >= 5 and rng.random() < 0.75:
        day -= timedelta(days=day.weekday() - 4)  # most weekend touches were on Friday
    moment = datetime.combine(day, clock(choose(rng, HOURS), rng.choice((0, 15, 30, 45))), tz)
    # In UTC: aware arithmetic in a zone with DST is wall-clock arithmetic, so
    # ``touch_due_at = last_touched_at + cadence`` would be an hour off across a change.
    moment = moment.astimezone(UTC)
    return moment if moment <= now else moment - timedelta(days=1)


def build_meetings(
    rng: random.Random, user: User, contacts: list[Contact], n: int, now: datetime
) -> tuple[list[Meeting], list[tuple[int, ...]]]:
    """``n`` unsaved meetings and, for each, the indexes in ``contacts`` of its attendees.

    ``contacts`` must be sorted by ``created_at``: a meeting only picks contacts created
    before it (the earliest contact if none was).
    """
    if not contacts:
        return [], []
    fill = Words(rng)
    tz = user.tzinfo
    created = [c.created_at for c in contacts]
    cum = meeting_weights(rng, contacts)
    meetings, attendees = [], []
    for _ in range(n):
        kind = choose(rng, MEETING_KINDS)
        occurred_at = random_moment(rng, tz, now)
        eligible = bisect.bisect_right(created, occurred_at) or 1
        size = rng.choices((1, 2, 3), weights=ATTENDEE_WEIGHTS.get(kind, ATTENDEE_WEIGHTS[None]))
        size = min(size[0], eligible)
        total = cum[eligible - 1]
        picked: list[int] = []
        for _ in range(size * 5):
            if total > 0:
                i = bisect.bisect_right(cum, rng.random() * total, 0, eligible - 1)
            else:
                i = rng.randrange(eligible)
            if i not in picked:
                picked.append(i)
                if len(picked) == size:
                    break
        meetings.append(
            Meeting(
                owner_id=user.pk,
                occurred_at=occurred_at,
                kind=kind,
                place=fill.pick(words.MEETING_PLACES[kind]),
                notes=fill.pick(words.MEETING_NOTES[kind]),
                created_at=min(now, occurred_at + timedelta(minutes=rng.randint(5, 600))),
            )
        )
        attendees.append(tuple(picked))
    return meetings, attendees


def build_attendees(
    contacts: list[Contact], meetings: list[Meeting], attendees: list[tuple]
) -> list:
    """Rows of the Meeting.attendees through table for saved contacts and meetings."""
    return [
        Attendee(meeting_id=meeting.pk, contact_id=contacts[i].pk)
        for meeting, indexes in zip(meetings, attendees, strict=True)
        for i in indexes
    ]


# --- GAINS facts ----------------------------------------------------------------------


def build_profile_facts(
    rng: random.Random, user: User, contacts: list[Contact], now: datetime
) -> list[GainsFact]:
    """Facts entered by hand on saved contacts, learned some time after adding them."""
    fill = Words(rng)
    tz = user.tzinfo
    facts = []
    for contact in contacts:
        low, high = PROFILE_FACTS[contact.stage]
        for _ in range(rng.randint(low, high)):
            kind = rng.choice(GAINS_KINDS)
            span = max(1, int((now - contact.created_at).total_seconds()))
            created_at = contact.created_at + timedelta(seconds=rng.randrange(span))
            facts.append(
                GainsFact(
                    owner_id=user.pk,
                    contact_id=contact.pk,
                    kind=kind,
                    text=fill.pick(words.GAINS_TEXTS[kind]),
                    learned_on=created_at.astimezone(tz).date(),
                    created_at=created_at,
                )
            )
    return facts


def build_meeting_facts(
    rng: random.Random,
    user: User,
    contacts: list[Contact],
    meetings: list[Meeting],
    attendees: list[tuple],
) -> list[GainsFact]:
    """Facts jotted down after some saved meetings, each about one attendee."""
    fill = Words(rng)
    tz = user.tzinfo
    facts = []
    for meeting, indexes in zip(meetings, attendees, strict=True):
        if not indexes or rng.random() >= FACT_SHARE[meeting.kind]:
            continue
        for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
            kind = rng.choice(GAINS_KINDS)
            facts.append(
                GainsFact(
                    owner_id=user.pk,
                    contact_id=contacts[rng.choice(indexes)].pk,
                    kind=kind,
                    text=fill.pick(words.GAINS_TEXTS[kind]),
                    learned_on=meeting.occurred_at.astimezone(tz).date(),
                    meeting_id=meeting.pk,
                    created_at=meeting.created_at,
                )
            )
    return facts


# --- One user -------------------------------------------------------------------------


def seed_user(
    rng: random.Random, user: User, n_contacts: int, n_meetings: int, now: datetime
) -> Counter:
    """Add ``n_contacts`` contacts and ``n_meetings`` meetings (with facts, tags) to ``user``."""
    counts: Counter = Counter()
    tags, counts["tags"] = seed_tags(rng, user)

    contacts = build_contacts(rng, user, n_contacts, now)
    meetings, attendees = build_meetings(rng, user, contacts, n_meetings, now)
    apply_touches(rng, contacts, meetings, attendees)

    counts["contacts"] = len(bulk(Contact, contacts))
    counts["tag links"] = len(bulk(ContactTag, build_contact_tags(rng, contacts, tags)))
    counts["meetings"] = len(bulk(Meeting, meetings))
    counts["attendees"] = len(bulk(Attendee, build_attendees(contacts, meetings, attendees)))
    facts = build_profile_facts(rng, user, contacts, now)
    facts += build_meeting_facts(rng, user, contacts, meetings, attendees)
    counts["GAINS facts"] = len(bulk(GainsFact, facts))
    for seeder in seeding.seeders():
        counts.update(seeder(rng, user, contacts, meetings, now, n_meetings))
    return counts


def count(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "Fill the database with realistic synthetic data: users user1..N@example.com "
        "(or demo@example.com with --demo), each with contacts, meetings, tags and GAINS facts."
    )

    def add_arguments(self, parser):
        parser.add_argument("--users", type=count, default=None, help="Users to seed (default 1).")
        parser.add_argument(
            "--first-user",
            type=int,
            default=None,
            help="Number of the first user (default 1): seeds userN..user(N+users-1), so users "
            "of different sizes can share a database.",
        )
        parser.add_argument("--contacts", type=count, default=200, help="Contacts per user.")
        parser.add_argument("--meetings", type=count, default=1000, help="Meetings per user.")
        parser.add_argument(
            "--seed", type=int, default=None, help="Random seed; the same seed gives the same data."
        )
        parser.add_argument(
            "--password",
            default=None,
            help=f'Password of new users (default "{DEFAULT_PASSWORD}", with --demo '
            f'"{DEMO_PASSWORD}"). Given explicitly, it also resets existing users\' passwords.',
        )
        parser.add_argument(
            "--demo",
            action="store_true",
            help=f"Seed {DEMO_EMAIL} (created as by demo_user if missing) instead of userN.",
        )
        for add_arguments in seeding.argument_adders():  # options of other apps' seeders
            add_arguments(parser)

    def handle(self, *args, users, first_user, contacts, meetings, seed, password, demo, **options):
        if demo and users is not None:
            raise CommandError("--users cannot be combined with --demo.")
        if demo and first_user is not None:
            raise CommandError("--first-user cannot be combined with --demo.")
        if first_user is not None and first_user < 1:
            raise CommandError("--first-user must be 1 or more.")
        first = first_user or 1
        if seed is None:
            seed = random.SystemRandom().randrange(1_000_000)
        started = time.monotonic()
        now = timezone.now().replace(second=0, microsecond=0)
        default_password = DEMO_PASSWORD if demo else DEFAULT_PASSWORD
        # One hash for every user: hashing per user would dominate runs with many users.
        password_hash = make_password(password or default_password)

        if demo:
            targets = [(DEMO_EMAIL, DEMO_PROFILE)]
        else:
            targets = [(f"user{i}@example.com", None) for i in range(first, first + (users or 1))]

        totals: Counter = Counter()
        demo_user = None
        for email, profile in targets:
            with transaction.atomic():
                user, created = ensure_user(
                    random.Random(f"{seed}:{email}:profile"),
                    email,
                    password_hash,
                    reset_password=password is not None,
                    profile=profile,
                )
                counts = seed_user(
                    random.Random(f"{seed}:{email}:data"), user, contacts, meetings, now
                )
            totals += counts
            totals["users"] += 1
            totals["new users"] += created
            if demo:
                demo_user = user
            if options["verbosity"] >= 2:
                self.stdout.write(f"  {email}: {format_counts(counts)}")

        # Data across users (e.g. networking groups), once everyone above exists.
        all_options = {
            **options,
            "users": users,
            "first_user": first_user,
            "contacts": contacts,
            "meetings": meetings,
            "seed": seed,
            "password": password,
            "demo": demo,
        }
        for seeder in seeding.global_seeders():
            app_label = seeder.__module__.split(".")[0]
            with transaction.atomic():
                counts = seeder(
                    rng=random.Random(f"{seed}:{app_label}"),
                    options=all_options,
                    now=now,
                    stdout=self.stdout,
                    password_hash=password_hash,
                    demo_user=demo_user,
                )
            totals += counts or Counter()

        if connection.vendor == "postgresql":
            # Fresh statistics after a bulk load, as autovacuum would gather later:
            # without them the planner takes thousands of rows for a handful.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"Seeded {totals['users']} users ({totals['new users']} new): "
            f"{format_counts(totals)} in {elapsed:.1f}s (seed {seed})"
        )


def format_counts(counts: Counter) -> str:
    keys = ["contacts", "meetings", "attendees", "GAINS facts", "tags", "tag links"]
    keys += [k for k in counts if k not in {*keys, "users", "new users"}]  # from other apps
    return ", ".join(f"{counts[k]} {'new tags' if k == 'tags' else k}" for k in keys)
