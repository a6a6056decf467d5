"""Import ledgers through the one pipeline (core.imports):

- "enterprises" 复工企业台账, under an area: the natural key is the unified social credit code
  (checked by its check character); a code already registered in the user's scope is updated, one
  registered elsewhere is refused with what to do; the area column (a code) must lie inside the
  import's area (empty: the import's area).
- "enterprise-staff" 企业员工名录, into an enterprise (`LedgerTarget` "enterprise"): each row names a
  person by document; the person is found in the registry (`people.services.find_by_document`),
  never created or retyped: a document not in the registry is a row error saying what to do, and a
  name that is not the registry's name for that document is refused (a typo would link the wrong
  person). The exact look-ups are charged to a role that may not reveal (decision 0015).

Valid rows are written together in the pipeline's one transaction (decision 0007); bad rows are
reported with the sheet's own row numbers."""

from django.db.models import CharField
from django.db.models.functions import Cast
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from epigrid.areas.models import Area
from epigrid.core import identity
from epigrid.core.imports import Outcome, Resource, RowCheck
from epigrid.core.tabular import CellError, Column, TableReadError, cell_identifier, cell_text
from epigrid.enterprises import services
from epigrid.enterprises.models import Employee, Enterprise, Phase, clean_uscc
from epigrid.jobs.imports import LedgerTarget, register_ledger
from epigrid.people import services as people
from epigrid.people.imports import clean_doc_type, clean_name

KINDS = {
    "企业": Enterprise.Kind.ENTERPRISE,
    "工地": Enterprise.Kind.SITE,
    "建筑工地": Enterprise.Kind.SITE,
    "施工工地": Enterprise.Kind.SITE,
    "enterprise": Enterprise.Kind.ENTERPRISE,
    "site": Enterprise.Kind.SITE,
}
SIZES = {
    "规上": Enterprise.Size.ABOVE,
    "规模以上": Enterprise.Size.ABOVE,
    "规下": Enterprise.Size.BELOW,
    "规模以下": Enterprise.Size.BELOW,
    "above": Enterprise.Size.ABOVE,
    "below": Enterprise.Size.BELOW,
}

ENTERPRISE_COLUMNS = [
    Column("name", "企业名称", ("企业名称", "单位名称", "名称", "工地名称", "项目名称"), required=True),
    Column(
        "uscc", "统一社会信用代码", ("统一社会信用代码", "信用代码", "社会信用代码", "USCC"), required=True
    ),
    Column("kind", "类型", ("类型", "企业类型", "单位类型")),
    Column("size", "规模", ("规模", "企业规模", "规上规下")),
    Column("industry", "行业", ("行业", "所属行业")),
    Column("phase", "复工批次", ("复工批次", "批次", "复工分类")),
    Column("area", "所属区域代码", ("所属区域代码", "区域代码", "所属社区代码")),
    Column("address", "地址", ("地址", "企业地址", "经营地址")),
    Column("contact_name", "联系人", ("联系人", "联系人姓名")),
    Column("contact_phone", "联系电话", ("联系电话", "电话", "手机号", "联系方式")),
    Column("prevention_lead", "防疫负责人", ("防疫负责人", "疫情防控负责人", "防控负责人")),
]


def _choice(mapping, label):
    def clean(value):
        text = cell_text(value)
        if not text:
            return None
        if text not in mapping:
            raise CellError(_("Unknown %(what)s “%(value)s”.") % {"what": label, "value": text})
        return mapping[text]

    return clean


def _limited(length, header):
    def clean(value):
        text = cell_text(value)
        if len(text) > length:
            raise CellError(
                _("%(column)s is longer than %(n)d characters.") % {"column": header, "n": length}
            )
        return text

    return clean


