"""GAINS text is searched without English stop words; the ranking copy is keyed by owner and
counts each GAINS word once.

On PostgreSQL:
- ``contacts_search_gains``: the ``contacts_search`` configuration whose words go through a
  ``simple`` dictionary with PostgreSQL's English stop list (``and``, ``the``, ``will``...).
  A GAINS fact's ``search_vector`` is parsed with it, so the document's GAINS part (D) no
  longer holds them. A prefix typed (``an``) found a third of a network by the ``and`` of
  its GAINS sentences: noise for the user, and a third of the documents read for a search.
  Names, companies, professions, tags and cities keep every word ("Will", "The Agency").
- ``contacts_search_rank_vector(document)``: what a contact is ranked on, the document's
  name, company, profession, tags and city with their positions, and its GAINS words each
  once (positions stripped: one mention at weight D). A third smaller a row, so ranking
  every match reads fewer pages; one GAINS mention never outranks the same word in a
  weightier part. ``search.ranked`` ranks the contacts' own documents with the same function.
- The ranking copy (``contacts_searchrank``, 0010) holds those words keyed by their owner and
  archive flag (``contacts_search_owner_key``: ``42~anna``, ``42a~anna`` when archived),
  behind a GIN index on the words alone, and a search asks for each word typed under the
  owner's key (``contacts_search_owner_query``). A GIN prefix match reads every posting list
  whose word starts with the prefix: with the owner as a separate key of the index it read
  every user's ``an...`` words, and PostgreSQL chose to test the owner on the rows instead,
  reading every user's matching row (60 ms for a 10,000-contact user among 30 such users).
  Keyed, a search reads its owner's own entries only, whoever else shares the table.

The facts' column is generated, and PostgreSQL 15 cannot change a generated expression: it
is dropped and added again. Every contact with a fact gets its document refreshed, which
also refreshes its ranking copy (0010's trigger); the copies of the others are rewritten.
"""

from django.db import migrations

OWNER_KEYS = r"""
CREATE FUNCTION contacts_search_owner_key(owner bigint, archived boolean) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT owner::text || CASE WHEN archived THEN 'a~' ELSE '~' END
$$;

-- A word as a tsvector or tsquery lexeme literal: quoted, its quotes and backslashes escaped.
CREATE FUNCTION contacts_search_quoted(word text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT '''' || replace(replace(word, '\', '\\'), '''', '''''') || ''''
$$;

-- A tsvector's words with ``key`` in front, their positions and weights kept.
CREATE FUNCTION contacts_search_keyed(document tsvector, key text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(string_agg(
        contacts_search_quoted(key || u.lexeme) || CASE
            WHEN u.positions IS NULL THEN ''
            ELSE ':' || (
                SELECT string_agg(x.p::text || x.w, ',')
                FROM unnest(u.positions, u.weights) AS x(p, w)
            )
        END,
        ' '
    ), '')::tsvector
    FROM unnest(document) AS u
$$;

-- Every word typed, parsed as the document's words are, as a prefix under the owner's key.
CREATE FUNCTION contacts_search_owner_query(owner bigint, archived boolean, words text[])
RETURNS tsquery LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(string_agg(
        contacts_search_quoted(contacts_search_owner_key(owner, archived) || l.lexeme) || ':*',
        ' & '
    ), '')::tsquery
    FROM unnest(words) AS w(word),
        unnest(tsvector_to_array(to_tsvector('contacts_search', w.word))) AS l(lexeme)
$$;
"""

RANK_COPY = r"""
CREATE OR REPLACE FUNCTION contacts_search_rank_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO contacts_searchrank (contact_id, owner_id, is_archived, name, search_vector)
    SELECT id, owner_id, is_archived, name, {vector}
    FROM new_rows;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION contacts_search_rank_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE contacts_searchrank
    SET owner_id = NEW.owner_id, is_archived = NEW.is_archived, name = NEW.name,
        search_vector = {new_vector}
    WHERE contact_id = NEW.id;
    RETURN NULL;
END $$;
"""

FACTS_PARSED_WITH = r"""
ALTER TABLE contacts_gainsfact DROP COLUMN search_vector;
ALTER TABLE contacts_gainsfact ADD COLUMN search_vector tsvector
    GENERATED ALWAYS AS (to_tsvector('{config}'::regconfig, text)) STORED;
"""

REFRESH = r"""
SELECT contacts_search_refresh(ARRAY(SELECT DISTINCT contact_id FROM contacts_gainsfact));
UPDATE contacts_searchrank r SET search_vector = {vector}
FROM contacts_contact c
WHERE c.id = r.contact_id AND r.search_vector IS DISTINCT FROM {vector};
"""

RANK_INDEX = r"""
DROP INDEX contact_search_rank_idx;
CREATE INDEX contact_search_rank_idx ON contacts_searchrank
    USING gin ({columns}) WITH (gin_pending_list_limit = 256);
"""

# What the copy holds for a contact row (``row``: "", "NEW." or "c.").
KEYED = (
    "contacts_search_keyed(contacts_search_rank_vector(coalesce({row}search_vector, '')),"
    " contacts_search_owner_key({row}owner_id, {row}is_archived))"
)

FORWARD = (
    r"""
CREATE TEXT SEARCH DICTIONARY contacts_search_gains_words (
    TEMPLATE = pg_catalog.simple, STOPWORDS = english
);
CREATE TEXT SEARCH CONFIGURATION contacts_search_gains (COPY = contacts_search);
ALTER TEXT SEARCH CONFIGURATION contacts_search_gains
    ALTER MAPPING FOR asciiword, asciihword, hword_asciipart WITH contacts_search_gains_words;
ALTER TEXT SEARCH CONFIGURATION contacts_search_gains
    ALTER MAPPING FOR word, hword, hword_part WITH unaccent, contacts_search_gains_words;

-- The one definition of what a contact is ranked on.
CREATE FUNCTION contacts_search_rank_vector(document tsvector) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ts_filter(document, '{a,b,c}') || strip(ts_filter(document, '{d}'))
$$;
"""
    + OWNER_KEYS
    + RANK_COPY.format(vector=KEYED.format(row=""), new_vector=KEYED.format(row="NEW."))
    + FACTS_PARSED_WITH.format(config="contacts_search_gains")
    + REFRESH.format(vector=KEYED.format(row="c."))
    + RANK_INDEX.format(columns="search_vector")
)

BACKWARD = (
    RANK_COPY.format(
        vector="coalesce(search_vector, '')", new_vector="coalesce(NEW.search_vector, '')"
    )
    + FACTS_PARSED_WITH.format(config="contacts_search")
    + REFRESH.format(vector="coalesce(c.search_vector, '')")
    + RANK_INDEX.format(columns="owner_id, search_vector")
    + r"""
DROP FUNCTION contacts_search_owner_query(bigint, boolean, text[]);
DROP FUNCTION contacts_search_keyed(tsvector, text);
DROP FUNCTION contacts_search_quoted(text);
DROP FUNCTION contacts_search_owner_key(bigint, boolean);
DROP FUNCTION contacts_search_rank_vector(tsvector);
DROP TEXT SEARCH CONFIGURATION contacts_search_gains;
DROP TEXT SEARCH DICTIONARY contacts_search_gains_words;
"""
)


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("contacts", "0012_stage_strength_idx")]

    operations = [migrations.RunPython(forward, backward)]
