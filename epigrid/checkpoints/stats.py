"""Counts per checkpoint and day (decision 0027): vehicles, persons, refusals, sent to testing or to
isolation, handed to communities, arrivals by origin risk, household-pass scans — three grouped
queries whatever the volume."""

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
PASS_COLUMNS = ("pass_exits", "pass_returns", "pass_refused")


def daily(passages, vehicles, pass_scans=None):
    """[{checkpoint, name, day, vehicles, persons, refused, ..., pass_exits, pass_returns,
    pass_refused}] for the given (scoped, filtered) querysets, newest day first. `pass_scans` is
    {(checkpoint id, day): counts} of household-pass scans at the same checkpoints
    (`passes.services.daily_scan_counts`)."""
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
            **dict.fromkeys(PASS_COLUMNS, 0),
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
                **dict.fromkeys(PASS_COLUMNS, 0),
            },
        )["vehicles"] = row["n"]
    names = None
    for (checkpoint, day), counts in (pass_scans or {}).items():
        if (checkpoint, day) not in rows:
            if names is None:
                from epigrid.checkpoints.models import Checkpoint

                names = dict(
                    Checkpoint.objects.filter(pk__in={c for c, _d in pass_scans}).values_list("pk", "name")
                )
            rows[(checkpoint, day)] = {
                "checkpoint": checkpoint,
                "name": names.get(checkpoint, ""),
                "day": day,
                "vehicles": 0,
                **dict.fromkeys(COLUMNS, 0),
            }
        rows[(checkpoint, day)].update(counts)
    return sorted(rows.values(), key=lambda r: (-r["day"].toordinal(), r["name"], r["checkpoint"]))


def totals(rows):
    return {c: sum(r.get(c, 0) for r in rows) for c in ("vehicles", *COLUMNS, *PASS_COLUMNS)}


def pass_scans(checkpoints, start, end):
    """The household-pass scans at `checkpoints` per day, through passes' named service."""
    from epigrid.passes.services import daily_scan_counts

    return daily_scan_counts(checkpoints, start, end)
