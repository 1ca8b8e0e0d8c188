"""Contact search: one indexed query over each contact's search document.

On PostgreSQL every contact carries a document that triggers keep current in the same
transaction as any write that changes it (migration 0007): ``search_vector`` (name A;
company, profession, tags B; city C; GAINS facts D) behind ``contact_search_vector_idx``,
and ``search_text`` (name, company, profession, city, tags; lower-cased, unaccented) behind
the trigram index ``contact_search_text_idx``. The model does not declare them, so these
expressions name them with the query's own alias for the table.

A search is every typed word as a prefix (``'ann':* & 'smi':*``), built from word
characters only, so nothing typed is ever read as a tsquery operator. GAINS text is parsed
without English stop words (migration 0013: "and", "the", "will"), so a typed stop word is
dropped from a query that has other words ("the golf club" looks for golf and club), and a
stop word in a reason is not marked. When no contact has the words, ``near`` finds near
spellings by trigram ("Anabel" finds "Annabel").
Elsewhere (the embedded SQLite default) ``ContactQuerySet.search`` keeps its ``icontains``
scan and there is no ranking, typo matching or reason.
"""

from __future__ import annotations

import re
import unicodedata

from django.db import connections
from django.db.models import BooleanField, F, FloatField, JSONField, OuterRef, Q, Subquery
from django.db.models.expressions import Case, Expression, RawSQL, Value, When
from django.db.models.functions import JSONObject

from .models import GainsFact, GainsKind

MAX_WORDS = 8
RECENT = 400  # the typeahead's first look: this many most recently met contacts
MAX_WORD_LENGTH = 60
_WORD = re.compile(r"[^\W_]+")  # letters and digits: no quote, colon, & | ! ( ) can pass

# PostgreSQL's English stop list (tsearch_data/english.stop), which the GAINS part of the
# document is parsed without (``contacts_search_gains``); a test keeps the two the same.
_STOP_LIST = """
    i me my myself we our ours ourselves you your yours yourself yourselves he him his
    himself she her hers herself it its itself they them their theirs themselves what
    which who whom this that these those am is are was were be been being have has had
    having do does did doing a an the and but if or because as until while of at by for
    with about against between into through during before after above below to from up
    down in out on off over under again further then once here there when where why how
    all any both each few more most other some such no nor not only own same so than too
    very s t can will just don should now
"""
STOP_WORDS = frozenset(_STOP_LIST.split())

# Over contacts' and GAINS facts' ``search_vector`` (a fact's is its text, unweighted).
MATCHES = "{t}.search_vector @@ to_tsquery('contacts_search', %s)"
# ts_rank over what a contact is ranked on (``contacts_search_rank_vector``: each GAINS word
# once): a word's mentions score at most about their highest weight and one of them at least
# 0.6 of it (name A 1.0; company, profession, tags B 0.4; city C 0.2; GAINS D 0.1), so one
# mention in a weightier part outranks the same word in lighter ones. ts_rank_cd adds up
# every cover (six GAINS mentions outranked a company), and costs more.
RANK = "ts_rank(contacts_search_rank_vector({t}.search_vector), to_tsquery('contacts_search', %s))"
# A GAINS fact's own text: the one that mentions the words most is the reason shown.
FACT_RANK = "ts_rank({t}.search_vector, to_tsquery('contacts_search', %s))"
# Over contacts' ``search_text``, by trigram.
CONTAINS = "{t}.search_text LIKE '%%' || contacts_search_normalise(%s) || '%%'"
SIMILAR = "{t}.search_text %%> contacts_search_normalise(%s)"
SIMILARITY = "word_similarity(contacts_search_normalise(%s), {t}.search_text)"


class _Document(Expression):
    """SQL over the search columns of the query's table, ``{t}`` being its alias in the
    query it ends up in (a subquery relabels it)."""

    def __init__(self, template: str, param: str, output_field) -> None:
        super().__init__(output_field=output_field)
        self.template, self.param, self.alias = template, param, None

    def resolve_expression(self, query=None, *args, **kwargs):
        resolved = self.copy()
        resolved.alias = query.get_initial_alias()
        return resolved

    def relabeled_clone(self, change_map):
        clone = self.copy()
        clone.alias = change_map.get(self.alias, self.alias)
        return clone

    def as_sql(self, compiler, connection):
        table = compiler.quote_name_unless_alias(self.alias)
        return self.template.format(t=table), [self.param]


def on_postgresql(queryset) -> bool:
    return connections[queryset.db].vendor == "postgresql"


