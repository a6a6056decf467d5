"""Import ledger "special-groups" 特殊人群台账 through the one pipeline (core.imports): persons of the
registry by their ID number (never created here: a person new to the registry comes in through the
resident ledger first, with their household), their group and its details. Registering again the
same person and group updates the entry; an identical row is unchanged. Bad rows are reported with
the sheet's row numbers; valid rows are written in the pipeline's one transaction through
homeservices.services.register_care (the vulnerable tag with it)."""

import datetime

from django.utils.translation import gettext as _

from epigrid.core.imports import Outcome, Resource, RowCheck
from epigrid.core.tabular import CellError, Column, cell_date, cell_text
from epigrid.homeservices import services
from epigrid.homeservices.exports import GROUP_LABELS
from epigrid.homeservices.models import SpecialCare
from epigrid.jobs.imports import register_ledger
from epigrid.people.imports import (
    ResidentResource,
    another_area,
    charge_near_misses,
    check_identity,
    person_cells,
    person_columns,
)
from epigrid.people.models import Person

PERMISSION = "homeservices.add_specialcare"
GROUPS = {label: code for code, label in GROUP_LABELS.items()} | {
    "独居": "elderly_alone",
    "残疾": "disabled",
    "孕妇": "pregnant",
    "透析": "dialysis",
    "化疗": "chemotherapy",
    "放疗": "chemotherapy",
}
COLUMNS = [
    Column("name", "姓名", ("姓名", "名字"), required=True),
    Column("doc_type", "证件类型", ("证件类型",)),
    Column("doc_number", "身份证", ("身份证", "身份证号", "身份证号码", "证件号码"), required=True),
    Column("group", "类别", ("类别", "人群类别", "特殊人群类别"), required=True),
    Column("due_date", "预产期", ("预产期",)),
    Column("treatment_days", "治疗日", ("治疗日", "透析日", "治疗星期")),
    Column("treatment_time", "治疗时间", ("治疗时间",)),
    Column("hospital", "医院", ("医院", "治疗医院")),
    Column("visit_every_days", "探视间隔天数", ("探视间隔天数", "探视间隔")),
    Column("notes", "备注", ("备注",)),
    Column("phone", "联系电话", ("联系电话", "手机号")),
]
EXAMPLE = ["张三", "", "11010519491231002X", "透析患者", "", "1,3,5", "08:00", "市第一人民医院", "1", "", ""]
FIELDS = ("due_date", "treatment_days", "treatment_time", "hospital", "visit_every_days", "notes")


def _group(value):
    text = cell_text(value)
    if text in GROUPS:
        return GROUPS[text]
    if text in GROUP_LABELS:
        return text
    raise CellError(
        _("“%(value)s” is not a special group (%(known)s).")
        % {"value": text[:20], "known": "、".join(GROUP_LABELS.values())}
    )


def _days(value):
    text = cell_text(value).replace("，", ",").replace("、", ",").replace(" ", "")
    if text and not all(d in "1234567" and d for d in text.split(",")):
        raise CellError(_("Treatment days are weekdays 1-7 separated by commas."))
    return text


def _time(value):
    text = cell_text(value)
    if not text:
        return None
    try:
        return datetime.time.fromisoformat(text.replace("：", ":").zfill(5))
    except ValueError:
        raise CellError(_("“%(value)s” is not a time like 08:00.") % {"value": text[:10]}) from None


def _every(value):
    text = cell_text(value)
    if not text:
        return 1
    if not text.isdigit() or not 1 <= int(text) <= 30:
        raise CellError(_("The visit interval is a number of days from 1 to 30."))
    return int(text)


class SpecialCareResource(Resource):
    title = "特殊人群台账"
    permission = PERMISSION
    columns = COLUMNS
    example = EXAMPLE

    def clean_row(self, raw):
        check = RowCheck(self, raw)
        check_identity(check, empty_phone="")
        check("group", _group)
        check("due_date", cell_date)
        check("treatment_days", _days)
        check("treatment_time", _time)
        check("visit_every_days", _every)
        data = check.data
        for field, length in (("hospital", 100), ("notes", 200)):
            data[field] = cell_text(raw.get(field))[:length]
        if not check.problems and data["group"] == "pregnant" and not data["due_date"]:
            check.problem("due_date", _("Give the due date."))
        if (
            not check.problems
            and data["group"] in ("dialysis", "chemotherapy")
            and not data["treatment_days"]
        ):
            check.problem("treatment_days", _("Give the treatment days."))
        return check.finish()

    def key(self, cleaned):
        return (cleaned["doc_type"], cleaned["doc_number"], cleaned["group"])

    def plan_rows(self, cleaned_rows):
        persons = ResidentResource(self.user, self.area)._existing(
            [(c["doc_type"], c["doc_number"]) for _row, c in cleaned_rows]
        )
        visible = Person.objects.filter(pk__in=[p.pk for p in persons.values()])
        if self.user is not None:
            visible = visible.restrict(self.user, "view")
        visible = set(visible.values_list("pk", flat=True))
        charge_near_misses(
            self.user,
            [c["doc_number"] for _row, c in cleaned_rows if (c["doc_type"], c["doc_number"]) not in persons],
        )
        existing = {
            (c.person_id, c.group): c
            for c in SpecialCare.objects.filter(person_id__in=[p.pk for p in persons.values()])
        }
        outcomes, problems = [], []
        for row, data in cleaned_rows:
            person = persons.get((data["doc_type"], data["doc_number"]))
            if person is None:
                problems.append(
                    (
                        row,
                        [
                            (
                                self.header_of("doc_number"),
                                _("Not in the registry: register the resident first."),
                            )
                        ],
                    )
                )
                continue
            if person.pk not in visible:
                problems.append((row, [(self.header_of("doc_number"), another_area())]))
                continue
            if person.household_id is None:
                problems.append(
                    (row, [(self.header_of("doc_number"), _("The person has no household in the registry."))])
                )
                continue
            care = existing.get((person.pk, data["group"]))
            values = {f: data[f] for f in FIELDS}
            if care is not None and all(getattr(care, f) == v for f, v in values.items()) and care.active:
                outcomes.append(Outcome(row, "unchanged", self.key(data), {}, care))
                continue
            action = "update" if care is not None else "create"
            outcomes.append(
                Outcome(
                    row, action, self.key(data), {**values, "person": person, "group": data["group"]}, care
                )
            )
        return outcomes, problems

    @property
    def preview_columns(self):
        return [*person_columns(), self.header_of("group")]

    def preview_cells(self, raw, cleaned):
        group = GROUP_LABELS.get(cleaned["group"]) if cleaned else cell_text(raw.get("group"))
        return [*person_cells(raw, cleaned), group]

    def write(self, outcomes):
        for o in sorted(outcomes, key=lambda o: o.row):
            if o.action not in ("create", "update"):
                continue
            data = dict(o.data)
            person, group = data.pop("person"), data.pop("group")
            services.register_care(self.user, person, group, active=True, **data)


register_ledger("special-groups", SpecialCareResource, PERMISSION)
