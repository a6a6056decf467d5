"""Ships the catalogue of the daily supply-and-price report (epigrid/markets/catalogue.json)."""

from django.db import migrations


def load(apps, schema_editor):
    from epigrid.markets.services import load_catalogue

    load_catalogue(apps.get_model("markets", "Commodity"))


class Migration(migrations.Migration):
    dependencies = [("markets", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
