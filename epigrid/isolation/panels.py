"""Today's work (/control/today/) heads with the persons back home from an isolation site whom the
community has not received yet (core.panels, decision 0016 addendum; decision 0024 addendum:
release). Read through control's entries (services.homecomings): the receiving community and grid
are the entry's area, which sees no isolation site."""

from django.db.models import Count

from epigrid.areas.models import Level

BANNER_ROWS = 20


def homecomings(request, area, held_here, now):
    from epigrid.isolation import services

    rows = services.awaiting_home(request.user, area)
    if area is None or (area.level != Level.GRID and not held_here):
        # A roll-up: a count per responsible area, most first (one grouped query).
        counts = list(
            rows.order_by()
            .values(
                "home_step__key_person__area__code",
                "home_step__key_person__area__name",
                "home_step__key_person__area__parent__name",
            )
            .annotate(n=Count("id"))
            .order_by("-n", "home_step__key_person__area__code")
        )
        if not counts:
            return None
        return {
            "home_counts": [
                {
                    "code": c["home_step__key_person__area__code"],
                    "name": c["home_step__key_person__area__name"],
                    "parent": c["home_step__key_person__area__parent__name"],
                    "n": c["n"],
                }
                for c in counts[:BANNER_ROWS]
            ],
            "home_total": sum(c["n"] for c in counts),
        }
    stays = list(rows.select_related("person", "site", "home_step")[: BANNER_ROWS + 1])
    if not stays:
        return None
    return {"home_stays": stays[:BANNER_ROWS], "home_more": len(stays) > BANNER_ROWS, "now": now}
