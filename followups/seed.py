"""seed_demo for follow-ups: ``scale / 20`` tasks per user, mostly done, a few pending.

Registered with ``contacts.seeding``; runs once per user after contacts and meetings are
inserted. Most follow-ups come out of a meeting (a thank-you note the next day, an
introduction promised over coffee) and are about one of its attendees; the rest were added
on a contact's page. The mix: almost all done in the past (``completed_at`` set), a handful
open and overdue, one or two due today, some upcoming in the next 30 days, some snoozed.
Everything is drawn from ``rng`` and written with ``bulk_create``; the attendees of the
chosen meetings are read in one query.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock

from contacts import seed_data as words
from contacts.models import Contact, Meeting, MeetingKind, Stage

from .models import FollowUp, Status

BATCH_SIZE = 5000
FOLLOWUPS_PER_MEETING = 1 / 20
DONE_SHARE = 0.6  # at least this share of follow-ups is done, however few there are
OVERDUE_MAX, OVERDUE_PER = 12, 100  # a handful: 1 per 100 follow-ups, at most 12
DUE_TODAY_MAX, DUE_TODAY_PER = 5, 400
UPCOMING_SHARE = 0.04
SNOOZED_SHARE = 0.015
FROM_MEETING_SHARE = 0.75
UPCOMING_DAYS = 30
HOURS = [8, 9, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]

# Which meetings lead to a follow-up, relatively.
KIND_WEIGHTS = {
    MeetingKind.ONE_TO_ONE: 6,
    MeetingKind.COFFEE: 4,
    MeetingKind.EVENT: 4,
    MeetingKind.CALL: 2,
    MeetingKind.VIDEO: 2,
    MeetingKind.EMAIL: 1,
    MeetingKind.MESSAGE: 0.5,
    MeetingKind.OTHER: 0.5,
}
STAGE_WEIGHTS = {Stage.CONTACT: 1, Stage.ACQUAINTANCE: 3, Stage.CONNECTION: 6}

# (title, weight, days after the meeting it is due: low, high)
AFTER_MEETING = [
    ("Send a thank-you note to {first}", 5, 0, 1),
    ("Follow up with {first} about {topic}", 5, 2, 10),
    ("Send {first} the article we discussed", 2, 1, 5),
    ("Introduce {first} to a {profession}", 3, 2, 14),
    ("Book a one-to-one with {first}", 2, 3, 21),
    ("Send {first} my one-line pitch", 1, 1, 3),
    ("Invite {first} to {group}", 1, 3, 14),
    ("Ask {first} for a testimonial", 1, 3, 14),
    ("Connect with {first} on LinkedIn", 2, 0, 2),
]
ON_CONTACT = [
    ("Check in with {first}", 4, 3, 30),
    ("Follow up with {first} about {topic}", 3, 3, 21),
    ("Ask {first} how the referral went", 2, 7, 30),
    ("Wish {first} a happy anniversary", 1, 7, 30),
    ("Send {first} a client testimonial", 1, 3, 14),
]
TOPICS = [
    "the referral",
    "the joint workshop",
    "their {season} plans",
    "the {city} small business expo",
    "their new website",
    "a visit to {group}",
    "the {profession} they were looking for",
    "their ideal client",
]


class _Fill(dict):
    POOLS = {
        "city": words.CITIES,
        "group": words.NETWORK_GROUPS,
        "season": words.SEASONS,
        "profession": [p.lower() for p, _ in words.PROFESSIONS],
    }

    def __init__(self, rng: random.Random, **values):
        super().__init__(values)
        self.rng = rng

    def __missing__(self, key: str) -> str:
        value = self.rng.choice(self.POOLS[key]) if key in self.POOLS else self.topic()
        self[key] = value
        return value

    def topic(self) -> str:
        return self.rng.choice(TOPICS).format_map(self)


def _weighted(options: list[tuple]) -> tuple[list, list]:
    return options, list(itertools.accumulate(o[1] for o in options))


AFTER_MEETING_TITLES = _weighted(AFTER_MEETING)
ON_CONTACT_TITLES = _weighted(ON_CONTACT)


def title_for(rng: random.Random, titles: tuple[list, list], contact: Contact) -> tuple:
    """(title, days to due: low, high) for a follow-up about ``contact``."""
    options, cum = titles
    template, _, low, high = rng.choices(options, cum_weights=cum)[0]
    title = template.format_map(_Fill(rng, first=contact.name.split(" ")[0]))
    return title[:200], low, high


def plan(n: int) -> dict[str, int]:
    """How many follow-ups of each kind: mostly done, a handful overdue, a few pending."""
    wanted = [
        ("overdue", min(OVERDUE_MAX, max(1, n // OVERDUE_PER))),
        ("upcoming", max(1, round(n * UPCOMING_SHARE))),
        ("today", min(DUE_TODAY_MAX, max(1, n // DUE_TODAY_PER))),
        ("snoozed", round(n * SNOOZED_SHARE)),
    ]
    budget = n - max(1, math.ceil(n * DONE_SHARE))
    counts = {}
    for kind, k in wanted:
        counts[kind] = min(k, budget)
        budget -= counts[kind]
    counts["done"] = n - sum(counts.values())
    return counts


class Seeder:
    def __init__(self, rng: random.Random, user, contacts: list[Contact], meetings, now):
        self.rng = rng
        self.user = user
        self.now = now
        self.tz = user.tzinfo
        self.today = now.astimezone(self.tz).date()
        self.meetings = sorted(meetings, key=lambda m: (m.occurred_at, m.pk))
        self.meeting_days = [self.day(m.occurred_at) for m in self.meetings]
        self.meeting_cum = list(
            itertools.accumulate(KIND_WEIGHTS.get(m.kind, 1) for m in self.meetings)
        )
        self.contacts = contacts
        self.contact_cum = list(
            itertools.accumulate(
                STAGE_WEIGHTS[c.stage] * (0.1 if c.last_touched_at is None else 1.0)
                for c in contacts
            )
        )

    def day(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def at(self, day: date) -> datetime:
        rng = self.rng
        moment = datetime.combine(day, clock(rng.choice(HOURS), rng.choice((0, 15, 30, 45))))
        return moment.replace(tzinfo=self.tz).astimezone(UTC)

    def meeting_between(self, first: date, last: date) -> Meeting | None:
        """A meeting on a day in [first, last], likelier after a one-to-one than an e-mail."""
        lo = bisect.bisect_left(self.meeting_days, first)
        hi = bisect.bisect_right(self.meeting_days, last)
        if lo >= hi:
            return None
        base = self.meeting_cum[lo - 1] if lo else 0
        x = base + self.rng.random() * (self.meeting_cum[hi - 1] - base)
        return self.meetings[bisect.bisect_right(self.meeting_cum, x, lo, hi - 1)]

    def contact(self) -> Contact:
        x = self.rng.random() * self.contact_cum[-1]
        return self.contacts[bisect.bisect_right(self.contact_cum, x, 0, len(self.contacts) - 1)]

    def draft(self, kind: str) -> dict:
        """What a follow-up of ``kind`` is about, a meeting (the attendee is chosen once
        attendees are read) or a contact, and the day it was set on."""
        rng, today = self.rng, self.today
        horizon = today - timedelta(days=729)
        if kind == "done":
            window = (horizon, today - timedelta(days=1))
        elif kind == "overdue":
            window = (today - timedelta(days=45), today - timedelta(days=2))
        elif kind == "today":
            window = (today - timedelta(days=10), today)
        elif kind == "snoozed":
            window = (today - timedelta(days=60), today - timedelta(days=1))
        else:  # upcoming
            window = (today - timedelta(days=21), today)
        meeting = None
        if rng.random() < FROM_MEETING_SHARE:
            meeting = self.meeting_between(*window)
        contact = None
        if meeting is None:
            for _ in range(5):  # one who was already a contact then, if possible
                contact = self.contact()
                if self.day(contact.created_at) <= window[1]:
                    break
        start = self.day(meeting.occurred_at) if meeting else None
        if start is None:  # added on the contact's page
            start = max(window[0], self.day(contact.created_at))
            start += timedelta(days=rng.randint(0, max(0, (window[1] - start).days)))
            start = min(start, today)
        return {"kind": kind, "meeting": meeting, "contact": contact, "start": start}

    def due(self, kind: str, start: date, created: date, low: int, high: int) -> date:
        rng, today = self.rng, self.today
        due = max(created, start + timedelta(days=rng.randint(low, high)))
        if kind == "done":
            return min(due, today)
        if kind == "overdue":
            return min(max(due, start), today - timedelta(days=1))
        if kind == "today":
            return today
        # upcoming, or snoozed until a later day
        return max(
            due, today + timedelta(days=1 + min(UPCOMING_DAYS - 1, int(rng.expovariate(1 / 8))))
        )

    def build(self, drafts: list[dict], attendees: dict[int, list[Contact]]) -> list[FollowUp]:
        rng, now = self.rng, self.now
        rows = []
        for draft in drafts:
            kind, meeting, contact = draft["kind"], draft["meeting"], draft["contact"]
            if meeting is not None and attendees.get(meeting.pk):
                contact = rng.choice(attendees[meeting.pk])
                created_at = meeting.created_at
                title, low, high = title_for(rng, AFTER_MEETING_TITLES, contact)
            else:
                meeting = None
                contact = contact or self.contact()
                created_at = max(contact.created_at, min(now, self.at(draft["start"])))
                title, low, high = title_for(rng, ON_CONTACT_TITLES, contact)
            due_on = self.due(kind, draft["start"], self.day(created_at), low, high)
            completed_at = None
            if kind == "done":
                done_day = due_on + timedelta(days=rng.randint(-2, 4))
                completed_at = min(now, max(created_at, self.at(done_day)))
                completed_at = max(completed_at, created_at + timedelta(minutes=5))
                completed_at = min(now, completed_at)
            rows.append(
                FollowUp(
                    owner_id=self.user.pk,
                    contact_id=contact.pk,
                    meeting_id=meeting.pk if meeting else None,
                    title=title,
                    due_on=due_on,
                    status={"done": Status.DONE, "snoozed": Status.SNOOZED}.get(kind, Status.OPEN),
                    completed_at=completed_at,
                    created_at=created_at,
                )
            )
        return rows


def meeting_attendees(meetings: list[Meeting], contacts: list[Contact]) -> dict:
    """meeting pk -> its attendees among ``contacts``, in one query."""
    if not meetings:
        return {}
    by_pk = {c.pk: c for c in contacts}
    attendees: dict[int, list[Contact]] = {}
    rows = (
        Meeting.attendees.through.objects.filter(meeting_id__in=[m.pk for m in meetings])
        .order_by("meeting_id", "contact_id")
        .values_list("meeting_id", "contact_id")
    )
    for meeting_id, contact_id in rows:
        if contact_id in by_pk:
            attendees.setdefault(meeting_id, []).append(by_pk[contact_id])
    return attendees


def seed_user(rng, user, contacts, meetings, now, scale) -> Counter:
    """Follow-ups for one user, in bulk: mostly done, a handful overdue, some upcoming."""
    n = round(scale * FOLLOWUPS_PER_MEETING)
    if not n or not contacts:
        return Counter({"follow-ups": 0})
    seeder = Seeder(rng, user, contacts, meetings, now)
    drafts = [seeder.draft(kind) for kind, k in plan(n).items() for _ in range(k)]
    linked = {d["meeting"].pk: d["meeting"] for d in drafts if d["meeting"] is not None}
    attendees = meeting_attendees(sorted(linked.values(), key=lambda m: m.pk), contacts)
    rows = seeder.build(drafts, attendees)
    FollowUp.objects.bulk_create(rows, batch_size=BATCH_SIZE)
    return Counter({"follow-ups": len(rows)})
