"""Counts of a user's contacts kept current on write, so lists and the dashboard never
count the network on a page view.

``ContactTally`` holds, per owner, how many contacts are at each stage, archived or not.
On PostgreSQL, statement-level triggers on ``contacts_contact`` keep it current in the
same transaction as the write — whatever the path: a form, the quick log, an import's
``bulk_create``, a merge, an archive restore or ``seed_demo`` (migration 0008). A tag's
``contact_count`` is kept the same way from ``contacts_contact_tags``.

Elsewhere (the embedded SQLite default: a demo, small data) there are no triggers and the
counts are computed directly.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection, models
from django.db.models import Count, Sum


class ContactTally(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    stage = models.CharField(max_length=16)
    is_archived = models.BooleanField()
    n = models.IntegerField(default=0)

    class Meta:
        app_label = "contacts"
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "stage", "is_archived"], name="contacts_tally_owner_stage_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.stage}{' (archived)' if self.is_archived else ''}: {self.n}"


def _counted() -> bool:
    return connection.vendor == "postgresql"


def stage_counts(user, *, archived: bool = False) -> dict[str, int]:
    """{stage: number of the user's contacts at that stage} (active ones by default)."""
    from .models import Contact, Stage

    if _counted():
        rows = ContactTally.objects.filter(owner=user, is_archived=archived).values_list(
            "stage", "n"
        )
    else:
        rows = (
            Contact.objects.for_user(user)
            .filter(is_archived=archived)
            .values("stage")
            .annotate(n=Count("pk"))
            .values_list("stage", "n")
        )
    counts = dict.fromkeys(Stage.values, 0)
    counts.update(dict(rows))
    return counts


def contact_count(user, *, archived: bool | None = False, stage: str | None = None) -> int:
    """The user's active (or archived; ``archived=None``: all) contacts, of a stage or all."""
    if _counted():
        rows = ContactTally.objects.filter(owner=user)
        if archived is not None:
            rows = rows.filter(is_archived=archived)
        if stage:
            rows = rows.filter(stage=stage)
        return rows.aggregate(total=Sum("n"))["total"] or 0
    from .models import Contact

    contacts = Contact.objects.for_user(user)
    if archived is not None:
        contacts = contacts.filter(is_archived=archived)
    return (contacts.filter(stage=stage) if stage else contacts).count()


def tags_in_use(user):
    """The user's tags that at least one contact carries, by name."""
    from .models import Tag

    tags = Tag.objects.for_user(user)
    if _counted():
        return tags.filter(contact_count__gt=0)
    return tags.filter(contacts__isnull=False).distinct()


def verify(user) -> list[str]:
    """Differences between the counters and a fresh count (empty when they agree); for
    tests and ``manage.py check_counters``."""
    from .models import Contact, Tag

    problems = []
    fresh = {
        (row["stage"], row["is_archived"]): row["n"]
        for row in Contact.objects.filter(owner=user)
        .values("stage", "is_archived")
        .annotate(n=Count("pk"))
    }
    kept = {(t.stage, t.is_archived): t.n for t in ContactTally.objects.filter(owner=user) if t.n}
    if fresh != kept:
        problems.append(f"stage tally {kept} != {fresh}")
    for tag in Tag.objects.filter(owner=user).annotate(fresh=Count("contacts")):
        if tag.fresh != tag.contact_count:
            problems.append(f"tag {tag.name!r}: {tag.contact_count} != {tag.fresh}")
    return problems


# The trigger functions (migration 0008). Each event has its own trigger, as PostgreSQL
# allows transition tables on single-event triggers only; the DELETE side only updates
# rows that exist, so deleting a user (whose tally rows may go first) leaves nothing behind.
TRIGGERS_SQL = """
CREATE OR REPLACE FUNCTION contacts_tally_add() RETURNS trigger AS $$
BEGIN
    INSERT INTO contacts_contacttally (owner_id, stage, is_archived, n)
    SELECT owner_id, stage, is_archived, count(*) FROM new_rows GROUP BY 1, 2, 3
    ON CONFLICT (owner_id, stage, is_archived)
    DO UPDATE SET n = contacts_contacttally.n + EXCLUDED.n;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION contacts_tally_remove() RETURNS trigger AS $$
BEGIN
    UPDATE contacts_contacttally t SET n = t.n - o.n
    FROM (SELECT owner_id, stage, is_archived, count(*) AS n FROM old_rows GROUP BY 1, 2, 3) o
    WHERE t.owner_id = o.owner_id AND t.stage = o.stage AND t.is_archived = o.is_archived;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER contacts_tally_insert AFTER INSERT ON contacts_contact
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION contacts_tally_add();
CREATE TRIGGER contacts_tally_delete AFTER DELETE ON contacts_contact
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION contacts_tally_remove();
-- An UPDATE moves counts only when the stage, the archive flag or the owner changed.
CREATE OR REPLACE FUNCTION contacts_tally_update() RETURNS trigger AS $$
BEGIN
    UPDATE contacts_contacttally t SET n = t.n - o.n
    FROM (SELECT o.owner_id, o.stage, o.is_archived, count(*) AS n
          FROM old_rows o JOIN new_rows n ON n.id = o.id
          WHERE (o.owner_id, o.stage, o.is_archived) IS DISTINCT FROM (n.owner_id, n.stage, n.is_archived)
          GROUP BY 1, 2, 3) o
    WHERE t.owner_id = o.owner_id AND t.stage = o.stage AND t.is_archived = o.is_archived;
    INSERT INTO contacts_contacttally (owner_id, stage, is_archived, n)
    SELECT n.owner_id, n.stage, n.is_archived, count(*)
    FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE (o.owner_id, o.stage, o.is_archived) IS DISTINCT FROM (n.owner_id, n.stage, n.is_archived)
    GROUP BY 1, 2, 3
    ON CONFLICT (owner_id, stage, is_archived)
    DO UPDATE SET n = contacts_contacttally.n + EXCLUDED.n;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER contacts_tally_update AFTER UPDATE ON contacts_contact
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION contacts_tally_update();

CREATE OR REPLACE FUNCTION contacts_tag_count_add() RETURNS trigger AS $$
BEGIN
    UPDATE contacts_tag t SET contact_count = t.contact_count + a.n
    FROM (SELECT tag_id, count(*) AS n FROM new_rows GROUP BY 1) a WHERE t.id = a.tag_id;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION contacts_tag_count_remove() RETURNS trigger AS $$
BEGIN
    UPDATE contacts_tag t SET contact_count = t.contact_count - a.n
    FROM (SELECT tag_id, count(*) AS n FROM old_rows GROUP BY 1) a WHERE t.id = a.tag_id;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER contacts_tag_count_insert AFTER INSERT ON contacts_contact_tags
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION contacts_tag_count_add();
CREATE TRIGGER contacts_tag_count_delete AFTER DELETE ON contacts_contact_tags
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION contacts_tag_count_remove();

-- Backfill.
INSERT INTO contacts_contacttally (owner_id, stage, is_archived, n)
SELECT owner_id, stage, is_archived, count(*) FROM contacts_contact GROUP BY 1, 2, 3
ON CONFLICT (owner_id, stage, is_archived) DO UPDATE SET n = EXCLUDED.n;
UPDATE contacts_tag t SET contact_count = c.n
FROM (SELECT tag_id, count(*) AS n FROM contacts_contact_tags GROUP BY 1) c WHERE t.id = c.tag_id;
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS contacts_tally_insert ON contacts_contact;
DROP TRIGGER IF EXISTS contacts_tally_delete ON contacts_contact;
DROP TRIGGER IF EXISTS contacts_tally_update ON contacts_contact;
DROP TRIGGER IF EXISTS contacts_tag_count_insert ON contacts_contact_tags;
DROP TRIGGER IF EXISTS contacts_tag_count_delete ON contacts_contact_tags;
DROP FUNCTION IF EXISTS contacts_tally_add(), contacts_tally_remove(), contacts_tally_update(),
    contacts_tag_count_add(), contacts_tag_count_remove();
"""
