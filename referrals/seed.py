"""seed_demo for the ledger: referrals with their status history, introductions and spends.

Registered with ``contacts.seeding``; runs once per user after contacts and meetings are
inserted. Everything is drawn from ``rng`` (same seed, same data) and written with
``bulk_create``. Per ``scale`` meetings: ``scale / 5`` referrals, ``scale / 50``
introductions and ``scale / 25`` spends.

The shape of the data:

- Referrals go mostly to and from connections, less often acquaintances, rarely plain
  contacts. Each partner leans one way: most give and take about evenly, some mostly take
  (they show up in "who to ask"), some mostly give (the user owes them).
- A referral's whole future is drawn up front (passed, contacted, meeting held, closed) and
  only the steps up to today are kept, so old referrals are mostly closed and recent ones
  mostly open, and the history always ends with the referral's status.
- Spends go to about 5% of contacts, mostly businesses people pay regularly
  (hairstylist, accountant, vet...), some typed in, some imported from a bank export.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal

from contacts import seed_data as words
from contacts.models import Contact, Stage

from .models import (
    Direction,
    Introduction,
    IntroMethod,
    IntroOutcome,
    Referral,
    Spend,
    Status,
    StatusChange,
    Temperature,
)

BATCH_SIZE = 5000
HISTORY_DAYS = 730
REFERRALS_PER_MEETING = 1 / 5
INTRODUCTIONS_PER_MEETING = 1 / 50
SPENDS_PER_MEETING = 1 / 25
SPEND_CONTACT_SHARE = 0.05  # of contacts: the businesses the user pays

# How likely a contact of each stage is to be a referral partner (or to be introduced).
PARTNER_WEIGHT = {Stage.CONTACT: 0.2, Stage.ACQUAINTANCE: 2.0, Stage.CONNECTION: 10.0}
# Per partner: (share of partners, share of their referrals the user gave them)
PARTNER_LEANINGS = [(0.65, 0.55), (0.20, 0.85), (0.15, 0.20)]  # even, takers, givers
TEMPERATURE_WEIGHTS = {Temperature.HOT: 25, Temperature.WARM: 50, Temperature.COLD: 25}
# What becomes of a referral given time, per temperature: won, lost, not a fit, stays open.
OUTCOME_WEIGHTS = {
    Temperature.HOT: (50, 30, 12, 6),
    Temperature.WARM: (33, 40, 19, 6),
    Temperature.COLD: (20, 42, 28, 8),
}
OUTCOMES = [Status.WON, Status.LOST, Status.NOT_A_FIT, None]
OTHER_CURRENCIES = ["EUR", "CAD", "GBP", "USD", "AUD"]
OTHER_CURRENCY_SHARE = 0.03
THANKS_SENT_SHARE = 0.8  # of won received referrals
THANKS_RECEIVED_SHARE = 0.55  # of won given referrals
HOURS = [8, 9, 9, 10, 10, 11, 11, 12, 13, 14, 14, 15, 16, 17]

NEEDS = [
    "Needs a {service} before {season}.",
    "Just moved to {city} and asked me who I'd trust as a {service}.",
    "Small business owner with {n} staff; wants a quote from a {service}.",
    "Recently retired couple; want to sit down with a {service}.",
    "Had a bad experience with their last {service} and wants someone reliable.",
    "Growing fast; needs a {service} who can keep up.",
    "Friend of a client; wants a {service} who speaks Spanish.",
    "Buying a house in {season}; will need a {service}.",
    "Wants a second opinion from a {service}.",
    "Met at {group}; asked for a {service} recommendation.",
    "Opening a second location in {city}; needs a {service}.",
    "Their {service} is retiring; looking for a replacement.",
]
STEP_NOTES = {
    Status.PASSED: ["Sent the intro e-mail.", "Passed on their number.", "Three-way e-mail."],
    Status.CONTACTED: ["Called them the same day.", "Left a voicemail, then e-mailed.", ""],
    Status.MEETING_HELD: ["Met for coffee.", "Went through their needs on a call.", ""],
    Status.WON: ["Signed up.", "Contract signed.", "First invoice paid."],
    Status.LOST: ["Went with a competitor.", "Put on hold indefinitely.", "Price too high."],
    Status.NOT_A_FIT: ["Budget too small.", "Outside the service area.", "Wrong timing."],
}
STEP_NOTE_SHARE = 0.4

INTRO_REASONS = [
    "{a} can refer clients who need a {b_trade}.",
    "{a} is a {a_trade} {b}'s clients keep asking about.",
    "{a} serves the same clients and is looking for a trusted {b_trade}.",
    "{a} knows everyone at {group}.",
    "{a} could co-host a workshop with {b} in {season}.",
    "{a} has been through the same growth pains and can share what worked.",
    "{a} can introduce {b} to the {city} small business crowd.",
    "",
]
INTRO_NOTES = [
    "Double opt-in: asked both first.",
    "Both are members of {group}.",
    "They met for coffee the week after.",
    "Suggested they swap GAINS sheets.",
    "",
    "",
]
INTRO_METHODS = {
    IntroMethod.EMAIL: 55,
    IntroMethod.MESSAGE: 18,
    IntroMethod.IN_PERSON: 15,
    IntroMethod.CALL: 12,
}
# days since the introduction (upper bound) -> outcome weights (pending, met, business, nothing)
INTRO_OUTCOMES_BY_AGE = [
    (7, (80, 20, 0, 0)),
    (30, (35, 40, 5, 20)),
    (None, (8, 40, 22, 30)),
]
INTRO_OUTCOMES = [
    IntroOutcome.PENDING,
    IntroOutcome.MET,
    IntroOutcome.BUSINESS,
    IntroOutcome.NOTHING,
]

# The money trail: trades people pay regularly -> (lowest, highest amount, what for, how
# often relative to the others).
MONEY_TRAIL = {
    "Hairstylist": (35, 180, ["Haircut", "Cut and colour", "Haircut and blow-dry"], 5.0),
    "Accountant": (150, 800, ["Tax return", "Quarterly accounts", "Year-end accounts"], 1.5),
    "Bookkeeper": (120, 600, ["Monthly bookkeeping", "Payroll", "Catch-up bookkeeping"], 3.0),
    "Veterinarian": (60, 650, ["Annual check-up", "Vaccinations", "Dental cleaning"], 1.5),
    "Dentist": (90, 800, ["Check-up and clean", "Filling", "Whitening"], 1.0),
    "Massage therapist": (60, 160, ["60-minute massage", "90-minute massage"], 3.0),
    "Personal trainer": (50, 400, ["Training session", "Block of 5 sessions"], 4.0),
    "Chiropractor": (45, 150, ["Adjustment", "Initial assessment"], 2.5),
    "Auto mechanic": (80, 800, ["Oil change", "Brake pads", "Annual service"], 1.0),
    "Pet groomer": (40, 140, ["Full groom", "Bath and nails"], 2.5),
    "Optometrist": (80, 500, ["Eye exam", "New glasses", "Contact lenses"], 0.6),
    "Cleaning service owner": (90, 300, ["House cleaning", "Deep clean"], 4.0),
    "Printer": (40, 600, ["Business cards", "Flyers", "Pull-up banner"], 1.0),
    "Florist": (30, 250, ["Flowers for a client", "Thank-you bouquet", "Office flowers"], 1.5),
    "Caterer": (150, 800, ["Lunch & learn catering", "Client event catering"], 0.6),
    "Landscaper": (60, 700, ["Lawn care", "Spring clean-up", "Hedge trimming"], 2.0),
    "IT consultant": (100, 800, ["Laptop set-up", "Monthly IT support", "Backup fix"], 1.0),
    "Graphic designer": (100, 800, ["Logo refresh", "Brochure design"], 0.6),
    "Web designer": (150, 800, ["Website updates", "Hosting and maintenance"], 0.8),
    "Plumber": (90, 700, ["Leaking tap", "Water heater service"], 0.6),
    "Electrician": (90, 700, ["New office lighting", "Outlet repair"], 0.5),
    "Nutritionist": (60, 250, ["Consultation", "Meal plan"], 1.0),
    "Travel agent": (100, 800, ["Booking fee", "Conference travel"], 0.5),
    "Tutor": (40, 200, ["Maths tutoring", "Exam prep session"], 3.0),
    "Photographer": (150, 800, ["Headshots", "Event photos"], 0.5),
}
OTHER_SPEND = (40, 400, ["Consultation", "Service", "Monthly retainer"], 0.5)
MONEY_TRAIL_PREFERENCE = 8.0  # a money-trail trade is this much likelier to be paid
IMPORTED_PAYERS = 0.45  # share of businesses the user pays by card (spends imported)


def _bulk(model, rows: list) -> list:
    return model.objects.bulk_create(rows, batch_size=BATCH_SIZE)


class _Fill(dict):
    """``{placeholders}``: the given values, else a draw from the shared word lists."""

    POOLS = {
        "city": words.CITIES,
        "group": words.NETWORK_GROUPS,
        "season": words.SEASONS,
        "n": [str(n) for n in range(3, 31)],
    }

    def __init__(self, rng: random.Random, **values):
        super().__init__(values)
        self.rng = rng

    def __missing__(self, key: str) -> str:
        return self.rng.choice(self.POOLS[key])


def fill(rng: random.Random, template: str, **values) -> str:
    return template.format_map(_Fill(rng, **values)) if "{" in template else template


def first_name(contact: Contact) -> str:
    return contact.name.split(" ")[0]


class Calendar:
    """The user's days: today in their time zone and moments on given days, never after now."""

    def __init__(self, user, now: datetime):
        self.tz = user.tzinfo
        self.now = now
        self.today = now.astimezone(self.tz).date()

    def day(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def at(self, rng: random.Random, day: date) -> datetime:
        moment = datetime.combine(day, clock(rng.choice(HOURS), rng.choice((0, 15, 30, 45))))
        return min(self.now, moment.replace(tzinfo=self.tz).astimezone(UTC))

    def past_day(self, rng: random.Random, skew: float = 1.25) -> date:
        """A day in the last two years, a little more often recent (the network grows)."""
        return self.today - timedelta(days=int(HISTORY_DAYS * rng.random() ** skew))


class Partners:
    """Weighted picks among contacts that already existed on a given day."""

    def __init__(self, rng: random.Random, contacts: list[Contact], calendar: Calendar):
        self.contacts = sorted(contacts, key=lambda c: (c.created_at, c.pk))
        self.created = [calendar.day(c.created_at) for c in self.contacts]
        weights = []
        for contact in self.contacts:
            weight = PARTNER_WEIGHT[contact.stage] * rng.lognormvariate(0, 0.6)
            if contact.last_touched_at is None:
                weight *= 0.05  # never met: a business card, rarely a partner
            if contact.is_archived:
                weight *= 0.2
            weights.append(weight)
        self.cum = list(itertools.accumulate(weights))

    def eligible(self, day: date) -> int:
        """How many contacts (a prefix of ``self.contacts``) existed on ``day``; at least 1."""
        return bisect.bisect_right(self.created, day) or 1

    def pick(self, rng: random.Random, eligible: int) -> int:
        total = self.cum[eligible - 1]
        if total <= 0:
            return rng.randrange(eligible)
        return bisect.bisect_right(self.cum, rng.random() * total, 0, eligible - 1)


def _gap(rng: random.Random, low: int, mean: float, high: int) -> timedelta:
    return timedelta(days=min(high, low + int(rng.expovariate(1 / mean))))


def plan_history(rng: random.Random, referred_on: date, temperature: str) -> list[tuple]:
    """Every (status, day) the referral will go through, today or not: non-decreasing days."""
    outcome = rng.choices(OUTCOMES, weights=OUTCOME_WEIGHTS[temperature])[0]
    steps = [(Status.PASSED, referred_on)]
    day = referred_on

    def step(status: str, gap: timedelta) -> None:
        nonlocal day
        day += gap
        steps.append((status, day))

    if outcome == Status.WON:
        step(Status.CONTACTED, _gap(rng, 0, 2.5, 21))
        step(Status.MEETING_HELD, _gap(rng, 1, 8, 60))
        step(Status.WON, _gap(rng, 3, 25, 150))
    elif outcome == Status.LOST:
        step(Status.CONTACTED, _gap(rng, 0, 2.5, 21))
        if rng.random() < 0.7:
            step(Status.MEETING_HELD, _gap(rng, 1, 8, 60))
        step(Status.LOST, _gap(rng, 5, 30, 180))
    elif outcome == Status.NOT_A_FIT:
        if rng.random() < 0.6:
            step(Status.CONTACTED, _gap(rng, 0, 2.5, 21))
        step(Status.NOT_A_FIT, _gap(rng, 0, 6, 45))
    elif rng.random() < 0.6:  # stays open: went quiet somewhere along the way
        step(Status.CONTACTED, _gap(rng, 0, 4, 30))
        if rng.random() < 0.35:
            step(Status.MEETING_HELD, _gap(rng, 1, 10, 60))
    return steps


def closed_value(rng: random.Random) -> Decimal:
    """500-25,000, log-uniform, mostly round figures; always two places."""
    amount = math.exp(rng.uniform(math.log(500), math.log(25_000)))
    if rng.random() < 0.8:
        step = 50 if amount < 5000 else 250
        cents = round(amount / step) * step * 100
    else:
        cents = round(amount * 100)
    return Decimal(cents).scaleb(-2)


def prospect_name(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.8:
        return f"{rng.choice(words.FIRST_NAMES)} {rng.choice(words.LAST_NAMES)}"
    if roll < 0.95:
        _, company_words = rng.choice(words.PROFESSIONS)
        return f"{rng.choice(words.COMPANY_PREFIXES)} {rng.choice(company_words)}"
    return f"The {rng.choice(words.LAST_NAMES)} family"


def prospect_reach(rng: random.Random, name: str) -> str:
    roll = rng.random()
    if roll < 0.35:
        person = "".join(ch for ch in name.lower().replace(" ", ".") if ch.isalnum() or ch == ".")
        return f"{person}@{rng.choice(words.EMAIL_DOMAINS)}"
    if roll < 0.65:
        return f"+1 {rng.choice(words.AREA_CODES)}-555-{rng.randint(100, 199):04d}"
    return ""


def build_referrals(
    rng: random.Random, user, partners: Partners, calendar: Calendar, n: int
) -> tuple[list[Referral], list[list[tuple]]]:
    """``n`` unsaved referrals and, for each, its history: (status, day, note) rows."""
    contacts = partners.contacts
    leanings = [share for share, _ in PARTNER_LEANINGS]
    given_shares = [rng.choices(PARTNER_LEANINGS, weights=leanings)[0][1] for _ in contacts]
    temperatures = list(TEMPERATURE_WEIGHTS)
    temperature_weights = list(TEMPERATURE_WEIGHTS.values())
    currency = user.default_currency
    others = [c for c in OTHER_CURRENCIES if c != currency]
    own_service = (user.profession or "").lower() or "professional like me"
    today = calendar.today

    referrals, histories = [], []
    for _ in range(n):
        referred_on = calendar.past_day(rng)
        eligible = partners.eligible(referred_on)
        i = partners.pick(rng, eligible)
        partner = contacts[i]
        referred_on = max(referred_on, partners.created[i])
        direction = Direction.GIVEN if rng.random() < given_shares[i] else Direction.RECEIVED
        temperature = rng.choices(temperatures, weights=temperature_weights)[0]

        prospect = None
        if direction == Direction.GIVEN and eligible > 1 and rng.random() < 0.08:
            j = rng.randrange(eligible)  # one of the user's own contacts
            prospect = contacts[j] if j != i else None
        name = prospect.name if prospect else prospect_name(rng)
        service = partner.profession.lower() if direction == Direction.GIVEN else own_service

        steps = [s for s in plan_history(rng, referred_on, temperature) if s[1] <= today]
        status, last_day = steps[-1]
        closed_on = last_day if status in (Status.WON, Status.LOST, Status.NOT_A_FIT) else None
        value, value_currency = None, currency
        thanks_sent_on = thanks_received_on = None
        if status == Status.WON:
            value = closed_value(rng)
            if others and rng.random() < OTHER_CURRENCY_SHARE:
                value_currency = rng.choice(others)
            thanked = closed_on + _gap(rng, 0, 3, 30)
            if direction == Direction.RECEIVED:
                if thanked <= today and rng.random() < THANKS_SENT_SHARE:
                    thanks_sent_on = thanked
            elif thanked <= today and rng.random() < THANKS_RECEIVED_SHARE:
                thanks_received_on = thanked

        referrals.append(
            Referral(
                owner_id=user.pk,
                direction=direction,
                partner_id=partner.pk,
                prospect_name=name,
                prospect_contact_id=prospect.pk if prospect else None,
                prospect_reach=(prospect.emails or [""])[0]
                if prospect
                else prospect_reach(rng, name),
                need=fill(rng, rng.choice(NEEDS), service=service) if rng.random() < 0.9 else "",
                referred_on=referred_on,
                temperature=temperature,
                status=status,
                value=value,
                currency=value_currency,
                closed_on=closed_on,
                thanks_sent_on=thanks_sent_on,
                thanks_received_on=thanks_received_on,
                created_at=calendar.at(rng, referred_on),
            )
        )
        histories.append(
            [
                (s, day, rng.choice(STEP_NOTES[s]) if rng.random() < STEP_NOTE_SHARE else "")
                for s, day in steps
            ]
        )
    return referrals, histories


def build_status_changes(
    rng: random.Random,
    calendar: Calendar,
    referrals: list[Referral],
    histories: list[list[tuple]],
) -> list[StatusChange]:
    """One row per step of each saved referral's history, in order: days and creation
    times never go back, so ``referral.history`` ends with the referral's status."""
    rows = []
    for referral, history in zip(referrals, histories, strict=True):
        created_at = referral.created_at
        for status, day, note in history:
            if status != Status.PASSED:  # later the same day at the earliest
                created_at = max(created_at, calendar.at(rng, day))
            rows.append(
                StatusChange(
                    referral_id=referral.pk,
                    status=status,
                    changed_on=day,
                    note=note,
                    created_at=created_at,
                )
            )
    return rows


def build_introductions(
    rng: random.Random, user, partners: Partners, calendar: Calendar, n: int
) -> list[Introduction]:
    """``n`` unsaved introductions between two different contacts who existed at the time."""
    contacts = partners.contacts
    if len(contacts) < 2:
        return []
    methods, method_weights = list(INTRO_METHODS), list(INTRO_METHODS.values())
    rows = []
    for _ in range(n):
        day = calendar.past_day(rng)
        eligible = max(2, partners.eligible(day))
        a = partners.pick(rng, eligible)
        b = a
        for _ in range(10):
            b = partners.pick(rng, eligible)
            if b != a:
                break
        if b == a:
            b = (a + 1) % eligible
        if rng.random() < 0.5:
            a, b = b, a
        day = max(day, partners.created[a], partners.created[b])
        age = (calendar.today - day).days
        weights = next(w for limit, w in INTRO_OUTCOMES_BY_AGE if limit is None or age < limit)
        first, second = contacts[a], contacts[b]
        names = {"a": first_name(first), "b": first_name(second)}
        trades = {"a_trade": first.profession.lower(), "b_trade": second.profession.lower()}
        swapped = {"a": names["b"], "b": names["a"]}
        swapped_trades = {"a_trade": trades["b_trade"], "b_trade": trades["a_trade"]}
        rows.append(
            Introduction(
                owner_id=user.pk,
                contact_a_id=first.pk,
                contact_b_id=second.pk,
                reason_a=fill(rng, rng.choice(INTRO_REASONS), **names, **trades),
                reason_b=fill(rng, rng.choice(INTRO_REASONS), **swapped, **swapped_trades),
                introduced_on=day,
                method=rng.choices(methods, weights=method_weights)[0],
                outcome=rng.choices(INTRO_OUTCOMES, weights=weights)[0],
                notes=fill(rng, rng.choice(INTRO_NOTES)),
                created_at=calendar.at(rng, day),
            )
        )
    return rows


def spend_amount(rng: random.Random, typical: float) -> Decimal:
    amount = min(800.0, max(20.0, typical * rng.uniform(0.85, 1.2)))
    # mostly a round price, sometimes to the cent
    cents = round(amount / 5) * 500 if rng.random() < 0.6 else round(amount * 100)
    return Decimal(min(80_000, max(2_000, cents))).scaleb(-2)


def build_spends(
    rng: random.Random, user, contacts: list[Contact], calendar: Calendar, n: int
) -> list[Spend]:
    """``n`` unsaved spends with ~5% of contacts, mostly trades the user pays regularly."""
    if not n or not contacts:
        return []
    payees = min(n, max(1, round(len(contacts) * SPEND_CONTACT_SHARE)))
    # Weighted sample without replacement (Efraimidis-Spirakis): the largest u ** (1 / w).
    keyed = []
    for index, contact in enumerate(contacts):
        weight = MONEY_TRAIL_PREFERENCE if contact.profession in MONEY_TRAIL else 1.0
        weight *= {Stage.CONTACT: 1.0, Stage.ACQUAINTANCE: 1.5, Stage.CONNECTION: 2.0}[
            contact.stage
        ]
        keyed.append((rng.random() ** (1 / weight), index))
    chosen = [contacts[index] for _, index in sorted(keyed, reverse=True)[:payees]]

    trades = [MONEY_TRAIL.get(c.profession, OTHER_SPEND) for c in chosen]
    # Damped: a monthly haircut shows, without a few payees taking over "who to ask".
    frequency = [math.sqrt(trade[3]) * rng.lognormvariate(0, 0.35) for trade in trades]
    per_payee = [1] * payees
    for k in rng.choices(range(payees), weights=frequency, k=n - payees):
        per_payee[k] += 1

    currency = user.default_currency
    rows = []
    for contact, (low, high, what_for, _), count in zip(chosen, trades, per_payee, strict=True):
        typical = rng.uniform(low, high)
        by_card = rng.random() < IMPORTED_PAYERS
        payee = (contact.company or contact.name).upper()
        first_day = max(
            calendar.today - timedelta(days=HISTORY_DAYS), calendar.day(contact.created_at)
        )
        span = (calendar.today - first_day).days
        for _ in range(count):
            day = first_day + timedelta(days=rng.randint(0, span))
            imported = by_card if rng.random() < 0.9 else not by_card
            description = (
                f"CARD PURCHASE {payee} {contact.city.upper()}".strip()
                if imported
                else rng.choice(what_for)
            )
            rows.append(
                Spend(
                    owner_id=user.pk,
                    contact_id=contact.pk,
                    spent_on=day,
                    amount=spend_amount(rng, typical),
                    currency=currency,
                    description=description[:240],
                    imported=imported,
                    created_at=calendar.at(rng, day),
                )
            )
    return rows


def seed_user(rng, user, contacts, meetings, now, scale) -> Counter:
    """Referrals (with history), introductions and spends for one user, in bulk."""
    counts = Counter({"referrals": 0, "status changes": 0, "introductions": 0, "spends": 0})
    if not contacts or not scale:
        return counts
    calendar = Calendar(user, now)
    partners = Partners(rng, contacts, calendar)

    referrals, histories = build_referrals(
        rng, user, partners, calendar, round(scale * REFERRALS_PER_MEETING)
    )
    counts["referrals"] = len(_bulk(Referral, referrals))
    changes = build_status_changes(rng, calendar, referrals, histories)
    counts["status changes"] = len(_bulk(StatusChange, changes))
    introductions = build_introductions(
        rng, user, partners, calendar, round(scale * INTRODUCTIONS_PER_MEETING)
    )
    counts["introductions"] = len(_bulk(Introduction, introductions))
    spends = build_spends(rng, user, contacts, calendar, round(scale * SPENDS_PER_MEETING))
    counts["spends"] = len(_bulk(Spend, spends))
    return counts
