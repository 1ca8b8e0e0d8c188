"""seed_demo for networking groups: members, a year of meetings, slips and one-to-ones.

    python manage.py seed_demo --users 20 --groups 2 --group-size 25 --seed 1
    python manage.py seed_demo --demo --groups 1 --group-size 20   # demo organises group 1

Registered with ``contacts.seeding`` as a global seeder: it runs once, after every user
is seeded, in a transaction of its own. ``--groups 0`` (the default) adds nothing.

For group k (1..G): ``organiser{k}@example.com`` (made if missing) organises it and is a
member; ``--group-size`` members are the ``user{i}@example.com`` users in order (group 1
gets the first ones, group 2 the next...), the missing ones created with a generated
profile and the command's password. With ``--demo`` the demo user also organises group 1.

A year of weekly meetings (no meeting over Christmas week) with attendance for each
member current that day, visitors, slips between members with their two private ledger
rows (as ``groups.slips.give`` makes them, then moved along as ``advance``/``close`` do),
one-to-ones and the outside numbers some members report. Each member has their own habits
(how often they give, meet one-to-one, bring visitors, miss meetings); a few joined this
year, a few left, one or two are on leave, a couple are drifting away (their attendance
falls over the last 13 weeks) and in bigger groups one gives next to nothing, so the
report's "needs attention" list has someone on it. About 0.5-1.5 slips and 1-3
one-to-ones per member a month, a visitor per meeting for every 25 members; the digest has
told members of all but each group's newest few slips and thank-yous. Each side's contact
for the other member is reused if linked already, else made (as ``contact_for`` does).
Everything is drawn from ``rng`` (same seed, same data) and written with ``bulk_create``.
"""

from __future__ import annotations

import itertools
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock

from django.utils import timezone

from accounts.models import User
from contacts import seed_data as words
from contacts.management.commands.seed_demo import Words, ensure_user
from contacts.models import Contact
from referrals import seed as ledger_seed
from referrals.models import CLOSED_STATUSES, Direction, Referral, Status, StatusChange

from .models import (
    GAINS_PARTS,
    Attendance,
    Group,
    GroupMeeting,
    Membership,
    MembershipStatus,
    OneToOne,
    OutsideReport,
    Role,
    Slip,
    SlipChange,
    Visitor,
    Weekday,
)
from .slips import SHARED_FIELDS

BATCH_SIZE = 5000
HISTORY_DAYS = 364  # a year of weekly meetings, up to yesterday
UPCOMING_WEEKS = 4  # meetings scheduled ahead, no attendance yet
DAYS_PER_MONTH = 30.44
RECENT_DAYS = 91  # the report's trend window: drifting members fall off in it
UNNOTIFIED_SLIPS = 3  # per group: the newest slips (and thank-yous) the digest still tells
MEMBER_EMAIL = re.compile(r"user(\d+)@example\.com")
MET_HOW = "Fellow member of my networking group"  # as groups.members.contact_for

GROUP_WORDS = [
    "Business Builders",
    "Referral Network",
    "Breakfast Club",
    "Connectors",
    "Power Partners",
    "Business Exchange",
    "Professionals",
    "Referral Circle",
]
GROUP_PLACES = [
    "Panera Bread on {street}, {city}",
    "The Corner Bistro, private room",
    "{city} Chamber of Commerce boardroom",
    "Hilton Garden Inn, {street}",
    "Riverside Golf Club, {city}",
    "Community room, {city} Public Library",
    "The Daily Grind, {city}",
]
GROUP_DESCRIPTIONS = [
    "Weekly referral group for {city} small businesses. One seat per profession.",
    "We meet every week to pass referrals, hear a feature presentation and welcome visitors.",
    "Business owners in {city} who refer each other. Visitors always welcome.",
]
WEEKDAY_WEIGHTS = {
    Weekday.TUESDAY: 30,
    Weekday.WEDNESDAY: 30,
    Weekday.THURSDAY: 30,
    Weekday.MONDAY: 5,
    Weekday.FRIDAY: 5,
}
TIME_WEIGHTS = {clock(7): 40, clock(7, 30): 25, clock(12): 20, clock(18): 15}
# Ordinary habits: (code, lowest, highest chance at a meeting); "P" takes what is left.
ATTENDANCE_HABITS = [("A", 0.0, 0.05), ("L", 0.01, 0.06), ("M", 0.005, 0.025), ("S", 0.0, 0.04)]
DRIFTING = {"A": 0.32, "L": 0.08, "M": 0.05, "S": 0.07}  # over the last 13 weeks
# Visitors at a meeting: about one for every 25 members (so ~1 in a group of 25).
VISITORS_PER_MEETING = ([0, 1, 2, 3], [35, 38, 20, 7])
MEMBERS_PER_VISITOR = 25
OUTSIDE_COUNTS = ([0, 1, 2, 3, 4, 5], [30, 30, 20, 10, 6, 4])
OUTSIDE_REPORTERS = 0.35  # share of members who report outside referrals
SHARES_GAINS = 0.8  # share of members who share some GAINS parts with the group
POWER_PARTNERS = 3  # each member's closest partners: a good part of their slips and 1-2-1s
PRIVATE_NOTES = [
    "Met them at my kids' school.",
    "Long-standing client of mine; treat them well.",
    "Said they would call this week.",
    "They prefer e-mail to calls.",
    "Follow up after the holidays.",
]