def words(text: str) -> list[str]:
    """The distinct words typed, lower-cased, at most ``MAX_WORDS``."""
    found = (w[:MAX_WORD_LENGTH] for w in _WORD.findall(text.lower()))
    return list(dict.fromkeys(found))[:MAX_WORDS]


def query_words(text: str) -> list[str]:
    """The words a search looks for: ``words`` without the stop words, unless only stop
    words were typed ("an" is then the start of Anna and animal)."""
    typed = words(text)
    return [w for w in typed if w not in STOP_WORDS] or typed


def prefix_query(typed: list[str], *, weights: str = "", joiner: str = " & ") -> str:
    """``'ann':* & 'smi':*``: each word a quoted prefix (``weights`` restricts them to parts
    of the document, e.g. "AB" for name, company, profession and tags)."""
    return joiner.join(f"'{w}':*{weights}" for w in typed)


def matching(contacts, text: str):
    """The contacts whose document has every word typed as a prefix (``search()`` on
    PostgreSQL); no words (only punctuation typed), no contacts."""
    typed = query_words(text)
    if not typed:
        return contacts.none()
    return contacts.filter(_Document(MATCHES, prefix_query(typed), BooleanField()))


def ranked(
    contacts,
    text: str,
    *,
    owner_id: int | None = None,
    archived: bool = False,
    stage: str | None = None,
    tag: str | None = None,
):
    """``search(text)``, best match first, each with its ``search_reason``: words in the
    name outrank company, profession and tags, then city, then GAINS (ts_rank over the
    weighted document), then by name. (Trigram similarity is no tie-break here: it costs
    more than the rank on every match; it ranks ``near`` instead.)

    Given the owner and archive flag that ``contacts`` is already limited to, the matches are
    found through the ranking copy's words keyed by owner (``KEYED_MATCHES``), so the index
    reads only this owner's entries, however many other users share the words; the
    contacts' own index holds the owner as a separate key, and a prefix read every user's
    matching entries (a stage filter with 'an': 3 ms alone, 11.5 ms beside 30 users with
    like names). A ``stage`` or ``tag`` the contacts are limited to is tested there as well,
    so only their matches are read by id."""
    typed = query_words(text)
    if not typed or not on_postgresql(contacts):
        return contacts.search(text).order_by("name", "pk")
    if owner_id is None:
        found = contacts.search(text)
    else:
        found = keyed_matching(contacts, text, owner_id, archived=archived, stage=stage, tag=tag)
    found = found.alias(rank=_Document(RANK, prefix_query(typed), FloatField()))
    return _with_reasons(found.order_by("-rank", "name", "pk"), typed)


def keyed_matching(
    contacts,
    text: str,
    owner_id: int,
    *,
    archived: bool | None,
    stage: str | None = None,
    tag: str | None = None,
):
    """``search(text)`` over ``contacts``, which the caller has limited to ``owner_id``'s
    (and to ``archived``, ``stage`` and ``tag`` where given; ``archived=None``: both), found
    through the ranking copy's words keyed by owner, so the GIN index reads only this
    owner's entries (``KEYED_MATCHES``). The stage and the tag (its name, in any case) are
    tested there too, so only their matches are read by id. Elsewhere than PostgreSQL,
    ``search(text)``."""
    typed = query_words(text)
    if not typed or not on_postgresql(contacts):
        return contacts.search(text)
    params = [owner_id, archived, typed, stage, tag]
    # Constant SQL, every value a parameter.
    matches = RawSQL(KEYED_MATCHES, params, output_field=BooleanField())  # noqa: S611 # nosec B611
    return contacts.filter(matches)


