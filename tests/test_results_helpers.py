"""Lab-results additions to the cast (on top of tests.transport_cast.Transport): tubes filled at a
point, boxed and received at a lab, ready for their results. No tests here."""

import csv
import io

from epigrid.results import services
from tests.transport_cast import Transport


class Lab:
    def __init__(self, cast):
        self.cast = cast
        self.tp = getattr(cast, "transport", None) or Transport(cast)
        cast.results = self

    def delivered(self, grid=None, tubes=1, persons=1, **tube_fields):
        """Tubes filled at grid's point and received at its lab (grid A → lab A, grid B → lab B)."""
        box = self.tp.box(grid, tubes=tubes, step="received", persons=persons, **tube_fields)
        return [bt.tube for bt in box.tubes.select_related("tube").order_by("id")]

    def record(self, tube, result="negative", user=None, lab=None, **fields):
        user = user or self.tp.lab_user
        lab = lab or self.tp.lab_a
        (outcome,) = services.record_results(
            user, lab, [{"barcode": tube.barcode, "result": result, **fields}], "api"
        )
        return outcome


def lab(cast):
    return getattr(cast, "results", None) or Lab(cast)


def csv_bytes(rows, encoding="utf-8"):
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)
