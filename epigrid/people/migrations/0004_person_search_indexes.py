"""Indexes for person search at scale (docs/decisions/0010-person-search-at-scale.md).

The unique document constraint leads with the number, so a search by number alone uses it.
On PostgreSQL, an index on (name COLLATE "C", id) serves name-prefix searches as a range in
code-point order whatever the database's collation; SQLite compares text by code point already,
so it gets no such index.
"""

from django.db import migrations, models

NAME_INDEX = "people_person_name_c"


def create_name_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        table = schema_editor.quote_name(apps.get_model("people", "Person")._meta.db_table)
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS {NAME_INDEX} ON {table} ((name COLLATE "C"), id)')


def drop_name_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {NAME_INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0003_person_full_name"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="person", name="person_document_unique"),
        migrations.AddConstraint(
            model_name="person",
            constraint=models.UniqueConstraint(
                fields=("doc_number", "doc_type"), name="person_document_unique"
            ),
        ),
        migrations.RunPython(create_name_index, drop_name_index, elidable=False),
    ]