class EnterpriseResource(Resource):
    """复工企业台账: 企业名称, 统一社会信用代码, 类型, 规模, 行业, 复工批次, 所属区域代码, 地址, 联系人, 联系电话, 防疫负责人."""

    title = "复工企业台账"
    permission = "enterprises.add_enterprise"
    columns = ENTERPRISE_COLUMNS
    example = [
        "兰州九州建材有限公司",
        "91620102MA7123456T",
        "企业",
        "规上",
        "建材",
        "",
        "",
        "城关区九州大道88号",
        "王经理",
        "13812345678",
        "李安全",
    ]
    preview_columns = ["企业名称", "统一社会信用代码", "所属区域代码", "联系电话"]

    def __init__(self, user, area, **params):
        super().__init__(user, area, **params)
        self.phases = {}
        for phase in Phase.objects.all():
            self.phases[phase.code] = phase
            self.phases[phase.name] = phase

    def clean_row(self, raw):
        check = RowCheck(self, raw)
        data = check.data
        check("name", _limited(100, "企业名称"))
        if "name" in data and not data["name"]:
            check.problem("name", _("The name is missing."))
        check("uscc", lambda v: clean_uscc(cell_identifier(v)))
        check("kind", _choice(KINDS, "类型"))
        check("size", _choice(SIZES, "规模"))
        check("industry", _limited(60, "行业"))
        check("phase", self._phase)
        check("area", self._area)
        check("address", _limited(200, "地址"))
        check("contact_name", _limited(64, "联系人"))
        check("contact_phone", lambda v: identity.normalise_phone(cell_identifier(v)) if cell_text(v) else "")
        check("prevention_lead", _limited(64, "防疫负责人"))
        return check.finish()

    def _phase(self, value):
        text = cell_text(value)
        if not text:
            return None
        if text not in self.phases:
            raise CellError(_("Unknown return phase “%(value)s”.") % {"value": text})
        return self.phases[text].pk

    def _area(self, value):
        code = cell_text(value)
        if not code:
            return self.area.pk
        area = Area.objects.filter(code=code, path__startswith=self.area.path).first()
        if area is None:
            raise CellError(
                _("Area %(code)s is not inside %(area)s.") % {"code": code, "area": self.area.name}
            )
        return area.pk

    def key(self, cleaned):
        return cleaned["uscc"]

    def plan_rows(self, cleaned_rows):
        codes = [c["uscc"] for _row, c in cleaned_rows]
        existing = {e.uscc: e for e in Enterprise.objects.filter(uscc__in=codes)}
        writable = (
            set(
                Enterprise.objects.restrict(self.user, "change")
                .filter(uscc__in=codes)
                .values_list("uscc", flat=True)
            )
            if self.user is not None
            else set(existing)
        )
        outcomes, problems = [], []
        for row, data in cleaned_rows:
            values = self._values(data)
            found = existing.get(data["uscc"])
            if found is None:
                outcomes.append(Outcome(row, "create", data["uscc"], values))
            elif found.uscc not in writable:
                problems.append(
                    (
                        row,
                        [
                            (
                                "统一社会信用代码",
                                _(
                                    "This enterprise is registered in another area; ask that area to change it."
                                ),
                            )
                        ],
                    )
                )
            elif all(
                getattr(found, f"{k}_id" if k in ("area", "phase") else k) == v for k, v in values.items()
            ):
                outcomes.append(Outcome(row, "unchanged", data["uscc"], values, target=found))
            else:
                outcomes.append(Outcome(row, "update", data["uscc"], values, target=found))
        return outcomes, problems

    def _values(self, data):
        values = {k: v for k, v in data.items() if v is not None}
        values.setdefault("kind", Enterprise.Kind.ENTERPRISE)
        values.setdefault("size", Enterprise.Size.BELOW)
        values["area"] = values.pop("area")
        if "phase" in data:
            values["phase"] = data["phase"]
        return values

    def preview_cells(self, raw, cleaned):
        if cleaned is None:
            return [cell_text(raw.get("name")), cell_text(raw.get("uscc")), cell_text(raw.get("area")), ""]
        phone = cleaned.get("contact_phone")
        return [
            cleaned["name"],
            cleaned["uscc"],
            cell_text(raw.get("area")),
            identity.mask_phone(phone) if phone else "",
        ]

    def write(self, outcomes):
        for outcome in sorted(outcomes, key=lambda o: o.row):
            values = {f"{k}_id" if k in ("area", "phase") else k: v for k, v in outcome.data.items()}
            if outcome.action == "create":
                Enterprise.objects.create(**values)
            elif outcome.action == "update":
                target = Enterprise.objects.get(pk=outcome.target.pk)
                for name, value in values.items():
                    setattr(target, name, value)
                target.save()


STAFF_COLUMNS = [
    Column("name", "姓名", ("姓名", "员工姓名", "名字"), required=True),
    Column("doc_type", "证件类型", ("证件类型", "证件种类")),
    Column(
        "doc_number",
        "证件号码",
        ("证件号码", "证件号", "身份证号", "身份证号码", "公民身份号码", "身份证"),
        required=True,
    ),
    Column("department", "部门岗位", ("部门岗位", "部门", "岗位", "工种", "班组")),
]