def add_arguments(parser) -> None:
    parser.add_argument(
        "--groups",
        type=_count,
        default=0,
        help="Networking groups to seed across users (default 0: none).",
    )
    parser.add_argument(
        "--group-size",
        type=_count,
        default=25,
        help="Members per group, drawn from user1..N@example.com (made if missing).",
    )


def _count(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(value)
    return number


@dataclass
class Seat:
    """One member of a group being seeded: their membership and their habits."""

    user: User
    membership: Membership
    joined_on: date
    left_on: date | None = None
    leave_from: date | None = None  # on leave since
    slip_rate: float = 1.0  # slips given a month
    one_rate: float = 2.0  # one-to-ones a month
    receive_weight: float = 1.0
    visitor_weight: float = 1.0
    habits: dict[str, float] = field(default_factory=dict)
    drifting: bool = False
    partners: list[int] = field(default_factory=list)  # indexes of power partners

    def active(self, day: date) -> bool:
        """A member that day and not on leave: can give, receive and meet."""
        if day < self.joined_on or (self.left_on and day >= self.left_on):
            return False
        return not (self.leave_from and day >= self.leave_from)

    def current(self, day: date) -> bool:
        """A member that day (on leave counts): their attendance is taken."""
        return self.joined_on <= day and not (self.left_on and day >= self.left_on)

    def span(self, start: date, end: date) -> tuple[date, date]:
        """The days in [start, end] they were active."""
        last = end
        if self.left_on:
            last = min(last, self.left_on - timedelta(days=1))
        if self.leave_from:
            last = min(last, self.leave_from - timedelta(days=1))
        return max(start, self.joined_on), last


class Clock:
    """Moments on given days (in the current time zone), never after ``now``."""

    def __init__(self, now: datetime):
        self.now = now
        self.today = timezone.localdate(now)

    def at(self, day: date, when: clock) -> datetime:
        return min(self.now, timezone.make_aware(datetime.combine(day, when)))

    def during(self, rng: random.Random, day: date) -> datetime:
        return self.at(day, clock(rng.choice(ledger_seed.HOURS), rng.choice((0, 15, 30, 45))))


def _bulk(model, rows: list) -> list:
    return model.objects.bulk_create(rows, batch_size=BATCH_SIZE)


def _weighted(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _events(rng: random.Random, first: date, last: date, per_month: float) -> list[date]:
    """Days of a Poisson process at ``per_month`` events a month from ``first`` to ``last``."""
    days, rate = [], per_month / DAYS_PER_MONTH
    if rate <= 0 or last < first:
        return days
    t = rng.expovariate(rate)
    span = (last - first).days + 1
    while t < span:
        days.append(first + timedelta(days=int(t)))
        t += rng.expovariate(rate)
    return days


# --- Users ----------------------------------------------------------------------------


def member_users(seed, total: int, password_hash: str) -> tuple[list[User], int]:
    """``total`` users userN@example.com in number order, made where missing; (users, made)."""
    existing = {}
    for user in User.objects.filter(email__istartswith="user", email__iendswith="@example.com"):
        match = MEMBER_EMAIL.fullmatch(user.email.lower())
        if match:
            existing[int(match.group(1))] = user
    numbers = sorted(existing)[:total]
    candidate = 1
    while len(numbers) < total:
        if candidate not in existing:
            numbers.append(candidate)
        candidate += 1
    numbers.sort()
    users, made = [], 0
    for number in numbers:
        user = existing.get(number)
        if user is None:
            email = f"user{number}@example.com"
            # The profile seed_demo --users would give them: same seed, same person.
            user, _ = ensure_user(random.Random(f"{seed}:{email}:profile"), email, password_hash)
            made += 1
        users.append(user)
    return users, made


# --- Groups and members ---------------------------------------------------------------


def build_group(rng: random.Random, taken: set[str]) -> Group:
    fill = Words(rng)
    city = rng.choice(words.CITIES)
    fill["city"] = city
    name = ""
    for _ in range(20):
        name = f"{rng.choice(words.COMPANY_PREFIXES)} {rng.choice(GROUP_WORDS)}"
        if name not in taken:
            break
    else:
        name = f"{name} {city}"
    taken.add(name)
    return Group(
        name=name,
        city=city,
        meeting_weekday=_weighted(rng, WEEKDAY_WEIGHTS),
        meeting_time=_weighted(rng, TIME_WEIGHTS),
        meeting_place=fill.pick(GROUP_PLACES),
        description=fill.pick(GROUP_DESCRIPTIONS),
        currency="USD",  # the word lists' cities are American
    )


def build_seats(
    rng: random.Random,
    group: Group,
    organisers: list[User],
    members: list[User],
    clock_: Clock,
) -> list[Seat]:
    """Memberships (unsaved) and habits: organisers first, then the members in order."""
    today = clock_.today
    year_start = today - timedelta(days=HISTORY_DAYS)
    seats = []
    for i, user in enumerate([*organisers, *members]):
        organiser = i < len(organisers)
        if organiser:
            joined = today - timedelta(days=rng.randint(2 * 365, 8 * 365))
        elif rng.random() < 0.15:  # joined this year
            joined = year_start + timedelta(days=rng.randint(14, HISTORY_DAYS - 30))
        else:
            joined = today - timedelta(days=rng.randint(HISTORY_DAYS + 1, 6 * 365))
        habits = {code: rng.uniform(low, high) for code, low, high in ATTENDANCE_HABITS}
        shared = []
        if rng.random() < SHARES_GAINS:
            shared = sorted(
                rng.sample([f for f, _ in GAINS_PARTS], rng.randint(2, len(GAINS_PARTS))),
                key=[f for f, _ in GAINS_PARTS].index,
            )
        seat = Seat(
            user=user,
            membership=Membership(
                group=group,
                user=user,
                role=Role.ORGANISER if organiser else Role.MEMBER,
                seat=user.profession,
                status=MembershipStatus.ACTIVE,
                joined_on=joined,
                shared_gains=shared,
                created_at=clock_.during(rng, joined),
            ),
            joined_on=joined,
            slip_rate=rng.uniform(0.5, 1.5),
            one_rate=rng.uniform(1.0, 3.0),
            receive_weight=rng.lognormvariate(0, 0.5),
            visitor_weight=rng.lognormvariate(0, 0.8),
            habits=habits,
        )
        if organiser:  # organisers set the example
            seat.slip_rate, seat.one_rate = rng.uniform(1.0, 1.6), rng.uniform(2.0, 3.0)
            seat.habits = {code: p / 3 for code, p in habits.items()}
        seats.append(seat)

    # Some left during the year, some are on leave, a couple drift away, one goes quiet.
    ordinary = [s for s in seats[len(organisers) :] if s.joined_on < year_start]
    rng.shuffle(ordinary)
    size = len(members)
    n_left = round(size * 0.06) or (1 if size >= 5 else 0)
    n_leave = round(size * 0.03) or (1 if size >= 10 else 0)
    n_drift = min(2 + size // 100, max(0, len(ordinary) - n_left - n_leave))
    n_quiet = size // 50 or (1 if size >= 10 else 0)
    for seat in ordinary[:n_left]:
        seat.left_on = year_start + timedelta(days=rng.randint(45, HISTORY_DAYS - 20))
        seat.membership.status = MembershipStatus.LEFT
        seat.membership.left_on = seat.left_on
    for seat in ordinary[n_left : n_left + n_leave]:
        seat.leave_from = today - timedelta(days=rng.randint(14, 60))
        seat.membership.status = MembershipStatus.ON_LEAVE
    rest = ordinary[n_left + n_leave :]
    for seat in rest[:n_drift]:
        seat.drifting = True
        seat.slip_rate *= 0.6
    for seat in rest[n_drift : n_drift + n_quiet]:
        seat.slip_rate, seat.one_rate = 0.04, 0.3
        seat.visitor_weight = 0.05

    others = list(range(len(seats)))
    for i, seat in enumerate(seats):
        pool = [j for j in others if j != i]
        seat.partners = rng.sample(pool, min(POWER_PARTNERS, len(pool)))
    return seats


# --- Meetings, attendance, visitors ---------------------------------------------------


def meeting_days(group: Group, today: date) -> tuple[list[date], list[date]]:
    """(past meeting days of the last year, upcoming ones), skipping Christmas week."""
    first = today - timedelta(days=HISTORY_DAYS)
    first += timedelta(days=(group.meeting_weekday - first.weekday()) % 7)
    weeks = (today - first).days // 7 + 1 + UPCOMING_WEEKS
    days = [first + timedelta(weeks=i) for i in range(weeks)]
    days = [d for d in days if not ((d.month == 12 and d.day >= 24) or (d.month, d.day) == (1, 1))]
    past = [d for d in days if d < today]
    return past, [d for d in days if d >= today][:UPCOMING_WEEKS]


def attendance_code(rng: random.Random, seat: Seat, day: date, recent_start: date) -> str:
    if seat.leave_from and day >= seat.leave_from:
        return "M"
    habits = DRIFTING if seat.drifting and day >= recent_start else seat.habits
    roll = rng.random()
    for code, chance in habits.items():
        if roll < chance:
            return code
        roll -= chance
    return "P"


def build_attendance(
    rng: random.Random,
    seats: list[Seat],
    meetings: list[GroupMeeting],
    organiser: User,
    clock_: Clock,
) -> list[Attendance]:
    recent_start = clock_.today - timedelta(days=RECENT_DAYS - 1)
    rows = []
    for meeting in meetings:
        recorded_at = clock_.at(meeting.on, meeting.starts_at) + timedelta(hours=2)
        for seat in seats:
            if not seat.current(meeting.on):
                continue
            code = attendance_code(rng, seat, meeting.on, recent_start)
            substitute = ""
            if code == "S":
                substitute = f"{rng.choice(words.FIRST_NAMES)} {rng.choice(words.LAST_NAMES)}"
            rows.append(
                Attendance(
                    meeting=meeting,
                    membership=seat.membership,
                    code=code,
                    substitute_name=substitute,
                    recorded_by=organiser,
                    recorded_at=min(clock_.now, recorded_at),
                )
            )
    return rows


def build_visitors(
    rng: random.Random, group: Group, seats: list[Seat], meetings: list[GroupMeeting], clock_: Clock
) -> list[Visitor]:
    rows = []
    blocks = max(1, round(len(seats) / MEMBERS_PER_VISITOR))
    for meeting in meetings:
        k = sum(rng.choices(*VISITORS_PER_MEETING, k=blocks))
        hosts = [s for s in seats if s.active(meeting.on)]
        if not hosts or not k:
            continue
        for host in rng.choices(hosts, weights=[s.visitor_weight for s in hosts], k=k):
            first, last = rng.choice(words.FIRST_NAMES), rng.choice(words.LAST_NAMES)
            profession, _ = rng.choice(words.PROFESSIONS)
            email = ""
            if rng.random() < 0.6:
                person = (
                    re.sub(r"[^a-z]", "", first.lower()) + "." + re.sub(r"[^a-z]", "", last.lower())
                )
                email = f"{person}@{rng.choice(words.EMAIL_DOMAINS)}"
            rows.append(
                Visitor(
                    group=group,
                    meeting=meeting,
                    brought_by=host.membership,
                    name=f"{first} {last}",
                    profession=profession,
                    email=email,
                    visited_on=meeting.on,
                    created_at=clock_.at(meeting.on, meeting.starts_at) + timedelta(hours=3),
                )
            )
    return rows


# --- Slips ----------------------------------------------------------------------------


def pick_partner(
    rng: random.Random, seats: list[Seat], i: int, day: date, cum: list[float], near: float
) -> int | None:
    """Another member active on ``day``: often one of ``i``'s power partners."""
    seat = seats[i]
    if rng.random() < near:
        close = [j for j in seat.partners if seats[j].active(day)]
        if close:
            return rng.choice(close)
    for _ in range(30):
        j = rng.choices(range(len(seats)), cum_weights=cum)[0]
        if j != i and seats[j].active(day):
            return j
    return None


@dataclass
class PlannedSlip:
    slip: Slip
    giver: Seat
    receiver: Seat
    steps: list[tuple[str, date]]
    moments: list[datetime]  # when each step was recorded, never going back
    notes: tuple[str, str]  # the giver's, the receiver's private notes


def plan_slips(
    rng: random.Random, group: Group, seats: list[Seat], clock_: Clock
) -> list[PlannedSlip]:
    """The group's slips of the year, oldest first, each with its whole history to today."""
    today = clock_.today
    year_start = today - timedelta(days=HISTORY_DAYS)
    cum = list(itertools.accumulate(seat.receive_weight for seat in seats))
    temperatures = ledger_seed.TEMPERATURE_WEIGHTS
    planned = []
    for i, giver in enumerate(seats):
        first, last = giver.span(year_start, today)
        for day in _events(rng, first, last, giver.slip_rate):
            j = pick_partner(rng, seats, i, day, cum, near=0.4)
            if j is None:
                continue
            receiver = seats[j]
            temperature = _weighted(rng, temperatures)
            steps = [s for s in ledger_seed.plan_history(rng, day, temperature) if s[1] <= today]
            status, last_day = steps[-1]
            name = ledger_seed.prospect_name(rng)
            value = ledger_seed.closed_value(rng) if status == Status.WON else None
            service = (receiver.membership.seat or "professional").lower()
            need = ""
            if rng.random() < 0.9:
                need = ledger_seed.fill(rng, rng.choice(ledger_seed.NEEDS), service=service)
            slip = Slip(
                group=group,
                giver=giver.membership,
                receiver=receiver.membership,
                prospect_name=name,
                prospect_reach=ledger_seed.prospect_reach(rng, name),
                need=need,
                referred_on=day,
                temperature=temperature,
                status=status,
                value=value,
                currency=group.currency,
                closed_on=last_day if status in CLOSED_STATUSES else None,
                created_at=clock_.during(rng, day),
            )
            moments = [slip.created_at]
            for _, step_day in steps[1:]:  # later the same day at the earliest
                moments.append(max(moments[-1], clock_.during(rng, step_day)))
            notes = (
                rng.choice(PRIVATE_NOTES) if rng.random() < 0.2 else "",
                rng.choice(PRIVATE_NOTES) if rng.random() < 0.1 else "",
            )
            planned.append(PlannedSlip(slip, giver, receiver, steps, moments, notes))
    planned.sort(key=lambda p: (p.slip.created_at, p.slip.referred_on))

    # The digest has told everyone of all but the newest slips and thank-yous.
    for p in planned[:-UNNOTIFIED_SLIPS] if UNNOTIFIED_SLIPS else planned:
        p.slip.receiver_notified_at = min(
            clock_.now, p.slip.created_at + timedelta(hours=rng.randint(14, 30))
        )
    won = sorted(
        (p for p in planned if p.slip.status == Status.WON),
        key=lambda p: (p.slip.closed_on, p.slip.created_at),
    )
    for p in won[:-UNNOTIFIED_SLIPS] if UNNOTIFIED_SLIPS else won:
        p.slip.giver_notified_at = clock_.at(
            p.slip.closed_on + timedelta(days=1), clock(rng.choice((6, 7, 8)))
        )
    return planned


def linked_contacts(planned: list[PlannedSlip], known: dict[tuple[int, int], int]) -> int:
    """Each side's contact for the other member (as ``contact_for``): existing ones reused,
    missing ones made when their first slip was. Fills ``known``; returns how many made."""
    first_seen: dict[tuple[int, int], tuple[datetime, Seat]] = {}
    for p in planned:
        for owner, other in ((p.giver, p.receiver), (p.receiver, p.giver)):
            key = (owner.user.pk, other.user.pk)
            if key not in known and key not in first_seen:
                first_seen[key] = (p.slip.created_at, other)
    if not first_seen:
        return 0
    owners = {owner for owner, _ in first_seen}
    others = {other for _, other in first_seen}
    for owner, other, pk in Contact.objects.filter(
        owner_id__in=owners, linked_user_id__in=others
    ).values_list("owner_id", "linked_user_id", "pk"):
        known[(owner, other)] = pk
    rows = []
    for (owner, other), (created_at, seat) in first_seen.items():
        if (owner, other) in known:
            continue
        user = seat.user
        contact = Contact(
            owner_id=owner,
            linked_user_id=other,
            name=user.display_name or user.email,
            company=user.business_name,
            profession=seat.membership.seat or user.profession,
            emails=[user.email.lower()],
            met_how=MET_HOW,
            created_at=created_at,
        )
        contact.touch_due_at = contact.compute_touch_due_at()
        rows.append(contact)
    _bulk(Contact, rows)
    for contact in rows:
        known[(contact.owner_id, contact.linked_user_id)] = contact.pk
    return len(rows)


def build_ledger(
    planned: list[PlannedSlip], known: dict[tuple[int, int], int]
) -> tuple[list[Referral], list[PlannedSlip], list[SlipChange]]:
    """Both sides' ledger rows, the slip each row belongs to, and each slip's audit trail."""
    rows, of_slip, changes = [], [], []
    for p in planned:
        slip = p.slip
        shared = {f: getattr(slip, f) for f in SHARED_FIELDS}
        # Closed won is the receiver's thank-you, on both ledgers (as close() does).
        thanked = slip.closed_on if slip.status == Status.WON else None
        for owner, other, direction, note in (
            (p.giver, p.receiver, Direction.GIVEN, p.notes[0]),
            (p.receiver, p.giver, Direction.RECEIVED, p.notes[1]),
        ):
            rows.append(
                Referral(
                    owner_id=owner.user.pk,
                    partner_id=known[(owner.user.pk, other.user.pk)],
                    direction=direction,
                    slip=slip,
                    notes=note,
                    thanks_sent_on=thanked if direction == Direction.RECEIVED else None,
                    thanks_received_on=thanked if direction == Direction.GIVEN else None,
                    created_at=slip.created_at,
                    **shared,
                )
            )
            of_slip.append(p)
        # The trail as give(), advance() and close() leave it.
        changes.append(
            SlipChange(
                slip=slip,
                changed_by=p.giver.user,
                changed_at=slip.created_at,
                field="created",
                new=Status.PASSED.label,
            )
        )
        previous = Status.PASSED
        for (status, day), changed_at in zip(p.steps[1:], p.moments[1:], strict=True):
            changes.append(
                SlipChange(
                    slip=slip,
                    changed_by=p.receiver.user,
                    changed_at=changed_at,
                    field="status",
                    old=Status(previous).label,
                    new=Status(status).label,
                )
            )
            if status in CLOSED_STATUSES:
                changes.append(
                    SlipChange(
                        slip=slip,
                        changed_by=p.receiver.user,
                        changed_at=changed_at,
                        field="closed_on",
                        new=day.isoformat(),
                    )
                )
                if slip.value is not None:
                    changes.append(
                        SlipChange(
                            slip=slip,
                            changed_by=p.receiver.user,
                            changed_at=changed_at,
                            field="value",
                            new=str(slip.value),
                        )
                    )
            previous = status
    return rows, of_slip, changes


def build_status_changes(rows: list[Referral], planned: list[PlannedSlip]) -> list[StatusChange]:
    """Each saved ledger row's history (its slip's steps), ending with the row's status."""
    return [
        StatusChange(referral_id=row.pk, status=status, changed_on=day, created_at=moment)
        for row, p in zip(rows, planned, strict=True)
        for (status, day), moment in zip(p.steps, p.moments, strict=True)
    ]


# --- One-to-ones and outside numbers --------------------------------------------------


def build_one_to_ones(
    rng: random.Random, group: Group, seats: list[Seat], clock_: Clock
) -> list[OneToOne]:
    """Each member arranges half their one-to-ones; the other half others arrange with them."""
    today = clock_.today
    year_start = today - timedelta(days=HISTORY_DAYS)
    cum = list(itertools.accumulate(seat.one_rate for seat in seats))
    rows, seen = [], set()
    for i, seat in enumerate(seats):
        first, last = seat.span(year_start, today - timedelta(days=1))
        for day in _events(rng, first, last, seat.one_rate / 2):
            j = pick_partner(rng, seats, i, day, cum, near=0.3)
            if j is None:
                continue
            low, high, pair_day = OneToOne.key(seat.membership.pk, seats[j].membership.pk, day)
            if pair_day in seen:
                continue
            seen.add(pair_day)
            rows.append(
                OneToOne(
                    group=group,
                    member_low_id=low,
                    member_high_id=high,
                    on=day,
                    pair_day=pair_day,
                    meeting=None,
                    created_at=clock_.during(rng, day) + timedelta(hours=1),
                )
            )
    return rows


def build_outside_reports(
    rng: random.Random, seats: list[Seat], clock_: Clock
) -> list[OutsideReport]:
    today = clock_.today
    year_start = today - timedelta(days=HISTORY_DAYS)
    rows = []
    for seat in seats:
        if rng.random() >= OUTSIDE_REPORTERS:
            continue
        first, last = seat.span(year_start, today)
        month = first.replace(day=1)
        while month <= last:
            if rng.random() < 0.8:
                count = rng.choices(*OUTSIDE_COUNTS)[0]
                rows.append(OutsideReport(membership=seat.membership, month=month, count=count))
            month = (month + timedelta(days=32)).replace(day=1)
    return rows


# --- The seeder -----------------------------------------------------------------------


def seed_groups(*, rng, options, now, stdout, password_hash, demo_user) -> Counter:
    """``--groups`` groups of ``--group-size`` members with a year of group life."""
    n_groups, size = options.get("groups") or 0, options.get("group_size") or 0
    counts: Counter = Counter()
    if not n_groups:
        return counts
    seed = options.get("seed")
    clock_ = Clock(now)
    members, counts["new member users"] = member_users(seed, n_groups * size, password_hash)
    known: dict[tuple[int, int], int] = {}
    taken: set[str] = set()
    for k in range(1, n_groups + 1):
        email = f"organiser{k}@example.com"
        organiser, made = ensure_user(
            random.Random(f"{seed}:{email}:profile"), email, password_hash
        )
        counts["new member users"] += made
        organisers = [organiser]
        if k == 1 and demo_user is not None:
            organisers.append(demo_user)
        group_counts = seed_group(
            rng, k, organisers, members[(k - 1) * size : k * size], clock_, known, taken
        )
        counts.update(group_counts)
        if options.get("verbosity", 1) >= 2:
            stdout.write(
                f"  group {k}: " + ", ".join(f"{n} {key}" for key, n in group_counts.items())
            )
    return counts


def seed_group(
    rng: random.Random,
    k: int,
    organisers: list[User],
    members: list[User],
    clock_: Clock,
    known: dict[tuple[int, int], int],
    taken: set[str],
) -> Counter:
    counts: Counter = Counter()
    group = build_group(rng, taken)
    seats = build_seats(rng, group, organisers, members, clock_)
    group.created_at = min(s.membership.created_at for s in seats)
    group.save()
    counts["groups"] = 1
    for seat in seats:
        seat.membership.group = group
    counts["memberships"] = len(_bulk(Membership, [s.membership for s in seats]))

    past, upcoming = meeting_days(group, clock_.today)
    meetings = [
        GroupMeeting(
            group=group,
            on=day,
            starts_at=group.meeting_time,
            place=group.meeting_place,
            created_at=clock_.at(day - timedelta(days=28), clock(9)),
        )
        for day in [*past, *upcoming]
    ]
    counts["group meetings"] = len(_bulk(GroupMeeting, meetings))
    held = meetings[: len(past)]
    counts["attendance"] = len(
        _bulk(Attendance, build_attendance(rng, seats, held, organisers[0], clock_))
    )
    counts["visitors"] = len(_bulk(Visitor, build_visitors(rng, group, seats, held, clock_)))

    planned = plan_slips(rng, group, seats, clock_)
    counts["slips"] = len(_bulk(Slip, [p.slip for p in planned]))
    counts["member contacts"] = linked_contacts(planned, known)
    rows, sides, changes = build_ledger(planned, known)
    counts["slip ledger rows"] = len(_bulk(Referral, rows))
    counts["status changes"] = len(_bulk(StatusChange, build_status_changes(rows, sides)))
    counts["slip changes"] = len(_bulk(SlipChange, changes))

    counts["one-to-ones"] = len(_bulk(OneToOne, build_one_to_ones(rng, group, seats, clock_)))
    counts["outside reports"] = len(_bulk(OutsideReport, build_outside_reports(rng, seats, clock_)))
    return counts
