"""The ranking copy holds each contact's stage too.

A search with a stage filter finds its matches by the copy's keyed words (only the owner's
index entries) and reads those contacts by id. Without the stage there, it read every match
of the words and dropped the other stages after: 1,308 contacts read for 'an' to show 384.
The copy's rows are narrow (the stage is a few bytes more), and the same triggers keep it
current: the update trigger now also fires when the stage changes.
"""

from django.db import migrations, models

TRIGGERS = r"""
CREATE OR REPLACE FUNCTION contacts_search_rank_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO contacts_searchrank (contact_id, owner_id, is_archived, name, {stage}search_vector)
    SELECT id, owner_id, is_archived, name, {stage}{vector}
    FROM new_rows;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION contacts_search_rank_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE contacts_searchrank
    SET owner_id = NEW.owner_id, is_archived = NEW.is_archived, name = NEW.name,
        {set_stage}search_vector = {new_vector}
    WHERE contact_id = NEW.id;
    RETURN NULL;
END $$;

DROP TRIGGER contacts_search_rank_update ON contacts_contact;
-- Every column the document is made of is listed: 0007's BEFORE trigger rewrites the
-- document when one of them is set, and a column list only sees the columns SET names.
CREATE TRIGGER contacts_search_rank_update
    AFTER UPDATE OF owner_id, is_archived, name, {stage}company, profession, city, search_vector
    ON contacts_contact
    FOR EACH ROW
    WHEN (
        (OLD.owner_id, OLD.is_archived, OLD.name, {old_stage}OLD.search_vector)
        IS DISTINCT FROM (NEW.owner_id, NEW.is_archived, NEW.name, {new_stage}NEW.search_vector)
    )
    EXECUTE FUNCTION contacts_search_rank_update();
"""

# What the copy holds for a contact row, as migration 0013 defines it.
KEYED = (
    "contacts_search_keyed(contacts_search_rank_vector(coalesce({row}search_vector, '')),"
    " contacts_search_owner_key({row}owner_id, {row}is_archived))"
)

BACKFILL = r"""
UPDATE contacts_searchrank r SET stage = c.stage
FROM contacts_contact c WHERE c.id = r.contact_id AND r.stage IS DISTINCT FROM c.stage;
"""

FORWARD = TRIGGERS.format(
    stage="stage, ",
    set_stage="stage = NEW.stage, ",
    old_stage="OLD.stage, ",
    new_stage="NEW.stage, ",
    vector=KEYED.format(row=""),
    new_vector=KEYED.format(row="NEW."),
)

BACKWARD = TRIGGERS.format(
    stage="",
    set_stage="",
    old_stage="",
    new_stage="",
    vector=KEYED.format(row=""),
    new_vector=KEYED.format(row="NEW."),
)


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)
        schema_editor.execute(BACKFILL)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("contacts", "0013_search_stop_words_owner_keys")]

    operations = [
        migrations.AddField(
            model_name="searchrank",
            name="stage",
            field=models.CharField(max_length=16, default="contact"),
        ),
        migrations.RunPython(forward, backward),
    ]
