"""The one-to-one prep brief: what we know of a contact's GAINS and what to ask, the
preferred-client questions, history both ways, open follow-ups and what to offer first.

``build_brief(user, contact)`` runs a fixed number of queries whatever the size of the
network (each list is sliced; sums are aggregates), so the page can be tested at two sizes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import reduce
from operator import or_

from django.db import connection
from django.db.models import Count, Exists, Q, Sum

from contacts.models import Contact, GainsFact, GainsKind, Meeting
from followups.models import FollowUp
from referrals.models import Direction, Introduction, Referral, Spend, Status
from referrals.money import format_money

from .models import NetworkingPlan, SuggestionState

RECENT = 5  # the last few referrals, introductions, spends and meetings shown
FOLLOWUPS = 10
OFFERS = 3  # contacts suggested under "what to offer first"
# The SQLite fallback reads this many skill/network facts among the user's strongest few
# hundred active contacts to find them.
OFFER_CANDIDATES = 60
OFFER_POOL = 300
GOAL_WORDS = 10  # the goal words searched for (the most significant first)
SPHERE_QUESTIONS = 3

# Questions to ask for each GAINS part still unknown (after the GAINS exchange in
# /work/shared/seeds/: goals, accomplishments, interests, networks, skills).
QUESTIONS: dict[str, list[str]] = {
    GainsKind.GOAL: [
        "What would make this year a great year for your business?",
        "What problem would you most like to solve in the next six months?",
        "Is there a personal or learning goal you are working towards?",
    ],
    GainsKind.ACCOMPLISHMENT: [
        "What are you proudest of in your work so far?",
        "What big project have you finished recently?",
        "What did a happy client say about you last?",
    ],
    GainsKind.INTEREST: [
        "What do you enjoy doing when you are not working?",
        "What are you reading, watching or playing at the moment?",
        "Is there a cause or a club you give your time to?",
    ],
    GainsKind.NETWORK: [
        "Which groups, associations or clubs do you belong to?",
        "Who do you meet regularly through your work?",
        "Which communities do your clients come from?",
    ],
    GainsKind.SKILL: [
        "What do you do especially well, better than most in your trade?",
        "What kind of work would you like more of?",
        "How do I recognise a good referral for you? What should I listen for?",
    ],
}

# The preferred-client questions (the seeds: "Who else solves your daily problems?",
# "Who do you allow in the door?", "Whom do you trust when it comes to …?").
CLIENT_QUESTIONS = [
    "Who is your ideal client? Describe the last client you loved working with.",
    "Who else solves your clients' daily problems?",
    "Who do your clients let in the door (into their home or office)?",
    "Which companies do your clients call on when they need something done?",
]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words too common to say two people should meet.
STOP = _words(
    """about above after again against also been before being below between both but
    can could did does doing down during each from further have having here into just
    like longer make more most much need needs next only other over same should some
    such than that their them then there these they this those through under until
    very want wants were what when where which while will with within would year years
    your yours good great help looking work working business more less plan planning
    first second third better best every many someone something things"""
)
WORD = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass
class GainsPart:
    kind: str
    label: str
    facts: list = field(default_factory=list)
    questions: list[str] = field(default_factory=list)

    @property
    def known(self) -> bool:
        return bool(self.facts)


@dataclass
class Offer:
    """One of the user's contacts whose skill or network meets this contact's goal."""

    contact: Contact
    label: str  # "skill" or "network"
    text: str  # the skill/network fact
    goal: str  # the contact's goal it meets
    words: list[str] = field(default_factory=list)  # the matching words, as written
    segments: list[tuple[str, bool]] = field(default_factory=list)


@dataclass
class OwnOffer:
    """A line of the user's own skills (their profile) that meets this contact's goal."""

    skill: str
    goal: str
    words: list[str] = field(default_factory=list)


@dataclass
class Ledger:
    given: int = 0
    received: int = 0
    given_won: int = 0
    received_won: int = 0
    given_value: str = ""
    received_value: str = ""
    thanks_due: int = 0


@dataclass
class Brief:
    contact: Contact
    parts: list[GainsPart]
    client_questions: list[str]
    ledger: Ledger
    referrals: list
    introductions: list
    introduction_count: int
    spend_total: str
    spend_count: int
    spends: list
    meetings: list
    followups: list
    offers: list[Offer]
    own_offers: list[OwnOffer]
    goals: list[str]

    @property
    def unknown_parts(self) -> list[GainsPart]:
        return [p for p in self.parts if not p.known]


# --- Words ---------------------------------------------------------------------------------


def stem(word: str) -> str:
    """A crude, prefix-preserving English stem, so a substring search finds the other forms:
    leases → lease, leasing → leas, offices → offic."""
    w = word.lower()
    for suffix in ("ing", "ies", "es", "ed", "s"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 4:
            return w[: -len(suffix)]
    return w


def significant_words(text: str) -> list[str]:
    """Stems of the words of ``text`` worth matching: four letters or more, not a stop word."""
    out: list[str] = []
    for m in WORD.finditer(text):
        low = m.group().lower()
        if len(low) < 4 or low in STOP or low.isdigit():
            continue
        s = stem(low)
        if s not in out:
            out.append(s)
    return out


def matching_words(text: str, stems) -> list[str]:
    """The words of ``text`` (as written) that contain one of ``stems``."""
    return [m.group() for m in WORD.finditer(text) if any(s in m.group().lower() for s in stems)]


def segments(text: str, words) -> list[tuple[str, bool]]:
    """``text`` cut into (piece, is_match) pieces for ``<mark>``."""
    wanted = {w.lower() for w in words}
    out: list[tuple[str, bool]] = []
    pos = 0
    for m in WORD.finditer(text):
        if m.group().lower() in wanted:
            if m.start() > pos:
                out.append((text[pos : m.start()], False))
            out.append((m.group(), True))
            pos = m.end()
    if pos < len(text):
        out.append((text[pos:], False))
    return out


# --- The parts of the brief ------------------------------------------------------------------


def gains_parts(facts: list[GainsFact]) -> list[GainsPart]:
    by_kind: dict[str, list[GainsFact]] = {}
    for fact in facts:
        by_kind.setdefault(fact.kind, []).append(fact)
    return [
        GainsPart(
            kind=kind,
            label=label,
            facts=by_kind.get(kind, []),
            questions=QUESTIONS[kind] if not by_kind.get(kind) else QUESTIONS[kind][:1],
        )
        for kind, label in GainsKind.choices
    ]


def client_questions(user) -> list[str]:
    """The preferred-client questions, with "whom do they trust for …" filled from the
    user's contact sphere (one query)."""
    plan = NetworkingPlan.objects.filter(owner=user).only("sphere").first()
    sphere = [p for p in (plan.sphere if plan else []) if isinstance(p, str) and p.strip()]
    questions = list(CLIENT_QUESTIONS)
    if sphere:
        for profession in sphere[:SPHERE_QUESTIONS]:
            questions.append(f"Whom do your clients trust when they need a {profession.lower()}?")
    else:
        questions.append("Whom do your clients trust when it comes to their money, home or health?")
    return questions


