"""The enterprise daily report 复工企业疫情防控日报, shipped as JSON (report_forms/) and loaded
through the reports app's loader (decision 0033)."""

from pathlib import Path

from django.db import migrations

FORMS = Path(__file__).resolve().parent.parent / "report_forms"


def load(apps, schema_editor):
    from epigrid.reports.services import load_shipped_forms

    load_shipped_forms(apps.get_model("reports", "ReportForm"), directory=FORMS)


def unload(apps, schema_editor):
    apps.get_model("reports", "ReportForm").objects.filter(code="enterprise_daily", submissions__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("enterprises", "0002_employee_card_questions"), ("reports", "0003_report_senders")]
    operations = [migrations.RunPython(load, unload)]
