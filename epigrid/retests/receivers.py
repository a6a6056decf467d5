"""The receivers of results.signals: both run inside the results' transaction (what they write
commits with the results or not at all)."""

from epigrid.results.models import Result
from epigrid.retests import services
from epigrid.retests.models import Kind

_KINDS = {Result.POOLED_POSITIVE: Kind.POOLED_POSITIVE, Result.INVALID: Kind.INVALID}


def on_results_changed(sender, lab=None, changes=(), source=None, **kwargs):
    flagged = []
    for change in changes:
        before = _KINDS.get(change.before)
        after = _KINDS.get(change.result)
        if before is not None and before != after:
            services.cancel_follow_up(change.tube_id, before, Result(change.result).label)
        if after is not None:
            flagged.append((change.tube_id, after))
    # All at once: a LIS file may flag thousands of tubes (a few queries, not a few per tube).
    services.open_follow_ups(flagged)


def on_results_recorded(sender, lab=None, recorded=(), source=None, **kwargs):
    # A retest tube's own negative or positive result ends the tasks waiting for it.
    services.apply_lab_results(recorded)
