"""Import ledger "assist-persons" 协查人员名单: the requester's list of persons through the one
pipeline (core.imports), into a request chosen as the import's target (`LedgerTarget` "request":
the upload form's choice, `epigrid import assist-persons FILE --request <id>`). The request itself
(requester, reference number, receipt, origin) is entered on its page first: a letter's
details are not in the list its city sends.

- Each row is cleaned as people's ledgers clean persons (`check_identity`: a resident ID by check
  digit and birth date, never its region code; other documents as given; Excel-mangled numbers
  refused; phones to E.164), the category by control's names (密接, 次密接, 时空伴随者, 中风险区
  来返人员 ...), 末次暴露时间 to a day not in the future.
- The key is the document: a document already on the request is unchanged (the same file twice
  changes nothing, and an answered row is never touched by a file); the same document twice in the
  file with other details is refused with both rows' numbers.
- Valid rows are written together through `assistance.services.add_persons` in the pipeline's one
  transaction (decision 0007); bad rows are reported with the sheet's own row numbers.
"""

from django.db.models import CharField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from epigrid.assistance import services
from epigrid.assistance.models import AssistRequest
from epigrid.control.imports import CATEGORY_LABELS, parse_category
from epigrid.core.imports import Outcome, Resource, RowCheck
from epigrid.core.tabular import CellError, Column, cell_datetime, cell_text
from epigrid.jobs.imports import LedgerTarget, register_ledger
from epigrid.people.imports import charge_near_misses, check_identity, person_cells, person_columns

PERMISSION = services.ADD_PERSON

COLUMNS = [
    Column("number", "序号", ("序号", "编号", "No", "NO")),
    Column("name", "姓名", ("姓名", "名字", "人员姓名"), required=True),
    Column("doc_type", "证件类型", ("证件类型", "证件种类")),
    Column(
        "doc_number",
        "证件号码",
        ("证件号码", "证件号", "身份证号", "身份证号码", "公民身份号码", "身份证"),
        required=True,
    ),
    Column("phone", "联系电话", ("联系电话", "电话", "手机号", "手机号码", "联系方式")),
    Column(
        "category",
        "人员类别",
        ("人员类别", "协查原因", "人员类型", "人群类别", "类别", "风险类别"),
        required=True,
    ),
    Column(
        "exposure_on",
        "末次暴露时间",
        ("末次暴露时间", "末次暴露日期", "末次接触时间", "最后接触时间", "暴露时间", "抵达时间", "来返时间"),
    ),
    Column("address", "地址", ("地址", "住址", "现住址", "居住地址", "协查地址", "落脚点")),
    Column("request_note", "备注", ("备注", "说明", "情况说明")),
]
EXAMPLE = [
    "1",
    "张三",
    "居民身份证",
    "11010519491231002X",
    "13812345678",
    "密切接触者",
    "2022-11-18",
    "城关区雁滩路2188号",
    "",
]


def request_choices(user, permission):
    """The requests whose list `user` may import (every request for the command without --user),
    named by their id: the pipeline picks a target by `code` and shows its `name`."""
    requests = (
        AssistRequest.objects.all() if user is None else AssistRequest.objects.restrict(user, perm=permission)
    )
    return requests.annotate(code=Cast("pk", output_field=CharField())).order_by("-received_at", "-pk")


def _day(value):
    moment = cell_datetime(value)
    if moment is None:
        return None
    day = timezone.localtime(moment).date()
    if day > timezone.localdate():
        raise CellError(_("%(date)s is in the future.") % {"date": day.isoformat()})
    return day


class AssistPersonResource(Resource):
    """协查人员名单: 序号, 姓名, 证件类型, 证件号码, 联系电话, 人员类别, 末次暴露时间, 地址, 备注."""

    title = "协查人员名单"
    permission = PERMISSION
    columns = COLUMNS
    example = EXAMPLE

    def __init__(self, user, request, **params):
        super().__init__(user, request, **params)
        self.request = request

    def clean_row(self, raw):
        check = RowCheck(self, raw)
        data = check.data
        check_identity(check, empty_phone="")
        check("category", parse_category)
        check("exposure_on", _day)
        for field, length in (("address", 200), ("request_note", 500)):
            text = cell_text(raw.get(field))
            if len(text) > length:
                check.problem(
                    field,
                    _("%(column)s is longer than %(n)d characters.")
                    % {"column": self.header_of(field), "n": length},
                )
            data[field] = text
        return check.finish()

    def key(self, cleaned):
        return (cleaned["doc_type"], cleaned["doc_number"])

    def plan_rows(self, cleaned_rows):
        on_list = {(p.doc_type, p.doc_number) for p in self.request.persons.all()}
        charge_near_misses(
            self.user, [c["doc_number"] for _row, c in cleaned_rows if self.key(c) not in on_list]
        )
        outcomes = []
        for row, data in cleaned_rows:
            if self.key(data) in on_list:
                outcome = Outcome(row, "unchanged", self.key(data), {})
                outcome.notes.append(_("Already on this request"))
            else:
                outcome = Outcome(row, "create", self.key(data), data)
            outcomes.append(outcome)
        return outcomes, []

    @property
    def preview_columns(self):
        return [*person_columns(), self.header_of("category")]

    def preview_cells(self, raw, cleaned):
        category = (
            CATEGORY_LABELS.get(cleaned["category"], cleaned["category"])
            if cleaned is not None
            else cell_text(raw.get("category"))
        )
        return [*person_cells(raw, cleaned), category]

    def write(self, outcomes):
        rows = [o.data for o in sorted(outcomes, key=lambda o: o.row) if o.action == "create"]
        if rows:
            services.add_persons(self.user, AssistRequest.objects.get(pk=self.request.pk), rows)


register_ledger(
    "assist-persons",
    AssistPersonResource,
    PERMISSION,
    target=LedgerTarget(
        param="request",
        label=gettext_lazy("Assistance request"),
        help_text=gettext_lazy("The request whose list of persons the file holds."),
        choices=request_choices,
    ),
)
