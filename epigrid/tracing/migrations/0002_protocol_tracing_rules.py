"""The shipped protocols' tracing section (look-back window, deadlines) for databases that loaded
them before it existed (control/migrations/0002 reads the JSON files of its day). Only a missing
section is added: a protocol's other rules are never touched."""

import json
from pathlib import Path

from django.db import migrations

PROTOCOL_DIR = Path(__file__).resolve().parent.parent.parent / "control" / "protocols"


def add_section(apps, schema_editor):
    Protocol = apps.get_model("control", "Protocol")
    shipped = {}
    for path in PROTOCOL_DIR.glob("*.json"):
        rules = json.loads(path.read_text(encoding="utf-8"))
        shipped[rules["code"]] = rules["tracing"]
    for protocol in Protocol.objects.filter(code__in=shipped):
        if "tracing" not in protocol.rules:
            protocol.rules = {**protocol.rules, "tracing": shipped[protocol.code]}
            protocol.save(update_fields=["rules"])


class Migration(migrations.Migration):
    dependencies = [("tracing", "0001_initial"), ("control", "0010_checkin_time_index")]
    operations = [migrations.RunPython(add_section, migrations.RunPython.noop)]