# The best-match page and the number of matches in one pass over the narrow copy of the
# documents (contacts_searchrank, migrations 0010 and 0013): its words are keyed by owner and
# archive flag, so the GIN index reads this owner's entries only; each match's rank is
# computed in the inner query, so the count over the window carries ids and ranks. The
# owner and flag are tested on the rows as well: the key finds them, the filter vouches.
RANKED_PAGE = """
SELECT contact_id, count(*) OVER () FROM (
    SELECT r.contact_id, r.name, ts_rank(r.search_vector, q.query) AS rank
    FROM contacts_searchrank r, contacts_search_owner_query(%s, %s, %s) AS q(query)
    WHERE r.search_vector @@ q.query AND r.owner_id = %s AND r.is_archived = %s
    OFFSET 0
) AS matched
ORDER BY rank DESC, name, contact_id
LIMIT %s OFFSET %s
""".strip()
# The owner's contacts with every word, by the keyed copy: their ids as one array that
# PostgreSQL computes first (an InitPlan), then the contacts read by id. As a semi-join (IN),
# it expected few matches and walked the owner's contacts in the sort's order, probing each:
# every contact read for a rare word. The values are bound once, as ``p``: the owner, the
# archive flag (NULL: both, either key), the words, the stage and the tag (NULL: any). They
# are literals by then, so the planner folds the CASE and the NULL tests away and the keyed
# query reaches the GIN index as a constant.
KEYED_MATCHES = """
contacts_contact.id = ANY(ARRAY(
    SELECT r.contact_id
    FROM (SELECT %s::bigint, %s::boolean, %s::text[], %s::text, %s::text)
            AS p(owner, archived, words, stage, tag),
        contacts_searchrank r
    WHERE r.search_vector @@ CASE WHEN p.archived IS NULL
            THEN contacts_search_owner_query(p.owner, false, p.words)
                || contacts_search_owner_query(p.owner, true, p.words)
            ELSE contacts_search_owner_query(p.owner, p.archived, p.words)
        END
        AND r.owner_id = p.owner
        AND (p.archived IS NULL OR r.is_archived = p.archived)
        AND (p.stage IS NULL OR r.stage = p.stage)
        AND (p.tag IS NULL OR r.contact_id IN (
            SELECT ct.contact_id FROM contacts_contact_tags ct
            JOIN contacts_tag t ON t.id = ct.tag_id
            WHERE t.owner_id = p.owner AND lower(t.name) = lower(p.tag)
        ))
))
""".strip()
COUNT_MATCHES = """
SELECT count(*) FROM contacts_searchrank r
WHERE r.search_vector @@ contacts_search_owner_query(%s, %s, %s)
    AND r.owner_id = %s AND r.is_archived = %s
""".strip()


def ranked_ids(
    contacts, owner_id: int, archived: bool, text: str, limit: int, offset: int
) -> tuple[list[int], int] | None:
    """The ids of one page of ``ranked(text)`` over the owner's active (or archived)
    contacts, in order, and how many match in all (0 when the page is past the end, see
    ``count_matches``). None where there is no ranking copy (not PostgreSQL) or no words:
    the caller ranks with ``ranked`` instead. The same order as ``ranked``: rank, then name,
    then id."""
    typed = query_words(text)
    if not typed or not on_postgresql(contacts):
        return None
    with connections[contacts.db].cursor() as cursor:
        cursor.execute(RANKED_PAGE, [owner_id, archived, typed, owner_id, archived, limit, offset])
        rows = cursor.fetchall()
    return [row[0] for row in rows], (rows[0][1] if rows else 0)


def count_matches(contacts, owner_id: int, archived: bool, text: str) -> int:
    """How many of the owner's active (or archived) contacts ``ranked_ids`` finds."""
    typed = query_words(text)
    with connections[contacts.db].cursor() as cursor:
        cursor.execute(COUNT_MATCHES, [owner_id, archived, typed, owner_id, archived])
        return cursor.fetchone()[0]


def with_reasons(contacts, text: str):
    """``contacts`` (a page of them) each with its ``search_reason`` for ``text``."""
    typed = query_words(text)
    if not typed or not on_postgresql(contacts):
        return contacts
    return _with_reasons(contacts, typed)


def near(contacts, text: str):
    """Contacts whose name, company, profession, city or tags are spelled like ``text``
    (pg_trgm word similarity), most alike first: for when ``search`` finds nobody."""
    typed = " ".join(words(text))
    if not typed or not on_postgresql(contacts):
        return contacts.none()
    return (
        contacts.filter(_Document(SIMILAR, typed, BooleanField()))
        .annotate(similarity=_Document(SIMILARITY, typed, FloatField()))
        .order_by("-similarity", "name", "pk")
    )


