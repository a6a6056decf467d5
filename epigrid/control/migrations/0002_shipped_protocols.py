import datetime
import json
from pathlib import Path

from django.db import migrations

PROTOCOL_DIR = Path(__file__).resolve().parent.parent / "protocols"
ACTIVE = "v9"  # docs/decisions/0011-protocols-as-data.md


def load(apps, schema_editor):
    Protocol = apps.get_model("control", "Protocol")
    for path in sorted(PROTOCOL_DIR.glob("*.json")):
        rules = json.loads(path.read_text(encoding="utf-8"))
        Protocol.objects.update_or_create(
            code=rules["code"],
            defaults={
                "name": rules["name"],
                "short_name": rules["short_name"],
                "published": datetime.date.fromisoformat(rules["published"]),
                "rules": rules,
                "is_active": rules["code"] == ACTIVE,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("control", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
