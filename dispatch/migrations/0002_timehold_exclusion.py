"""An expert is never in two places at once: on PostgreSQL the database refuses
overlapping time holds of the same expert (buffers are part of each hold).

The operation is a no-op on other databases (SQLite runs the locked check in
``dispatch.services``), so ``django.contrib.postgres`` is not needed.
"""

from django.db import migrations

CONSTRAINT = "dispatch_timehold_no_overlap"


def add_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    schema_editor.execute(
        f"ALTER TABLE dispatch_timehold ADD CONSTRAINT {CONSTRAINT} "
        "EXCLUDE USING gist (expert_id WITH =, "
        "tstzrange(starts_at, ends_at, '[)') WITH &&)"
    )


def drop_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"ALTER TABLE dispatch_timehold DROP CONSTRAINT IF EXISTS {CONSTRAINT}"
    )


class Migration(migrations.Migration):
    dependencies = [("dispatch", "0001_initial")]

    operations = [migrations.RunPython(add_constraint, drop_constraint, elidable=False)]
