"""The employee card 一人一卡 asks the questions of the protocol version in force (decision 0034).
The shipped protocols gained an "employee_card" list; a database whose protocol rows were loaded
before that gets the list added to the rows that lack it — the same list the files ship, nothing
else of a rule set is touched (plans and zones do not read it)."""

import json
from pathlib import Path

from django.db import migrations

PROTOCOL_DIR = Path(__file__).resolve().parent.parent.parent / "control" / "protocols"


def add_questions(apps, schema_editor):
    Protocol = apps.get_model("control", "Protocol")
    for path in sorted(PROTOCOL_DIR.glob("*.json")):
        shipped = json.loads(path.read_text(encoding="utf-8"))
        if "employee_card" not in shipped:
            continue
        for protocol in Protocol.objects.filter(code=shipped["code"]):
            rules = dict(protocol.rules or {})
            if "employee_card" not in rules:
                rules["employee_card"] = shipped["employee_card"]
                Protocol.objects.filter(pk=protocol.pk).update(rules=rules)


class Migration(migrations.Migration):
    dependencies = [("enterprises", "0001_initial"), ("control", "0002_shipped_protocols")]
    operations = [migrations.RunPython(add_questions, migrations.RunPython.noop)]