def suggestions(contacts, text: str, limit: int) -> list:
    """The typeahead: contacts with each word typed somewhere in their name, company,
    profession, city or tags, the most recently met first; near spellings when none.

    A trigram match on ``search_text`` rather than the full document: it holds only these
    fields, so the index finds no GAINS-only rows to discard, and for a word or two that
    match half the network PostgreSQL walks ``contact_last_touched_idx`` and stops at
    ``limit``."""
    typed = words(text)
    if not typed:
        return []
    fields = ("pk", "name", "company", "profession")
    recent_first = (F("last_touched_at").desc(nulls_last=True), "name", "pk")
    if not on_postgresql(contacts):
        q = " ".join(text.split())
        found = contacts.filter(Q(name__icontains=q) | Q(company__icontains=q))
        return list(found.order_by(*recent_first).only(*fields)[:limit])
    found = contacts
    for word in typed:
        found = found.filter(_Document(CONTAINS, word, BooleanField()))
    found = found.order_by(*recent_first).only(*fields)
    # A word typed is often in much of the network: then its most recently met matches are
    # among the RECENT most recently met contacts (read in that order from the index), and
    # a full list there is the answer. Else the trigram index finds the few matches. Two
    # queries where PostgreSQL would have to guess how common the word is for this owner
    # (it guessed wrong with many other users' contacts in the table: 10 ms).
    first = _among_recent(contacts, recent_first, typed, limit)
    if len(first) == limit:
        return first
    return list(found[:limit]) or list(near(contacts, text).only(*fields)[:limit])


def _among_recent(contacts, order, typed: list[str], limit: int) -> list:
    """The first ``limit`` of ``contacts`` in ``order`` whose short text has every word,
    looked for among the first RECENT only: those are read first (an index walk that
    stops), then tested, whatever PostgreSQL would guess of the words."""
    recent = (
        contacts.order_by(*order)
        .annotate(short_text=RawSQL("contacts_contact.search_text", ()))
        .values_list("pk", "name", "company", "profession", "last_touched_at", "short_text")
    )
    inner, params = recent[:RECENT].query.sql_with_params()
    tests = " AND ".join(
        "recent.short_text LIKE '%%' || contacts_search_normalise(%s) || '%%'" for _ in typed
    )
    # Django's own SQL for the inner query (its values as parameters) and fixed text.
    sql = (
        "SELECT recent.pk AS id, recent.name, recent.company, recent.profession "  # noqa: S608
        f"FROM ({inner}) AS recent WHERE {tests} "  # nosec B608
        "ORDER BY recent.last_touched_at DESC NULLS LAST, recent.name, recent.pk LIMIT %s"
    )
    return list(contacts.model.objects.raw(sql, [*params, *typed, limit]))


def _with_reasons(contacts, typed: list[str]):
    """Each contact annotated with ``search_reason``: its GAINS fact that best matches the
    words ({"kind", "text"}), or None when what the list shows (name, company, profession,
    tags) already has every word. A subquery of the page query that PostgreSQL runs for the
    page's rows only (after the sort and the LIMIT), so no query per row; each fact's
    parsed ``search_vector`` makes it a few index reads a row."""
    any_word = prefix_query(typed, joiner=" | ")
    # The contact's own owner's facts only, as in the document; the owner compared as an
    # expression (+ 0) so the planner reads the contact's facts by their index rather than
    # all of the owner's facts for every row.
    best = (
        GainsFact.objects.filter(contact=OuterRef("pk"))
        .alias(fact_owner=F("owner_id") + 0)
        .filter(fact_owner=OuterRef("owner_id"))
        .filter(_Document(MATCHES, any_word, BooleanField()))
        .order_by(_Document(FACT_RANK, any_word, FloatField()).desc(), "-learned_on", "-pk")
        .values(reason=JSONObject(kind="kind", text="text"))[:1]
    )
    shown = _Document(MATCHES, prefix_query(typed, weights="AB"), BooleanField())
    return contacts.annotate(
        search_reason=Case(
            When(shown, then=Value(None)),
            default=Subquery(best),
            output_field=JSONField(),
        )
    )


def reason(found: dict | None, text: str) -> dict | None:
    """What to show for a contact's ``search_reason``: {"label": "Goal", "segments": [(piece, is
    a typed word's match), ...]} for the template to escape and <mark>; None for none."""
    if not found:
        return None
    label = GainsKind(found["kind"]).label.removesuffix("s")  # "Goals" -> "Goal"
    return {"label": label, "segments": segments(found["text"], query_words(text))}


def segments(text: str, typed: list[str]) -> list[tuple[str, bool]]:
    """``text`` (a GAINS fact) cut into (piece, is_match): a match is a word that starts with
    one of ``typed``, compared without case or accents, as the search compares them, and is
    not a stop word (those are not searched in GAINS text)."""
    prefixes = tuple(_plain(w) for w in typed)
    out, position = [], 0
    for match in _WORD.finditer(text):
        plain = _plain(match.group())
        if prefixes and plain not in STOP_WORDS and plain.startswith(prefixes):
            if match.start() > position:
                out.append((text[position : match.start()], False))
            out.append((match.group(), True))
            position = match.end()
    if position < len(text):
        out.append((text[position:], False))
    return out


def _plain(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))
