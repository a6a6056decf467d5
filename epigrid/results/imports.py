"""The lab's own LIS export 检测结果 through the one import pipeline (core.imports), ledger
"lab-results", keyed by a lab rather than an area (jobs.imports.register_ledger(..., target=)).

Rows are cleaned by the same functions as the batch API (results.services.clean_row) and planned and
written by the same service halves (plan_results / apply_plan): one look-up query per 20,000
barcodes, new results inserted in bulk, the pipeline's one transaction. Rejected rows carry the
sheet's own row numbers; the same file twice changes nothing (every row unchanged)."""

import itertools

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from epigrid.core.imports import Outcome, Resource, RowInvalid
from epigrid.core.tabular import Column
from epigrid.jobs.imports import LedgerTarget, register_ledger
from epigrid.results import services
from epigrid.results.models import Result, Source
from epigrid.transport.models import Lab

COLUMNS = [
    Column(
        "barcode",
        "条码",
        (
            "条码",
            "条形码",
            "样本编号",
            "样本条码",
            "样本号",
            "试管编码",
            "试管条码",
            "试管编号",
            "管码",
            "管号",
            "混管条码",
            "混管编号",
            "采样管条码",
            "barcode",
            "tube",
            "sampleid",
            "sample_id",
        ),
        required=True,
    ),
    Column(
        "result",
        "检测结果",
        ("结果", "检测结果", "核酸结果", "核酸检测结果", "检验结果", "结果判定", "result", "testresult"),
        required=True,
    ),
    Column(
        "ct_orf1ab",
        "ORF1ab Ct",
        ("orf1ab", "orf1abct", "orf1abct值", "orf1ab基因", "orf1ab基因ct", "orf1ab基因ct值", "orf1ab值"),
    ),
    Column("ct_n", "N Ct", ("n", "nct", "nct值", "n基因", "n基因ct", "n基因ct值", "n值")),
    Column("tested_at", "检测时间", ("检测时间", "检测日期", "实验时间", "上机时间", "tested", "testedat")),
    Column(
        "reported_at",
        "报告时间",
        ("报告时间", "报告日期", "结果时间", "出结果时间", "审核时间", "发布时间", "reported", "reportedat"),
    ),
    Column("reason", "更正原因", ("更正原因", "修改原因", "更正说明", "复核说明", "reason")),
]


def lab_choices(user, permission):
    """Labs whose results `user` may import: every lab for a role holding the right unbound (or
    for the command without a user), else the labs whose staff the user is."""
    labs = Lab.objects.filter(is_active=True)
    if user is None or user.is_superuser:
        return labs
    if not user.has_scoped_perm(permission):
        return labs.none()
    if user.scope_paths(permission, bound=False) != []:  # None: every root
        return labs
    return labs.filter(staff=user)


class LabResultResource(Resource):
    """检测结果: one row per tube; `area` is the lab (the ledger's target)."""

    title = gettext_lazy("Lab results")
    columns = COLUMNS
    example = ["T000000001", "阴性", "", "", "2022-04-02 08:30", "2022-04-02 10:05", ""]
    preview_columns = ["条码", "检测结果", "ORF1ab Ct", "N Ct", "报告时间"]

    def __init__(self, user, area, **params):
        super().__init__(user, area, **params)
        self.lab = area
        self.now = timezone.now()
        self._keys = itertools.count()
        self.plan = None

    def bulk_import(self, fileobj, filename, **options):
        # A whole LIS file set-based on PostgreSQL (results.filelane); None: the row path.
        from epigrid.results import filelane

        return filelane.bulk_import(self, fileobj, filename, **options)

    def clean_row(self, raw):
        data, problems = services.clean_row(raw, self.now)
        if problems:
            raise RowInvalid([(self.header_of(name), message) for name, message in problems])
        return data

    def key(self, cleaned):
        # Every row is its own key: repeats of a tube are told apart by plan_results, which words
        # them for tubes (the pipeline's own message speaks of documents).
        return next(self._keys)

    def plan_rows(self, cleaned_rows):
        self.plan = services.plan_results(self.user, self.lab, cleaned_rows, self.now)
        outcomes, problems = [], []
        for row in self.plan.rows:
            if row.action == services.REFUSED:
                problems.append((row.ref, [(self.header_of(row.column), row.message)]))
            elif row.action == services.CREATED:
                outcomes.append(Outcome(row.ref, "create", row.data["barcode"], row.data))
            elif row.action in (services.UPDATED, services.CORRECTED):
                notes = (
                    [_("Correction: %(reason)s") % {"reason": row.data["reason"]}]
                    if row.data["reason"]
                    else []
                )
                if row.current:
                    notes.insert(0, _("was %(result)s") % {"result": Result(row.current[1]).label})
                outcomes.append(Outcome(row.ref, "update", row.data["barcode"], row.data, notes=notes))
            else:
                outcomes.append(
                    Outcome(row.ref, "unchanged", row.data["barcode"], row.data, notes=[row.message])
                )
        return outcomes, problems

    def write(self, outcomes):
        if self.plan is not None:
            services.apply_plan(self.plan, Source.IMPORT, job=self.params.get("job"))

    def preview_cells(self, raw, cleaned):
        if cleaned is None:
            return [
                str(raw.get(name) or "")[:40]
                for name in ("barcode", "result", "ct_orf1ab", "ct_n", "reported_at")
            ]
        reported = cleaned.get("reported_at")
        return [
            cleaned["barcode"],
            Result(cleaned["result"]).label,
            cleaned.get("ct_orf1ab") or "",
            cleaned.get("ct_n") or "",
            timezone.localtime(reported).strftime("%Y-%m-%d %H:%M") if reported else "",
        ]


PERMISSION = "results.add_tuberesult"
register_ledger(
    "lab-results",
    LabResultResource,
    PERMISSION,
    target=LedgerTarget(
        param="lab",
        label=gettext_lazy("Lab"),
        help_text=gettext_lazy("The lab whose results the file holds (its LIS export)."),
        choices=lab_choices,
    ),
)
