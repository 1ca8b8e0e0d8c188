"""One search document per contact on PostgreSQL, kept current by triggers (contacts.search).

Two columns of ``contacts_contact`` that the model does not declare, so Django never reads
or writes them (a copy loaded with the contact and saved back by ``contact.save()`` would
undo the triggers' work):

- ``search_vector``: name (weight A); company, profession and tag names (B); city (C);
  the GAINS facts (D), parsed with ``contacts_search`` (the ``simple`` configuration plus
  ``unaccent``: names and multilingual text, no stemming), behind a GIN index on
  ``(owner_id, search_vector)`` (btree_gin puts the owner in the same index);
- ``search_text``: name, company, profession, city and tags, lower-cased and unaccented,
  behind a GIN trigram index on ``(owner_id, search_text)``: the typeahead, and typos.

Each GAINS fact gets a generated ``search_vector`` (its text, parsed once on write): the
contact's D part is their concatenation, and the list picks the fact to show as the reason
with it.

Every write that changes a document refreshes it in the same transaction, whatever the path
(``save()``, ``bulk_create``, ``queryset.update``, m2m, raw SQL): a row-level BEFORE
trigger on the contact's own columns, and statement-level AFTER triggers with transition
tables on GAINS facts, tag links and tag renames, so a bulk insert of 10,000 facts is one
refresh of their contacts, not 10,000. ``contacts_search_document`` is the one definition
of the document; the facts and tags in it are the contact owner's own.

Also: the name and company trigram indexes of 0002 served only the old ``icontains`` search
and typeahead, and go (profession and GAINS text stay, for plan's gaps and prep); and
``contact_last_touched_idx`` is rebuilt newest first with never-touched last, the order the
typeahead and the list's "last touched" sorts ask for (SQLite cannot express it, so the
model keeps declaring the plain one). Other databases (the embedded SQLite default) skip
all of this; ``ContactQuerySet.search`` falls back to ``icontains`` there.
"""

from django.db import migrations

