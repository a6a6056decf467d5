from django.db import migrations

TAGS = [
    ("elderly_alone", "独居老人"),
    ("disabled", "残疾人"),
    ("chronic", "慢性病（需定期外出就医）"),
    ("pregnant", "孕产妇"),
    ("child", "儿童"),
]


def add_tags(apps, schema_editor):
    Tag = apps.get_model("people", "Tag")
    for code, name in TAGS:
        Tag.objects.update_or_create(code=code, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("people", "0001_initial")]
    operations = [migrations.RunPython(add_tags, migrations.RunPython.noop)]