def enterprise_choices(user, permission):
    """The enterprises whose roster `user` may import (every one for the command without --user),
    named by their id."""
    enterprises = (
        Enterprise.objects.all() if user is None else Enterprise.objects.restrict(user, perm=permission)
    )
    return enterprises.annotate(code=Cast("pk", output_field=CharField())).order_by("name", "pk")


class StaffResource(Resource):
    """企业员工名录: 姓名, 证件类型, 证件号码, 部门岗位 — persons already in the registry."""

    title = "企业员工名录"
    permission = services.ADD_EMPLOYEE
    columns = STAFF_COLUMNS
    example = ["张三", "居民身份证", "11010519491231002X", "生产一班"]
    preview_columns = ["姓名", "证件号码", "部门岗位"]

    def __init__(self, user, enterprise, **params):
        super().__init__(user, enterprise, **params)
        self.enterprise = enterprise

    def clean_row(self, raw):
        check = RowCheck(self, raw)
        check("name", clean_name)
        check("doc_type", clean_doc_type)
        if "doc_type" in check.data:
            doc_type = check.data["doc_type"]
            check("doc_number", lambda v: identity.normalise_document(doc_type, cell_identifier(v)))
        check("department", _limited(60, "部门岗位"))
        return check.finish()

    def key(self, cleaned):
        return (cleaned["doc_type"], cleaned["doc_number"])

    def plan_rows(self, cleaned_rows):
        try:
            people.charge_lookups(self.user, [c["doc_number"] for _row, c in cleaned_rows])
        except people.LookupLimitReached as exc:
            raise TableReadError(exc.messages[0]) from None
        on_roster = dict(
            Employee.objects.filter(enterprise_id=self.enterprise.pk).values_list("person_id", "department")
        )
        active = set(
            Employee.objects.filter(enterprise_id=self.enterprise.pk, is_active=True).values_list(
                "person_id", flat=True
            )
        )
        outcomes, problems = [], []
        for row, data in cleaned_rows:
            person = people.find_by_document(data["doc_type"], data["doc_number"])
            masked = identity.mask_document(data["doc_number"])
            if person is None:
                problems.append(
                    (
                        row,
                        [
                            (
                                "证件号码",
                                _(
                                    "%(doc)s is not in the resident registry. Ask the community where the employee lives to "
                                    "register them first; the roster links registered persons, it does not retype them."
                                )
                                % {"doc": masked},
                            )
                        ],
                    )
                )
                continue
            if person.name != data["name"]:
                problems.append(
                    (
                        row,
                        [
                            (
                                "姓名",
                                _(
                                    "The registry holds %(doc)s under another name; check the name and the number."
                                )
                                % {"doc": masked},
                            )
                        ],
                    )
                )
                continue
            values = {"person": person.pk, "department": data["department"]}
            if person.pk in active and (not data["department"] or on_roster[person.pk] == data["department"]):
                outcome = Outcome(row, "unchanged", self.key(data), values)
                outcome.notes.append(_("Already on the roster"))
            else:
                outcome = Outcome(
                    row, "update" if person.pk in on_roster else "create", self.key(data), values
                )
            outcomes.append(outcome)
        return outcomes, problems

    def preview_cells(self, raw, cleaned):
        if cleaned is None:
            number = identity.normalise_text(cell_text(raw.get("doc_number")))
            return [
                cell_text(raw.get("name"))[:64],
                identity.mask_document(number),
                cell_text(raw.get("department")),
            ]
        return [cleaned["name"], identity.mask_document(cleaned["doc_number"]), cleaned["department"]]

    def write(self, outcomes):
        from epigrid.people.models import Person

        enterprise = Enterprise.objects.get(pk=self.enterprise.pk)
        for outcome in sorted(outcomes, key=lambda o: o.row):
            person = Person.objects.get(pk=outcome.data["person"])
            services.link_employee(enterprise, person, outcome.data["department"])


register_ledger("enterprises", EnterpriseResource, EnterpriseResource.permission)
register_ledger(
    "enterprise-staff",
    StaffResource,
    StaffResource.permission,
    target=LedgerTarget(
        param="enterprise",
        label=gettext_lazy("Enterprise"),
        help_text=gettext_lazy("The enterprise whose staff roster the file holds."),
        choices=enterprise_choices,
    ),
)
