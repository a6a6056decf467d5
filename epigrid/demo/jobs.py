"""A few finished jobs of the demo users, run through the real pipeline (jobs.imports,
jobs.exports, jobs.services.execute) while the demo is built, so the job pages, the downloads and
the audit log hold what a day's office work leaves behind:

- the community officer previewed a CDC tracing list (协查名单, an xlsx of the key-person ledger:
  a few close contacts of the showcase grid and one mistyped ID), then imported it: the contacts
  are registered by `control.services.register_key_person`, the bad row comes back in the error
  report of both jobs;
- the community officer exported the key-person ledger, the grid worker the residents (masked).

Jobs run here synchronously (`execute`) inside the build's transaction; the "run job" message
`submit` queues on commit then finds them finished and does nothing.
"""

import datetime
import io

from django.core.files.base import ContentFile
from django.db.models import Count

from epigrid.control import plans
from epigrid.control.imports import CATEGORY_LABELS, COLUMNS, MEASURE_LABELS
from epigrid.core.tabular import write_xlsx
from epigrid.demo import data
from epigrid.demo.plan import age_on
from epigrid.jobs.exports import start_export
from epigrid.jobs.imports import confirm_preview, start_import
from epigrid.jobs.models import Job, Status
from epigrid.jobs.services import execute

CHECK_CHARACTERS = "10X98765432"


class JobError(Exception):
    pass


def run_jobs(users, community, persons, rules, rng, today):
    """Run the demo's jobs; `persons` are residents of the showcase grid who may be listed (not
    in the ledger yet). Returns the jobs, finished."""
    community_user, grid_user = users.get("community_officer"), users.get("grid_worker")
    jobs = []
    category = "close_contact" if plans.is_traced(rules, "close_contact") else None
    adults = [p for p in persons if p.doc_type == "111" and age_on(p.birth_date, today) >= 18]
    if community_user is not None and category and len(adults) >= data.IMPORT_ROWS + 1:
        listed = rng.sample(adults, data.IMPORT_ROWS + 1)
        upload = ContentFile(_tracing_list(listed, category, rules, rng, today), name=data.IMPORT_FILENAME)
        preview = _finished(
            start_import(community_user, "keypersons", community, upload=upload, dry_run=True)
        )
        job, _created = confirm_preview(community_user, preview)
        jobs += [preview, _finished(job)]
    if community_user is not None:
        jobs.append(_finished(start_export(community_user, "keypersons", "")))
    if grid_user is not None:
        jobs.append(_finished(start_export(grid_user, "persons", "")))
    return jobs


def _finished(job):
    execute(job.pk)
    job.refresh_from_db()
    if job.status != Status.SUCCEEDED:
        raise JobError(f"demo job {job.title!r} ended {job.status}: {job.message}")
    return job


def _tracing_list(persons, category, rules, rng, today):
    """The xlsx a CDC sends: the ledger's own headers, a row per contact; the last person's ID
    with a wrong check character (its row is rejected)."""
    last_exposure = today - datetime.timedelta(days=1)
    kinds = "+".join(MEASURE_LABELS[s.measure] for s in plans.plan(rules, category, last_exposure))
    rows = []
    for index, person in enumerate(persons):
        household = person.household
        doc_number = person.doc_number
        if index == len(persons) - 1:
            wrong = [c for c in CHECK_CHARACTERS if c != doc_number[-1]]
            doc_number = doc_number[:-1] + rng.choice(wrong)
        values = {
            "name": person.name,
            "doc_type": "居民身份证",
            "doc_number": doc_number,
            "phone": person.phone.removeprefix("+86"),
            "address": f"{household.building.name}{household.unit}单元{household.room}",
            "origin": data.IMPORT_ORIGIN,
            "category": CATEGORY_LABELS[category],
            "measure": kinds,
            "last_exposure": last_exposure,
            "notes": data.ASSISTANCE_NOTE,
        }
        rows.append([values.get(column.field, "") for column in COLUMNS])
    buffer = io.BytesIO()
    write_xlsx(buffer, [c.header for c in COLUMNS], rows, sheet_name="协查名单", text_columns={2, 3})
    return buffer.getvalue()


def job_counts():
    """Finished, failed ... jobs by kind."""
    counts = {}
    for kind, status, n in (
        Job.objects.values_list("kind", "status").order_by("kind", "status").annotate(n=Count("pk"))
    ):
        counts.setdefault(kind, {})[status] = n
    return counts
