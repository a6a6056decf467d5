"""One index per way of looking a person up (docs/decisions/0010-person-search-at-scale.md).

On PostgreSQL, `db_index=True` on a CharField makes two indexes (plain and varchar_pattern_ops);
each lookup needs only one, and every index costs each write. Name and phone keep a plain index.
Prefixes of the name and of the reversed number are ranges in code-point order (the `prefix`
lookup): on PostgreSQL they get indexes on (column COLLATE "C") — the name's made without the id,
so that duplicate names share index entries — and on SQLite, whose text order is code-point order,
a plain index on the reversed number (the name's is person_name).
"""

from django.db import migrations, models


def _table(apps, schema_editor):
    return schema_editor.quote_name(apps.get_model("people", "Person")._meta.db_table)


def prefix_indexes(apps, schema_editor):
    table = _table(apps, schema_editor)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS people_person_name_c")
        schema_editor.execute(f'CREATE INDEX people_person_name_c ON {table} ((name COLLATE "C"))')
        schema_editor.execute(f'CREATE INDEX people_person_rev_c ON {table} ((doc_number_rev COLLATE "C"))')
    else:
        schema_editor.execute(f"CREATE INDEX people_person_rev ON {table} (doc_number_rev)")


def drop_prefix_indexes(apps, schema_editor):
    table = _table(apps, schema_editor)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS people_person_rev_c")
        schema_editor.execute("DROP INDEX IF EXISTS people_person_name_c")
        schema_editor.execute(f'CREATE INDEX people_person_name_c ON {table} ((name COLLATE "C"), id)')
    else:
        schema_editor.execute("DROP INDEX IF EXISTS people_person_rev")


class Migration(migrations.Migration):
    dependencies = [
        ("areas", "0002_initial"),
        ("people", "0004_person_search_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="person",
            name="doc_number_rev",
            field=models.CharField(editable=False, max_length=32),
        ),
        migrations.AlterField(
            model_name="person",
            name="name",
            field=models.CharField(max_length=64, verbose_name="full name"),
        ),
        migrations.AlterField(
            model_name="person",
            name="phone",
            field=models.CharField(blank=True, max_length=20, verbose_name="phone"),
        ),
        migrations.AddIndex(
            model_name="person",
            index=models.Index(fields=["name"], name="person_name"),
        ),
        migrations.AddIndex(
            model_name="person",
            index=models.Index(fields=["phone"], name="person_phone"),
        ),
        migrations.RunPython(prefix_indexes, drop_prefix_indexes, elidable=False),
    ]
