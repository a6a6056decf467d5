"""Counts per checkpoint and day (decision 0027): vehicles, persons, refusals, sent to testing or to
isolation, handed to communities, arrivals by origin risk — two grouped queries whatever the volume."""

from django.db.models import Count, Q
from django.db.models.functions import TruncDate

from epigrid.checkpoints.models import Decision, Passage

COLUMNS = (
    "persons",
    "refused",
    "testing",
    "isolation",
    "community",
    "arrivals_high",
    "arrivals_medium",
    "arrivals_low",
)


def daily(passages, vehicles):
    """[{checkpoint, name, day, vehicles, persons, refused, ...}] for the given (scoped, filtered)
    querysets, newest day first."""
    rows = {}
    per_person = (
        passages.order_by()
        .annotate(day=TruncDate("at"))
        .values("checkpoint_id", "checkpoint__name", "day")
        .annotate(
            persons=Count("id"),
            refused=Count("id", filter=Q(decision=Decision.REFUSE)),
            testing=Count("id", filter=Q(decision=Decision.TESTING)),
            isolation=Count("id", filter=Q(decision=Decision.ISOLATION)),
            community=Count("id", filter=Q(handed_to__isnull=False)),
            arrivals_high=Count("id", filter=Q(origin_risk=Passage.OriginRisk.HIGH)),
            arrivals_medium=Count("id", filter=Q(origin_risk=Passage.OriginRisk.MEDIUM)),
            arrivals_low=Count("id", filter=Q(origin_risk=Passage.OriginRisk.LOW)),
        )
    )
    for row in per_person:
        key = (row["checkpoint_id"], row["day"])
        rows[key] = {
            "checkpoint": row["checkpoint_id"],
            "name": row["checkpoint__name"],
            "day": row["day"],
            "vehicles": 0,
            **{c: row[c] for c in COLUMNS},
        }
    per_vehicle = (
        vehicles.order_by()
        .annotate(day=TruncDate("at"))
        .values("checkpoint_id", "checkpoint__name", "day")
        .annotate(n=Count("id"))
    )
    for row in per_vehicle:
        key = (row["checkpoint_id"], row["day"])
        rows.setdefault(
            key,
            {
                "checkpoint": row["checkpoint_id"],
                "name": row["checkpoint__name"],
                "day": row["day"],
                **dict.fromkeys(COLUMNS, 0),
            },
        )["vehicles"] = row["n"]
    return sorted(rows.values(), key=lambda r: (-r["day"].toordinal(), r["name"], r["checkpoint"]))


def totals(rows):
    return {c: sum(r[c] for r in rows) for c in ("vehicles", *COLUMNS)}