FORWARD = r"""
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS btree_gin;

CREATE TEXT SEARCH CONFIGURATION contacts_search (COPY = pg_catalog.simple);
ALTER TEXT SEARCH CONFIGURATION contacts_search
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple;

ALTER TABLE contacts_contact ADD COLUMN search_vector tsvector, ADD COLUMN search_text text;
-- Each fact parsed once, on write: the contact's document is built from these, and the
-- list's reason (the fact that matched) is picked with them.
ALTER TABLE contacts_gainsfact ADD COLUMN search_vector tsvector
    GENERATED ALWAYS AS (to_tsvector('contacts_search'::regconfig, text)) STORED;

CREATE AGGREGATE contacts_tsvector_agg(tsvector) (
    SFUNC = tsvector_concat, STYPE = tsvector, INITCOND = ''
);

-- How typed text and the document's short text are compared (the query side calls it
-- too, so both are normalised alike).
CREATE FUNCTION contacts_search_normalise(value text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT lower(unaccent(coalesce(value, '')))
$$;

-- The one definition of the document. PL/pgSQL, not SQL: its plans are cached for the
-- session, where a SQL function called from a row trigger is planned again on every row.
CREATE FUNCTION contacts_search_document(
    c contacts_contact, OUT vector tsvector, OUT short_text text
) LANGUAGE plpgsql STABLE AS $$
DECLARE
    tag_names text;
    facts tsvector;
BEGIN
    -- The contact's id picks the rows, by its index, whatever the size of the tables (a
    -- tag by its key; the owner tested after, not offered to the planner as a way in).
    SELECT string_agg(
        (SELECT t.name FROM contacts_tag t WHERE t.id = ct.tag_id AND t.owner_id = c.owner_id),
        ' '
    ) INTO tag_names
    FROM contacts_contact_tags ct
    WHERE ct.contact_id = c.id;
    SELECT contacts_tsvector_agg(f.search_vector) FILTER (WHERE f.owner_id = c.owner_id)
    INTO facts
    FROM contacts_gainsfact f
    WHERE f.contact_id = c.id;
    vector := setweight(to_tsvector('contacts_search', coalesce(c.name, '')), 'A')
        || setweight(
            to_tsvector('contacts_search', concat_ws(' ', c.company, c.profession, tag_names)),
            'B'
        )
        || setweight(to_tsvector('contacts_search', coalesce(c.city, '')), 'C')
        || setweight(coalesce(facts, ''), 'D');
    short_text := contacts_search_normalise(
        concat_ws(' ', c.name, c.company, c.profession, c.city, tag_names)
    );
END $$;

CREATE FUNCTION contacts_search_refresh(ids bigint[]) RETURNS void
LANGUAGE sql AS $$
    UPDATE contacts_contact c
    SET (search_vector, search_text) = (SELECT * FROM contacts_search_document(c))
    WHERE c.id IN (SELECT DISTINCT unnest(ids))
$$;

-- The contact's own columns: computed on the row being written, before it is written.
CREATE FUNCTION contacts_search_contact_row() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    SELECT d.vector, d.short_text INTO NEW.search_vector, NEW.search_text
    FROM contacts_search_document(NEW) d;
    RETURN NEW;
END $$;

CREATE TRIGGER contacts_search_insert BEFORE INSERT ON contacts_contact
    FOR EACH ROW EXECUTE FUNCTION contacts_search_contact_row();
CREATE TRIGGER contacts_search_update
    BEFORE UPDATE OF name, company, profession, city, owner_id ON contacts_contact
    FOR EACH ROW
    WHEN (
        (OLD.name, OLD.company, OLD.profession, OLD.city, OLD.owner_id)
        IS DISTINCT FROM (NEW.name, NEW.company, NEW.profession, NEW.city, NEW.owner_id)
    )
    EXECUTE FUNCTION contacts_search_contact_row();

-- GAINS facts and tag links: one refresh per statement, of the contacts it touched.
CREATE FUNCTION contacts_search_after_facts() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM contacts_search_refresh(ARRAY(SELECT contact_id FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM contacts_search_refresh(ARRAY(SELECT contact_id FROM old_rows));
    ELSE
        PERFORM contacts_search_refresh(ARRAY(
            SELECT unnest(ARRAY[o.contact_id, n.contact_id])
            FROM old_rows o JOIN new_rows n USING (id)
            WHERE (o.contact_id, o.owner_id, o.text) IS DISTINCT FROM (n.contact_id, n.owner_id, n.text)
        ));
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION contacts_search_after_tag_links() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM contacts_search_refresh(ARRAY(SELECT contact_id FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM contacts_search_refresh(ARRAY(SELECT contact_id FROM old_rows));
    ELSE
        PERFORM contacts_search_refresh(ARRAY(
            SELECT unnest(ARRAY[o.contact_id, n.contact_id])
            FROM old_rows o JOIN new_rows n USING (id)
            WHERE (o.contact_id, o.tag_id) IS DISTINCT FROM (n.contact_id, n.tag_id)
        ));
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION contacts_search_after_tag_rename() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM contacts_search_refresh(ARRAY(
        SELECT ct.contact_id
        FROM old_rows o JOIN new_rows n USING (id)
        JOIN contacts_contact_tags ct ON ct.tag_id = n.id
        WHERE (o.name, o.owner_id) IS DISTINCT FROM (n.name, n.owner_id)
    ));
    RETURN NULL;
END $$;

CREATE TRIGGER contacts_search_facts_insert AFTER INSERT ON contacts_gainsfact
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION contacts_search_after_facts();
CREATE TRIGGER contacts_search_facts_update AFTER UPDATE ON contacts_gainsfact
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION contacts_search_after_facts();
CREATE TRIGGER contacts_search_facts_delete AFTER DELETE ON contacts_gainsfact
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION contacts_search_after_facts();

CREATE TRIGGER contacts_search_tag_links_insert AFTER INSERT ON contacts_contact_tags
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION contacts_search_after_tag_links();
CREATE TRIGGER contacts_search_tag_links_update AFTER UPDATE ON contacts_contact_tags
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION contacts_search_after_tag_links();
CREATE TRIGGER contacts_search_tag_links_delete AFTER DELETE ON contacts_contact_tags
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION contacts_search_after_tag_links();

CREATE TRIGGER contacts_search_tag_rename AFTER UPDATE ON contacts_tag
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION contacts_search_after_tag_rename();

-- Backfill, then index (faster than indexing row by row).
UPDATE contacts_contact c
SET (search_vector, search_text) = (SELECT * FROM contacts_search_document(c));

-- A small pending list (256 kB, not 4 MB): every search reads all of it until it is
-- merged, and after an import a full one costs a search several milliseconds; small
-- merges are no slower for writes (fastupdate off would make an import's writes 2-3x).
CREATE INDEX contact_search_vector_idx ON contacts_contact
    USING gin (owner_id, search_vector) WITH (gin_pending_list_limit = 256);
CREATE INDEX contact_search_text_idx ON contacts_contact
    USING gin (owner_id, search_text gin_trgm_ops) WITH (gin_pending_list_limit = 256);

DROP INDEX IF EXISTS contact_name_trgm;
DROP INDEX IF EXISTS contact_company_trgm;

-- Newest touch first, never touched last: what the typeahead and the list's two "last
-- touched" sorts ask for (the model's plain (owner, last_touched_at) fits neither).
DROP INDEX contact_last_touched_idx;
CREATE INDEX contact_last_touched_idx ON contacts_contact
    (owner_id, last_touched_at DESC NULLS LAST);
"""