def ledger_for(user, contact: Contact) -> Ledger:
    """Counts and closed value of the referrals with ``contact``, both ways (one query)."""
    rows = (
        Referral.objects.for_user(user)
        .filter(partner=contact)
        .values("direction", "status", "currency")
        .annotate(
            n=Count("pk"),
            total=Sum("value"),
            unthanked=Count("pk", filter=Q(thanks_sent_on__isnull=True)),
        )
    )
    ledger = Ledger()
    won: dict[str, dict[str, Decimal]] = {Direction.GIVEN: {}, Direction.RECEIVED: {}}
    for row in rows:
        given = row["direction"] == Direction.GIVEN
        if given:
            ledger.given += row["n"]
        else:
            ledger.received += row["n"]
        if row["status"] == Status.WON:
            if given:
                ledger.given_won += row["n"]
            else:
                ledger.received_won += row["n"]
                ledger.thanks_due += row["unthanked"]
            totals = won[row["direction"]]
            totals[row["currency"]] = totals.get(row["currency"], Decimal(0)) + (row["total"] or 0)
    ledger.given_value = _money(won[Direction.GIVEN])
    ledger.received_value = _money(won[Direction.RECEIVED])
    return ledger


def _money(totals: dict[str, Decimal]) -> str:
    return " + ".join(format_money(v, c) for c, v in sorted(totals.items()) if v)


# --- What to offer first -------------------------------------------------------------------

# For each word of a skill or network (a PostgreSQL English lexeme, as the introduction
# suggestions match them), the facts of the strongest few active contacts using it. The
# refresh (plan.precompute) stores it in OfferWord; before the first one it is computed for
# the goal's words only.
OFFER_RANK_SQL = """
SELECT lexeme, fact_id FROM (
    SELECT l.lexeme, f.id AS fact_id, row_number() OVER (
        PARTITION BY l.lexeme
        ORDER BY c.strength DESC, c.last_touched_at DESC NULLS LAST, f.contact_id, f.id
    ) AS rn
    FROM contacts_gainsfact f
    JOIN contacts_contact c ON c.id = f.contact_id
    CROSS JOIN LATERAL unnest(tsvector_to_array(to_tsvector('english', f.text))) AS l(lexeme)
    WHERE f.owner_id = %(owner)s AND c.owner_id = %(owner)s AND NOT c.is_archived
      AND f.kind IN ('skill', 'network') AND length(l.lexeme) > 2
      AND l.lexeme !~ '^[0-9]+$' AND NOT l.lexeme = ANY(%(ignored)s) {only}
) ranked WHERE rn <= %(per_word)s
"""
OFFER_PER_WORD = 5
STORE_OFFER_WORDS_SQL = """
INSERT INTO plan_offerword (owner_id, lexeme, fact_id)
SELECT %(owner)s, lexeme, fact_id FROM ({rank}) ranked_words
"""

