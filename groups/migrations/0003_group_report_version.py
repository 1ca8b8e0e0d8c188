"""``groups_group.report_version``: moves on with every write the member report reads.

On PostgreSQL, statement triggers on each table the report reads (slips, one-to-ones,
meetings, attendance, visitors, outside numbers, memberships) bump the version of the groups
the statement's rows belong to, old and new, in the same transaction: one UPDATE per
statement, however many rows (a meeting's attendance saved at once is one bump). A member's
new name or e-mail bumps each of their groups. A BEFORE trigger on the group makes every
update of its row a bump, so a save from a stale copy of the group can never move the
version back. Other databases get the column only (nothing caches the report there).
"""

from django.db import migrations, models

# (table, the SELECT of the group ids of a transition table, written "@rows": no percent
# sign, which the driver would read as a placeholder)
SOURCES = [
    ("groups_slip", "SELECT group_id FROM @rows"),
    ("groups_onetoone", "SELECT group_id FROM @rows"),
    ("groups_groupmeeting", "SELECT group_id FROM @rows"),
    ("groups_visitor", "SELECT group_id FROM @rows"),
    ("groups_membership", "SELECT group_id FROM @rows"),
    (
        "groups_attendance",
        "SELECT m.group_id FROM @rows r JOIN groups_groupmeeting m ON m.id = r.meeting_id",
    ),
    (
        "groups_outsidereport",
        "SELECT m.group_id FROM @rows r JOIN groups_membership m ON m.id = r.membership_id",
    ),
]

FUNCTIONS = r"""
CREATE FUNCTION groups_report_version_next() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.report_version := OLD.report_version + 1;
    RETURN NEW;
END $$;

CREATE TRIGGER groups_report_version_next BEFORE UPDATE ON groups_group
    FOR EACH ROW EXECUTE FUNCTION groups_report_version_next();

-- TG_ARGV[0]: a SELECT of group ids from the transition table named by @rows.
CREATE FUNCTION groups_report_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ids text := CASE TG_OP
        WHEN 'INSERT' THEN replace(TG_ARGV[0], '@rows', 'new_rows')
        WHEN 'DELETE' THEN replace(TG_ARGV[0], '@rows', 'old_rows')
        ELSE replace(TG_ARGV[0], '@rows', 'new_rows') || ' UNION '
            || replace(TG_ARGV[0], '@rows', 'old_rows')
    END;
BEGIN
    EXECUTE 'UPDATE groups_group SET report_version = report_version + 1 WHERE id IN ('
        || ids || ')';
    RETURN NULL;
END $$;

CREATE FUNCTION groups_report_member_renamed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE groups_group SET report_version = report_version + 1
    WHERE id IN (SELECT group_id FROM groups_membership WHERE user_id = NEW.id);
    RETURN NULL;
END $$;

CREATE TRIGGER groups_report_member_renamed AFTER UPDATE OF display_name, email
    ON accounts_user
    FOR EACH ROW
    WHEN ((OLD.display_name, OLD.email) IS DISTINCT FROM (NEW.display_name, NEW.email))
    EXECUTE FUNCTION groups_report_member_renamed();
"""

EVENTS = [
    ("insert", "INSERT", "NEW TABLE AS new_rows"),
    ("update", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ("delete", "DELETE", "OLD TABLE AS old_rows"),
]


def triggers() -> str:
    """One statement trigger per table and event (PostgreSQL allows transition tables on
    single-event triggers only)."""
    statements = []
    for table, select in SOURCES:
        argument = select.replace("'", "''")
        for suffix, event, referencing in EVENTS:
            statements.append(
                f"CREATE TRIGGER {table}_report_{suffix} AFTER {event} ON {table} "
                f"REFERENCING {referencing} FOR EACH STATEMENT "
                f"EXECUTE FUNCTION groups_report_changed('{argument}');"
            )
    return "\n".join(statements)


def drops() -> str:
    statements = [
        f"DROP TRIGGER {table}_report_{suffix} ON {table};"
        for table, _ in SOURCES
        for suffix, _, _ in EVENTS
    ]
    statements += [
        "DROP TRIGGER groups_report_member_renamed ON accounts_user;",
        "DROP TRIGGER groups_report_version_next ON groups_group;",
        "DROP FUNCTION groups_report_member_renamed();",
        "DROP FUNCTION groups_report_changed();",
        "DROP FUNCTION groups_report_version_next();",
    ]
    return "\n".join(statements)


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTIONS + triggers())


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(drops())


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_user_phone_region"),
        ("groups", "0002_membership_user_former"),
    ]

    operations = [
        migrations.AddField(
            model_name="group",
            name="report_version",
            field=models.BigIntegerField(default=0, editable=False),
        ),
        migrations.RunPython(forward, backward),
    ]
