"""A round's delivery deadline (`Campaign.transport_hours`) lives on the round; each box stores the
due time it sets, for the board's indexed queries. When a round is saved with another deadline,
its boxes get their new due time here (the testing app knows nothing of boxes)."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from epigrid.testing.models import Campaign
from epigrid.transport import services


@receiver(post_save, sender=Campaign, dispatch_uid="transport_campaign_deadline")
def on_campaign_saved(sender, instance, created, raw=False, **kwargs):
    if not created and not raw:
        services.recompute_deadlines(instance)
