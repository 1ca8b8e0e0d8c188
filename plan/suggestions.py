"""Introduction suggestions: pairs of the user's contacts who should meet, with the reason.

Three kinds, ranked together by how well they match, relationship strength and recency:

- ``goal_skill``: one contact's GOAL fact shares words with the other's SKILL or NETWORK fact;
- ``trusted_helper``: the same, where the helper is a trusted connection (referrable) and the
  one with the goal is newer (not yet a connection) — ranked higher, worded differently;
- ``same_sphere``: both serve the user's preferred client (professions in the contact sphere).

On PostgreSQL the words are matched in one query over all the user's facts: each fact's
English ``to_tsvector`` is unnested into lexemes, goal lexemes are joined to skill/network
lexemes, rare words weigh more (idf) and each word keeps only its strongest few contacts, so
the join stays small for 10,000 contacts. Elsewhere (the embedded SQLite default) a simple
Python word overlap runs over a bounded number of recent facts.

Never: archived contacts, a contact with themselves, two people of the same company, pairs
already introduced (either direction) or dismissed ("not a fit").
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

# Strength 0 means "not scored yet": count it as this.
UNKNOWN_STRENGTH = 25
TRUSTED_BONUS = 1.5
SPHERE_WEIGHT = 4.0  # a same-sphere pair weighs about as much as one shared uncommon word
SPHERE_TABLE_WEIGHT = 3.0
# Each matching word keeps only its strongest contacts on each side (bounds the join).
PER_WORD = 15
# The SQLite fallback reads at most this many recent goal/skill/network facts.
FALLBACK_FACTS = 2000
SPHERE_CANDIDATES = 600
PER_CONTACT = 2


# Words too generic to make two people worth introducing (after stemming, both matchers).
def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


IGNORED = _wordset(
    """want wants look looking like get new year years good great help work working
    plan planning way lot aim aims need needs make more less next first one two
    someon someone thing things also"""
)
WORD = re.compile(r"\w+", re.UNICODE)
# English stop words for the fallback (PostgreSQL's english config removes its own).
STOP = _wordset(
    """a an and are as at be been but by for from has have he her his i in into is it its
    of on or our she so than that the their them they this to too was we were will with
    you your my me do does did not no yes all any each few other some such only own same
    very can just should now who whom which what when where why how about above after
    again against before below between both during further here there once under until
    up down off over out then these those through while"""
)
KIND_WORD = {"skill": "skill", "network": "network", "goal": "goal"}


@dataclass
class Suggestion:
    a: object  # contacts.models.Contact
    b: object
    reason: str  # in words, e.g. "Ann's goal “open a second office” meets Bob's skill “commercial leases”"
    score: float
    # The words that matched, for highlighting: {"a": [...], "b": [...]}
    highlights: dict = field(default_factory=dict)
    kind: str = ""  # "goal_skill", "same_sphere", "trusted_helper"
    # The facts (or professions) that matched: a's goal, b's skill/network.
    a_text: str = ""
    b_text: str = ""
    b_label: str = ""  # "skill", "network" or "profession"

    @property
    def low(self) -> int:
        return min(self.a.pk, self.b.pk)

    @property
    def high(self) -> int:
        return max(self.a.pk, self.b.pk)

    @property
    def a_marked(self) -> str:
        """a's fact, escaped, its matching words in ``<mark>`` (built here, not by a template
        loop over every piece of twenty suggestions)."""
        return marked(self.a_text, self.highlights.get("a", []))

    @property
    def b_marked(self) -> str:
        return marked(self.b_text, self.highlights.get("b", []))

    def intro_reasons(self) -> tuple[str, str]:
        """(what b can do for a, what a can do for b): for Introduction.reason_a/_b with
        the helper b as contact_a."""
        if self.kind == "same_sphere":
            text = f"Both serve the same clients ({self.b_text} and {self.a_text})"
            return text[:240], text[:240]
        for_a = f"{self.b_label.capitalize()}: {self.b_text} — for the goal: {self.a_text}"
        for_b = f"A new contact who wants: {self.a_text}"
        return for_a[:240], for_b[:240]


def segments(text: str, words) -> list[tuple[str, bool]]:
    """``text`` cut into (piece, is_match) for ``<mark>``; ``words`` are whole words."""
    wanted = {w.lower() for w in words}
    if not text:
        return []
    if not wanted:
        return [(text, False)]
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


def marked(text: str, words) -> str:
    """``text`` as HTML, escaped, with ``words`` in ``<mark>``."""
    # Every piece of text is escaped here; only the <mark> tags are ours.
    return mark_safe(  # noqa: S308  # nosec B308 B703
        "".join(
            f"<mark>{escape(piece)}</mark>" if hit else escape(piece)
            for piece, hit in segments(text, words)
        )
    )


def spread(items, people, limit: int) -> list:
    """The first ``limit`` of ``items`` (best first) in which no contact appears more than
    PER_CONTACT times, so a few people do not fill the whole list."""
    seen: dict[int, int] = {}
    out = []
    for item in items:
        pair = people(item)
        if any(seen.get(pk, 0) >= PER_CONTACT for pk in pair):
            continue
        for pk in pair:
            seen[pk] = seen.get(pk, 0) + 1
        out.append(item)
        if len(out) == limit:
            break
    return out


# --- Scoring shared by both matchers ----------------------------------------------------


def closeness(strength: int, last_touched_at: datetime | None, now: datetime) -> float:
    """Relationship strength (0-1, unknown counted as UNKNOWN_STRENGTH) plus half of recency."""
    rel = (strength or UNKNOWN_STRENGTH) / 100
    if last_touched_at is None:
        rec = 0.0
    else:
        days = max(0.0, (now - last_touched_at).total_seconds() / 86400)
        rec = 1 / (1 + days / 90)
    return rel + 0.5 * rec


def pair_factor(a, b, now: datetime) -> float:
    return (
        1
        + (
            closeness(a.strength, a.last_touched_at, now)
            + closeness(b.strength, b.last_touched_at, now)
        )
        / 2
    )


def is_trusted(helper, newcomer) -> bool:
    return (
        helper.stage == "connection"
        and (helper.honours_referrals == "yes" or helper.is_expert == "yes")
        and newcomer.stage != "connection"
    )


# --- Fallback word matcher ---------------------------------------------------------------


def normalise(word: str) -> str:
    """A crude English stem: lower case, plurals and -ing folded (leases → lease)."""
    w = word.lower()
    if len(w) > 5 and w.endswith("ing"):
        w = w[:-3]
    elif len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        w = w[:-1]
    return w


def words_of(text: str) -> dict[str, list[str]]:
    """Stem → the words of ``text`` with that stem (stop and generic words left out)."""
    out: dict[str, list[str]] = {}
    for m in WORD.finditer(text):
        raw = m.group()
        low = raw.lower()
        if low in STOP or len(low) < 3 or low.isdigit():
            continue
        stem = normalise(low)
        if stem in IGNORED or low in IGNORED:
            continue
        out.setdefault(stem, []).append(raw)
    return out


def match_facts(facts, per_word: int = PER_WORD) -> list[dict]:
    """Plain-Python goal ↔ skill/network matcher (the SQLite fallback, unit-tested).

    ``facts``: iterable of ``(contact_id, kind, text)``. Returns one dict per (goal fact,
    offer fact) of different contacts sharing words: ``goal_contact``, ``offer_contact``,
    ``goal_text``, ``offer_text``, ``offer_kind``, ``goal_words``, ``offer_words`` (as
    written), ``weight`` (rarer shared words weigh more), best first.
    """
    parsed = []
    df: dict[str, set] = {}
    for contact_id, kind, text in facts:
        if kind not in KIND_WORD:
            continue
        stems = words_of(text)
        parsed.append((contact_id, kind, text, stems))
        for stem in stems:
            df.setdefault(stem, set()).add(contact_id)
    total = len({p[0] for p in parsed}) or 1
    by_stem: dict[str, list] = {}
    for item in parsed:
        if item[1] != "goal":
            for stem in item[3]:
                by_stem.setdefault(stem, []).append(item)
    found: dict[tuple, dict] = {}
    for goal in parsed:
        if goal[1] != "goal":
            continue
        for stem, goal_raw in goal[3].items():
            for offer in by_stem.get(stem, [])[:per_word]:
                if offer[0] == goal[0]:
                    continue
                key = (goal[0], goal[2], offer[0], offer[2])
                row = found.setdefault(
                    key,
                    {
                        "goal_contact": goal[0],
                        "offer_contact": offer[0],
                        "goal_text": goal[2],
                        "offer_text": offer[2],
                        "offer_kind": offer[1],
                        "goal_words": [],
                        "offer_words": [],
                        "weight": 0.0,
                    },
                )
                row["goal_words"] += goal_raw
                row["offer_words"] += offer[3][stem]
                row["weight"] += 1 + math.log(1 + total / len(df[stem]))
    return sorted(found.values(), key=lambda r: -r["weight"])


# --- PostgreSQL matcher ------------------------------------------------------------------

MATCH_SQL = """
WITH fact AS (
    SELECT f.id, f.contact_id, f.kind, f.text, c.strength, c.last_touched_at
    FROM contacts_gainsfact f
    JOIN contacts_contact c ON c.id = f.contact_id
    WHERE f.owner_id = %(owner)s AND c.owner_id = %(owner)s AND NOT c.is_archived
      AND f.kind IN ('goal', 'skill', 'network') {only}
), lex AS (
    SELECT f.kind = 'goal' AS is_goal, l.lexeme COLLATE "C" AS lexeme, f.id AS fact_id, f.contact_id,
           f.strength, f.last_touched_at
    FROM fact f, unnest(tsvector_to_array(to_tsvector('english', f.text))) AS l(lexeme)
    WHERE length(l.lexeme) > 2 AND l.lexeme !~ '^[0-9]+$' AND NOT l.lexeme = ANY(%(ignored)s)
), top AS (
    -- One sort serves both windows: how many facts use the word (for its idf), and the
    -- word's strongest contacts on each side.
    SELECT * FROM (
        SELECT lex.*, count(*) OVER () AS total, count(*) OVER (PARTITION BY lexeme) AS df,
               row_number() OVER (
            PARTITION BY lexeme, is_goal
            ORDER BY strength DESC, last_touched_at DESC NULLS LAST, contact_id
        ) AS rn
        FROM lex
    ) ranked WHERE rn <= %(per_word)s
), pairs AS (
    SELECT g.fact_id AS goal_fact, o.fact_id AS offer_fact,
           g.contact_id AS goal_contact, o.contact_id AS offer_contact,
           array_agg(g.lexeme) AS lexemes,
           sum(1 + ln(1 + g.total::float / g.df)) AS weight
    FROM top g
    JOIN top o ON o.lexeme = g.lexeme AND NOT o.is_goal AND o.contact_id <> g.contact_id
    WHERE g.is_goal
    GROUP BY g.fact_id, o.fact_id, g.contact_id, o.contact_id
), scored AS (
    SELECT DISTINCT ON (least(p.goal_contact, p.offer_contact),
                        greatest(p.goal_contact, p.offer_contact))
           p.*, p.weight
             * CASE WHEN oc.stage = 'connection'
                         AND (oc.honours_referrals = 'yes' OR oc.is_expert = 'yes')
                         AND gc.stage <> 'connection'
                    THEN %(bonus)s ELSE 1 END
             * (1 + (
                 (CASE WHEN gc.strength > 0 THEN gc.strength ELSE %(unknown)s END) / 100.0
                 + (CASE WHEN oc.strength > 0 THEN oc.strength ELSE %(unknown)s END) / 100.0
                 + 0.5 * coalesce(1 / (1 + greatest(0, extract(epoch FROM %(now)s
                       - gc.last_touched_at)) / 86400 / 90), 0)
                 + 0.5 * coalesce(1 / (1 + greatest(0, extract(epoch FROM %(now)s
                       - oc.last_touched_at)) / 86400 / 90), 0)
               ) / 2) AS score
    FROM pairs p
    JOIN contacts_contact gc ON gc.id = p.goal_contact
    JOIN contacts_contact oc ON oc.id = p.offer_contact
    WHERE (gc.company = '' OR lower(gc.company) <> lower(oc.company))
      AND NOT EXISTS (
        SELECT 1 FROM referrals_introduction i
        WHERE i.owner_id = %(owner)s
          AND ((i.contact_a_id = p.goal_contact AND i.contact_b_id = p.offer_contact)
            OR (i.contact_a_id = p.offer_contact AND i.contact_b_id = p.goal_contact)))
      AND NOT EXISTS (
        SELECT 1 FROM plan_suggestiondismissal d
        WHERE d.owner_id = %(owner)s
          AND d.contact_low_id = least(p.goal_contact, p.offer_contact)
          AND d.contact_high_id = greatest(p.goal_contact, p.offer_contact))
    ORDER BY least(p.goal_contact, p.offer_contact),
             greatest(p.goal_contact, p.offer_contact), score DESC
)
SELECT s.goal_contact, s.offer_contact, gf.text, ofact.text, ofact.kind, s.lexemes, s.score
FROM scored s
JOIN contacts_gainsfact gf ON gf.id = s.goal_fact
JOIN contacts_gainsfact ofact ON ofact.id = s.offer_fact
ORDER BY s.score DESC, s.goal_contact, s.offer_contact
LIMIT %(candidates)s
"""


def _pg_matches(user, limit: int, now: datetime, only: tuple[int, int] | None) -> list[dict]:
    params = {
        # Enough best pairs for spread() to find ``limit`` without a few people in all.
        "candidates": max(limit * 20, 1000),
        "owner": user.pk,
        "ignored": sorted(IGNORED),
        "per_word": PER_WORD,
        "bonus": TRUSTED_BONUS,
        "unknown": UNKNOWN_STRENGTH,
        "now": now,
        "limit": limit,
    }
    only_sql = ""
    if only:
        only_sql = "AND f.contact_id IN (%(one)s, %(two)s)"
        params.update(one=only[0], two=only[1])
    with transaction.atomic(), connection.cursor() as cursor:
        # The planner's row estimates for unnested lexemes are far off and would switch on
        # JIT compilation, which costs more than the whole query; the sorts fit in memory.
        cursor.execute("SET LOCAL jit = off; SET LOCAL work_mem = '32MB'")
        cursor.execute(MATCH_SQL.format(only=only_sql), params)
        rows = spread(cursor.fetchall(), lambda r: (r[0], r[1]), limit)
        if not rows:
            return []
        # Which written words carry the matched lexemes (for <mark>): one query.
        tokens = sorted({m.group().lower() for r in rows for t in r[2:4] for m in WORD.finditer(t)})
        cursor.execute(
            "SELECT w, tsvector_to_array(to_tsvector('english', w)) FROM unnest(%s::text[]) w",
            [tokens],
        )
        lexemes_of = {w: set(lx or []) for w, lx in cursor.fetchall()}

    def written(text: str, lexemes: set) -> list[str]:
        return [
            m.group()
            for m in WORD.finditer(text)
            if lexemes_of.get(m.group().lower(), set()) & lexemes
        ]

    out = []
    for goal_contact, offer_contact, goal_text, offer_text, kind, lexemes, score in rows:
        matched = set(lexemes)
        out.append(
            {
                "goal_contact": goal_contact,
                "offer_contact": offer_contact,
                "goal_text": goal_text,
                "offer_text": offer_text,
                "offer_kind": kind,
                "goal_words": written(goal_text, matched),
                "offer_words": written(offer_text, matched),
                "score": score,
            }
        )
    return out


def _fallback_matches(user, limit: int, now: datetime, only) -> list[dict]:
    from contacts.models import GainsFact

    facts = GainsFact.objects.filter(
        owner=user, contact__is_archived=False, kind__in=list(KIND_WORD)
    ).order_by("-created_at")
    if only:
        facts = facts.filter(contact_id__in=only)
    rows = match_facts(facts.values_list("contact_id", "kind", "text")[:FALLBACK_FACTS])
    return spread(rows, lambda r: (r["goal_contact"], r["offer_contact"]), limit * 2)


# --- Same sphere -------------------------------------------------------------------------


def _fold(profession: str) -> str:
    return " ".join(normalise(w) for w in WORD.findall(profession.lower()))


def _sphere_module():
    """plan.spheres (the curated table of professions) if it is there."""
    try:
        from . import spheres
    except ImportError:
        return None
    return spheres


def _sphere_table():
    return getattr(_sphere_module(), "sphere_for", None)


def _sphere_pairs(user, contacts_qs, only) -> list[tuple]:
    """(contact, contact, weight) for pairs of different professions of the user's sphere
    (or related per plan.spheres), the strongest contacts of each profession."""
    from .models import NetworkingPlan

    plan = NetworkingPlan.objects.filter(owner=user).first()
    mine = {_fold(p) for p in (plan.sphere if plan else []) if str(p).strip()}
    sphere_for = _sphere_table()
    if not mine and sphere_for is None:
        return []
    candidates = contacts_qs.exclude(profession="").order_by("-strength", "-last_touched_at", "pk")
    if only:
        candidates = candidates.filter(pk__in=only)
    if sphere_for is None:
        # Only professions of the plan's sphere are worth reading.
        condition = Q()
        for p in plan.sphere:
            condition |= Q(profession__iexact=str(p).strip())
            condition |= Q(profession__istartswith=str(p).strip())
        candidates = candidates.filter(condition)
    best: dict[str, list] = {}
    for contact in candidates[:SPHERE_CANDIDATES]:
        group = best.setdefault(_fold(contact.profession), [])
        if len(group) < 2:
            group.append(contact)
    related: dict[str, set] = {}
    if sphere_for is not None:
        for folded, group in best.items():
            try:
                related[folded] = {_fold(p) for p in sphere_for(group[0].profession) or []}
            except Exception:  # a table still being written must not break the page
                related[folded] = set()
    out = []
    loose = getattr(_sphere_module(), "matches", None)

    def in_mine(folded: str) -> bool:
        if folded in mine:
            return True
        profession = best[folded][0].profession
        return bool(loose) and any(
            loose(str(sp), profession) for sp in (plan.sphere if plan else [])
        )

    ours = {folded for folded in best if in_mine(folded)}
    names = sorted(best)
    for i, p in enumerate(names):
        for q in names[i + 1 :]:
            if p in ours and q in ours:
                weight = SPHERE_WEIGHT
            elif q in related.get(p, ()) or p in related.get(q, ()):
                weight = SPHERE_TABLE_WEIGHT
            else:
                continue
            for a in best[p]:
                for b in best[q]:
                    out.append((a, b, weight))
    return out


# --- Public --------------------------------------------------------------------------------


def suggest(user, limit: int = 20, *, only: tuple[int, int] | None = None) -> list[Suggestion]:
    """The best ``limit`` introductions to make among ``user``'s active contacts.

    ``only=(id, id)`` restricts to that pair (to fill an accepted introduction's reasons).
    A fixed number of queries whatever the size of the network.
    """
    from contacts.models import Contact
    from referrals.models import Introduction

    from .models import SuggestionDismissal

    if user is None or not user.is_authenticated or limit <= 0:
        return []
    now = timezone.now()
    if connection.vendor == "postgresql":
        matches = _pg_matches(user, limit * 2, now, only)
    else:
        matches = _fallback_matches(user, limit, now, only)

    active = Contact.objects.for_user(user).active()
    sphere = _sphere_pairs(user, active, only)

    ids = {m["goal_contact"] for m in matches} | {m["offer_contact"] for m in matches}
    contacts = active.in_bulk(ids) if ids else {}
    sphere_ids = {c.pk for a, b, _ in sphere for c in (a, b)}
    every = ids | sphere_ids
    blocked: set[tuple[int, int]] = set()
    if every:
        # The PostgreSQL query already left these out; the fallback and the sphere did not.
        # Introductions and "not a fit" in one query.
        for x, y in (
            Introduction.objects.for_user(user)
            .filter(contact_a__in=every, contact_b__in=every)
            .values_list("contact_a", "contact_b")
            .union(
                SuggestionDismissal.objects.for_user(user)
                .filter(contact_low__in=every, contact_high__in=every)
                .values_list("contact_low", "contact_high"),
                all=True,
            )
        ):
            blocked.add((min(x, y), max(x, y)))

    def allowed(a, b) -> bool:
        if a.pk == b.pk or (min(a.pk, b.pk), max(a.pk, b.pk)) in blocked:
            return False
        return not (a.company and a.company.strip().lower() == b.company.strip().lower())

    best: dict[tuple[int, int], Suggestion] = {}

    def offer(s: Suggestion) -> None:
        key = (s.low, s.high)
        if key not in best or best[key].score < s.score:
            best[key] = s

    for m in matches:
        a = contacts.get(m["goal_contact"])
        b = contacts.get(m["offer_contact"])
        if a is None or b is None or not allowed(a, b):
            continue
        trusted = is_trusted(b, a)
        if "score" in m:
            score = m["score"]
        else:
            score = m["weight"] * (TRUSTED_BONUS if trusted else 1) * pair_factor(a, b, now)
        label = KIND_WORD[m["offer_kind"]]
        offer(
            Suggestion(
                a=a,
                b=b,
                reason=_reason(a, b, m, label, trusted),
                score=float(score),
                highlights={"a": m["goal_words"], "b": m["offer_words"]},
                kind="trusted_helper" if trusted else "goal_skill",
                a_text=m["goal_text"],
                b_text=m["offer_text"],
                b_label=label,
            )
        )
    for a, b, weight in sphere:
        if not allowed(a, b):
            continue
        matched = best.get((min(a.pk, b.pk), max(a.pk, b.pk)))
        if matched is not None:  # a word match says more; serving the same clients adds to it
            matched.score += weight / 2
            continue
        offer(
            Suggestion(
                a=a,
                b=b,
                reason=(
                    f"{a.name} ({a.profession}) and {b.name} ({b.profession}) serve the same "
                    "clients: both are in your contact sphere."
                ),
                score=weight * pair_factor(a, b, now),
                highlights={"a": [], "b": []},
                kind="same_sphere",
                a_text=a.profession,
                b_text=b.profession,
                b_label="profession",
            )
        )
    ranked = sorted(best.values(), key=lambda s: (-s.score, s.low, s.high))
    return spread(ranked, lambda s: (s.a.pk, s.b.pk), limit)


def _reason(a, b, m: dict, label: str, trusted: bool) -> str:
    words = ", ".join(dict.fromkeys(w.lower() for w in m["offer_words"] or m["goal_words"]))
    if trusted:
        text = (
            f"{b.name}, a trusted connection, has the {label} “{m['offer_text']}” that answers "
            f"{a.name}'s goal “{m['goal_text']}”"
        )
    elif label == "network":
        text = (
            f"{a.name}'s goal “{m['goal_text']}” could be helped by {b.name}'s network "
            f"“{m['offer_text']}”"
        )
    else:
        text = f"{a.name}'s goal “{m['goal_text']}” meets {b.name}'s {label} “{m['offer_text']}”"
    return f"{text} (in common: {words})." if words else f"{text}."
