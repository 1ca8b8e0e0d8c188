"""``contacts_searchrank``: a narrow copy of each contact's search document, for ranking.

On PostgreSQL it gains the ``search_vector`` column (the model does not declare it), a GIN
index on ``(owner_id, search_vector)``, and triggers that copy the owner, archive flag, name
and document from ``contacts_contact`` whenever one of them changes: one statement per
insert (so a bulk import is one INSERT ... SELECT of its rows), a row trigger on update.
The contact's own ``search_vector`` stays the one that 0007's triggers compute, so every
path that refreshes it (a GAINS fact, a tag link, a tag renamed, a field edited) reaches
the copy through that UPDATE, in the same transaction. Rows go with their contact
(Django's collector deletes them). Other databases get the empty table only.
"""

import django.db.models.deletion
from django.db import migrations, models

FORWARD = r"""
ALTER TABLE contacts_searchrank ADD COLUMN search_vector tsvector NOT NULL DEFAULT '';

CREATE FUNCTION contacts_search_rank_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO contacts_searchrank (contact_id, owner_id, is_archived, name, search_vector)
    SELECT id, owner_id, is_archived, name, coalesce(search_vector, '') FROM new_rows;
    RETURN NULL;
END $$;

CREATE FUNCTION contacts_search_rank_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE contacts_searchrank
    SET owner_id = NEW.owner_id, is_archived = NEW.is_archived, name = NEW.name,
        search_vector = coalesce(NEW.search_vector, '')
    WHERE contact_id = NEW.id;
    RETURN NULL;
END $$;

CREATE TRIGGER contacts_search_rank_insert AFTER INSERT ON contacts_contact
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION contacts_search_rank_insert();
-- Every column the document is made of is listed: 0007's BEFORE trigger rewrites the
-- document when one of them is set, and a column list only sees the columns SET names.
CREATE TRIGGER contacts_search_rank_update
    AFTER UPDATE OF owner_id, is_archived, name, company, profession, city, search_vector
    ON contacts_contact
    FOR EACH ROW
    WHEN (
        (OLD.owner_id, OLD.is_archived, OLD.name, OLD.search_vector)
        IS DISTINCT FROM (NEW.owner_id, NEW.is_archived, NEW.name, NEW.search_vector)
    )
    EXECUTE FUNCTION contacts_search_rank_update();

INSERT INTO contacts_searchrank (contact_id, owner_id, is_archived, name, search_vector)
SELECT id, owner_id, is_archived, name, coalesce(search_vector, '') FROM contacts_contact;

-- As 0007's: a small pending list, so a search never reads a long one after an import.
CREATE INDEX contact_search_rank_idx ON contacts_searchrank
    USING gin (owner_id, search_vector) WITH (gin_pending_list_limit = 256);
"""

BACKWARD = r"""
DROP TRIGGER contacts_search_rank_update ON contacts_contact;
DROP TRIGGER contacts_search_rank_insert ON contacts_contact;
DROP FUNCTION contacts_search_rank_update();
DROP FUNCTION contacts_search_rank_insert();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("contacts", "0009_contact_owner_id_idx")]

    operations = [
        migrations.CreateModel(
            name="SearchRank",
            fields=[
                (
                    "contact",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="contacts.contact",
                    ),
                ),
                ("owner_id", models.BigIntegerField()),
                ("is_archived", models.BooleanField(default=False)),
                ("name", models.CharField(max_length=120)),
            ],
            options={
                "verbose_name": "search rank entry",
                "verbose_name_plural": "search rank entries",
            },
        ),
        migrations.RunPython(forward, backward),
    ]
