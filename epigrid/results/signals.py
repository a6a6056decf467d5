"""The hook the follow-up work listens to (pooled-positive fan-out, single-tube retests, resampling
an invalid tube; built next, in its own app).

`results_changed` is sent by `results.services.apply_plan` inside the transaction that writes the
results, once per batch, with:
  lab      the transport.Lab that reported;
  changes  [ResultChange]: every tube whose result became pooled positive, positive or invalid, or
           stopped being one of them (a correction: its consequences must follow);
  source   results.models.Source of the batch.
A receiver runs in the same transaction: what it writes commits with the results or not at all,
and an exception it raises refuses the whole batch. It must work in bulk (one batch may flag
thousands of tubes), e.g. with `results.services.tube_persons` per flagged tube only.

`results_recorded` is sent right after it, in the same transaction, with every tube whose result
was stored (created, updated from pending, corrected), flagged or not:
  lab       the transport.Lab; source as above;
  recorded  [(tube id, barcode, result)] — up to a whole LIS file's million rows: a receiver
            intersects it with the few tubes it waits for (single-tube retests) rather than
            querying per row. Only built when something listens. A file taken set-based
            (results.filelane) sends an iterable that also answers `matching(tube_ids, barcodes)`
            from the database: use it when present."""

from dataclasses import dataclass

from django.dispatch import Signal

results_changed = Signal()
results_recorded = Signal()


@dataclass(frozen=True)
class ResultChange:
    tube_id: int
    result: str  # results.models.Result
    before: str | None  # the result stored before, None for a first result
    corrected: bool  # a correction (with a reason) rather than a first or a pending → final result