# One query: the goals' words, their facts from OfferWord (or, before the first refresh,
# ranked now), each fact with the goal it meets, the words it shares and the words as
# written in it (for <mark>).
OFFERS_SQL = """
WITH wanted AS (
    SELECT DISTINCT g.ord, l.lexeme
    FROM unnest(%(goals)s::text[]) WITH ORDINALITY AS g(text, ord)
    CROSS JOIN LATERAL unnest(tsvector_to_array(to_tsvector('english', g.text))) AS l(lexeme)
    WHERE length(l.lexeme) > 2 AND l.lexeme !~ '^[0-9]+$' AND NOT l.lexeme = ANY(%(ignored)s)
), offer AS ({source}), matched AS (
    SELECT o.fact_id, w.ord, array_agg(DISTINCT w.lexeme) AS lexemes
    FROM offer o JOIN wanted w ON w.lexeme = o.lexeme
    GROUP BY o.fact_id, w.ord
), best AS (
    -- Each contact's fact sharing the most words (the first goal, the first fact on ties).
    SELECT DISTINCT ON (c.id) c.id, c.name, c.profession, c.strength, f.kind, f.text,
           m.ord, m.lexemes
    FROM matched m
    JOIN contacts_gainsfact f ON f.id = m.fact_id
    JOIN contacts_contact c ON c.id = f.contact_id
    WHERE f.owner_id = %(owner)s AND c.owner_id = %(owner)s AND NOT c.is_archived
      AND c.id <> %(contact)s AND f.kind IN ('skill', 'network')
    ORDER BY c.id, cardinality(m.lexemes) DESC, m.ord, f.id
)
SELECT b.*,
       ARRAY(SELECT t FROM regexp_split_to_table(b.text, '[^[:alnum:]]+') AS t
             WHERE t <> '' AND tsvector_to_array(to_tsvector('english', t)) && b.lexemes)
FROM (
    SELECT * FROM best ORDER BY cardinality(lexemes) DESC, strength DESC, id LIMIT %(offers)s
) b
"""

# The source of OFFERS_SQL once the refresh ran: the goals' words looked up by index.
STORED_OFFERS = """
SELECT lexeme, fact_id FROM plan_offerword
WHERE owner_id = %(owner)s AND lexeme IN (SELECT lexeme FROM wanted)
"""


def store_offer_words(user) -> None:
    """Replace the user's OfferWord rows (the refresh, in its transaction; PostgreSQL)."""
    from .suggestions import IGNORED

    params = {"owner": user.pk, "ignored": sorted(IGNORED), "per_word": OFFER_PER_WORD}
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM plan_offerword WHERE owner_id = %s", [user.pk])
        cursor.execute(STORE_OFFER_WORDS_SQL.format(rank=OFFER_RANK_SQL.format(only="")), params)


def refreshed(user) -> Exists:
    """Whether the user's stored suggestions and offer words were computed once (an
    expression, to ride along a query the page makes anyway)."""
    return Exists(SuggestionState.objects.filter(owner=user, computed_at__isnull=False))


def offers_for(user, contact: Contact, goals: list[str], stored: bool | None = None) -> list[Offer]:
    """The user's other active contacts with a SKILL or NETWORK fact sharing a word with one
    of ``contact``'s goals, most shared words and strongest first: one query over the stored
    OfferWord rows (PostgreSQL), the same whatever the size of the network. ``stored``:
    whether the refresh ran (``refreshed``), or None to ask."""
    if not goals:
        return []
    if connection.vendor != "postgresql":
        return _offers_by_stem(user, contact, goals)
    from .suggestions import IGNORED

    if stored is None:
        stored = SuggestionState.objects.filter(owner=user, computed_at__isnull=False).exists()

    params = {
        "owner": user.pk,
        "contact": contact.pk,
        "goals": goals,
        "ignored": sorted(IGNORED),
        "per_word": OFFER_PER_WORD,
        "offers": OFFERS,
    }
    source = (
        STORED_OFFERS
        if stored
        else OFFER_RANK_SQL.format(only="AND l.lexeme IN (SELECT lexeme FROM wanted)")
    )
    with connection.cursor() as cursor:
        cursor.execute(OFFERS_SQL.format(source=source), params)
        rows = cursor.fetchall()
    return [
        Offer(
            contact=Contact(pk=pk, owner_id=user.pk, name=name, profession=profession),
            label=GainsKind(kind).label.rstrip("s").lower(),
            text=text,
            goal=goals[ord_ - 1],
            words=words,
            segments=segments(text, words),
        )
        for pk, name, profession, _strength, kind, text, ord_, _lexemes, words in rows
    ]


