"""The receiver of results.signals.results_changed: runs inside the results' transaction."""

from epigrid.results.models import Result
from epigrid.retests import services
from epigrid.retests.models import Kind

_KINDS = {Result.POOLED_POSITIVE: Kind.POOLED_POSITIVE, Result.INVALID: Kind.INVALID}


def on_results_changed(sender, lab=None, changes=(), source=None, **kwargs):
    for change in changes:
        before = _KINDS.get(change.before)
        after = _KINDS.get(change.result)
        if before is not None and before != after:
            services.cancel_follow_up(change.tube_id, before, Result(change.result).label)
        if after is not None:
            services.open_follow_up(change.tube_id, after)