BACKWARD = r"""
DROP INDEX contact_last_touched_idx;
CREATE INDEX contact_last_touched_idx ON contacts_contact (owner_id, last_touched_at);
CREATE INDEX IF NOT EXISTS contact_name_trgm ON contacts_contact
    USING gin (UPPER("name"::text) gin_trgm_ops);
CREATE INDEX IF NOT EXISTS contact_company_trgm ON contacts_contact
    USING gin (UPPER("company"::text) gin_trgm_ops);
DROP TRIGGER contacts_search_tag_rename ON contacts_tag;
DROP TRIGGER contacts_search_tag_links_delete ON contacts_contact_tags;
DROP TRIGGER contacts_search_tag_links_update ON contacts_contact_tags;
DROP TRIGGER contacts_search_tag_links_insert ON contacts_contact_tags;
DROP TRIGGER contacts_search_facts_delete ON contacts_gainsfact;
DROP TRIGGER contacts_search_facts_update ON contacts_gainsfact;
DROP TRIGGER contacts_search_facts_insert ON contacts_gainsfact;
DROP TRIGGER contacts_search_update ON contacts_contact;
DROP TRIGGER contacts_search_insert ON contacts_contact;
DROP FUNCTION contacts_search_after_tag_rename();
DROP FUNCTION contacts_search_after_tag_links();
DROP FUNCTION contacts_search_after_facts();
DROP FUNCTION contacts_search_contact_row();
DROP FUNCTION contacts_search_refresh(bigint[]);
DROP FUNCTION contacts_search_document(contacts_contact);
DROP FUNCTION contacts_search_normalise(text);
DROP AGGREGATE contacts_tsvector_agg(tsvector);
ALTER TABLE contacts_gainsfact DROP COLUMN search_vector;
ALTER TABLE contacts_contact DROP COLUMN search_vector, DROP COLUMN search_text;
DROP TEXT SEARCH CONFIGURATION contacts_search;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("contacts", "0006_alter_gainsfact_options")]

    operations = [migrations.RunPython(forward, backward)]
