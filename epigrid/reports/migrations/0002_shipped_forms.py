"""Ships the forms in epigrid/reports/forms/*.json: the community daily report and the zero report
(`epigrid report_forms` reloads them after an edit of the files)."""

from django.db import migrations


def load(apps, schema_editor):
    from epigrid.reports.services import load_shipped_forms

    load_shipped_forms(apps.get_model("reports", "ReportForm"))


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
