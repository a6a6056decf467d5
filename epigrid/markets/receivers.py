"""An outlet's report sent or corrected anywhere — the reports app's own page, its API, a retry —
raises or clears its alerts once the report is committed (markets.services.evaluate is idempotent,
so the path through `submit_report`, which evaluates at once, changes nothing more)."""

from django.db import transaction


def evaluate_outlet_report(sender, instance, **kwargs):
    if instance.sender_id is None:
        return
    from epigrid.markets import reporting

    if instance.form.code != reporting.FORM_CODE:
        return
    outlet_id, day = instance.sender_id, instance.day

    def evaluate():
        from epigrid.markets import services
        from epigrid.markets.models import Outlet

        outlet = Outlet.objects.filter(pk=outlet_id).select_related("area").first()
        if outlet is not None:
            services.evaluate(outlet, day)

    transaction.on_commit(evaluate)