def _offers_by_stem(user, contact: Contact, goals: list[str]) -> list[Offer]:
    """The same by word stems and substrings, for the embedded SQLite default: among the
    ``OFFER_POOL`` strongest contacts (one query)."""
    stems_by_goal = [(goal, significant_words(goal)) for goal in goals]
    every: list[str] = []
    for _, stems in stems_by_goal:
        every.extend(s for s in stems if s not in every)
    every = every[:GOAL_WORDS]
    if not every:
        return []
    pool = (
        Contact.objects.for_user(user)
        .active()
        .exclude(pk=contact.pk)
        .order_by("-strength", "pk")
        .values("pk")[:OFFER_POOL]
    )
    facts = (
        GainsFact.objects.for_user(user)
        .filter(kind__in=[GainsKind.SKILL, GainsKind.NETWORK], contact__in=pool)
        .filter(reduce(or_, (Q(text__icontains=s) for s in every)))
        .select_related("contact")
        .order_by("-contact__strength", "-learned_on", "pk")[:OFFER_CANDIDATES]
    )
    best: dict[int, tuple[tuple, Offer]] = {}
    for fact in facts:
        for goal, stems in stems_by_goal:
            shared = [s for s in stems if s in fact.text.lower()]
            if not shared:
                continue
            words = matching_words(fact.text, shared)
            rank = (len(shared), fact.contact.strength)
            offer = Offer(
                contact=fact.contact,
                label=fact.get_kind_display().rstrip("s").lower(),
                text=fact.text,
                goal=goal,
                words=words,
                segments=segments(fact.text, words),
            )
            if fact.contact_id not in best or best[fact.contact_id][0] < rank:
                best[fact.contact_id] = (rank, offer)
    ranked = sorted(best.values(), key=lambda pair: pair[0], reverse=True)
    return [offer for _, offer in ranked[:OFFERS]]


def own_offers(user, goals: list[str]) -> list[OwnOffer]:
    """Lines of the user's own skills (their GAINS profile) that meet one of the goals."""
    lines = [
        line.strip(" -•*\t")
        for line in re.split(r"[\n;,]", user.skills or "")
        if line.strip(" -•*\t")
    ]
    out: list[OwnOffer] = []
    for goal in goals:
        stems = significant_words(goal)
        for line in lines:
            words = matching_words(line, stems)
            if words:
                out.append(OwnOffer(skill=line, goal=goal, words=words))
    return out[:OFFERS]


def build_brief(user, contact: Contact) -> Brief:
    facts = list(
        GainsFact.objects.for_user(user)
        .filter(contact=contact)
        .annotate(stored=refreshed(user))
        .order_by("kind", "-learned_on", "-pk")
    )
    parts = gains_parts(facts)
    goals = [f.text for f in facts if f.kind == GainsKind.GOAL]

    referrals = list(
        Referral.objects.for_user(user)
        .filter(partner=contact)
        .order_by("-referred_on", "-pk")[:RECENT]
    )
    intro_qs = Introduction.objects.for_user(user).involving(contact)
    introductions = list(
        intro_qs.select_related("contact_a", "contact_b").order_by("-introduced_on", "-pk")[:RECENT]
    )
    introduction_count = intro_qs.count()
    spends_qs = Spend.objects.for_user(user).filter(contact=contact)
    spend_rows = list(
        spends_qs.values("currency")
        .annotate(total=Sum("amount"), n=Count("pk"))
        .order_by("currency")
    )
    spends = list(spends_qs.order_by("-spent_on", "-pk")[:RECENT])
    meetings = list(
        Meeting.objects.for_user(user).filter(attendees=contact).order_by("-occurred_at")[:RECENT]
    )
    followups = list(
        FollowUp.objects.for_user(user)
        .pending()
        .filter(contact=contact)
        .order_by("due_on", "pk")[:FOLLOWUPS]
    )
    return Brief(
        contact=contact,
        parts=parts,
        client_questions=client_questions(user),
        ledger=ledger_for(user, contact),
        referrals=referrals,
        introductions=introductions,
        introduction_count=introduction_count,
        spend_total=" + ".join(format_money(r["total"], r["currency"]) for r in spend_rows),
        spend_count=sum(r["n"] for r in spend_rows),
        spends=spends,
        meetings=meetings,
        followups=followups,
        offers=offers_for(user, contact, goals, stored=bool(facts) and facts[0].stored),
        own_offers=own_offers(user, goals),
        goals=goals,
    )
