"""Import ledgers of shops and markets through the one pipeline (core.imports), registered with
jobs.imports (decision 0035):

- "markets-outlets" 监测网点台账: natural key (area code, name). Re-importing the export changes
  nothing: a masked phone (138****5678) means "keep the phone on record".
- "markets-staff" 经营性门店人员管理台账: the outlet by (area code, name), the person found in the
  registry by document (people's named service); a person not in the registry, a name that does
  not match the record, an outlet outside the user's areas are row errors — the ledger never
  registers or retypes a person. Numbers that look like a registered one are charged as lookups.
- "markets-wildlife" 野生动物排查台账: natural key (area code, site, species, check date).

Bad rows are reported with the sheet's own row numbers; valid rows are written together in the
pipeline's one transaction (decision 0007), each through markets.services."""

from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from epigrid.areas.models import Area
from epigrid.core import identity
from epigrid.core.imports import Outcome, Resource, RowCheck
from epigrid.core.tabular import CellError, Column, cell_date, cell_identifier, cell_text
from epigrid.jobs.imports import register_ledger
from epigrid.markets import services
from epigrid.markets.models import Outlet, ShopStaff, WildlifeCheck
from epigrid.people.imports import charge_near_misses, clean_doc_type

YES = {"是", "y", "yes", "1", "true", "√", "✓"}
NO = {"否", "n", "no", "0", "false", "×", ""}
KINDS = {str(label): value for value, label in Outlet.Kind.choices} | {
    "超市": "supermarket",
    "农贸市场": "farmers_market",
    "菜市场": "farmers_market",
    "批发市场": "wholesale",
    "门店": "shop",
    "商店": "shop",
    "活禽点": "live_poultry",
    "活禽交易点": "live_poultry",
    **{value: value for value in Outlet.Kind.values},
}
HEALTH = {
    "正常": "normal",
    "健康": "normal",
    "发热": "fever",
    "有症状": "fever",
    "隔离": "isolated",
    "隔离中": "isolated",
    "未联系上": "unknown",
    **{v: v for v in ShopStaff.Health.values},
}


def _text(limit, required=False, header=""):
    def clean(value):
        text = cell_text(value)
        if required and not text:
            raise CellError(_("%(column)s is missing.") % {"column": header})
        if len(text) > limit:
            raise CellError(_("%(column)s is longer than %(n)d characters.") % {"column": header, "n": limit})
        return text

    return clean


def _choice(mapping, what):
    def clean(value):
        text = cell_text(value)
        if text not in mapping:
            raise CellError(_("“%(value)s” is not a known %(what)s.") % {"value": text[:20], "what": what})
        return mapping[text]

    return clean


def _yes_no(value):
    text = cell_text(value).lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise CellError(_("“%(value)s” is not 是 or 否.") % {"value": text[:10]})


class _AreaResource(Resource):
    """Rows name their area by code (区域编码), inside the import's area; none: the import's area."""

    def _areas(self, codes):
        found = Area.objects.filter(code__in=codes, path__startswith=self.area.path)
        if self.user is not None:
            found = found.restrict(self.user, perm=self.permission)
        return {a.code: a for a in found}

    def _area_of(self, data, areas):
        if not data.get("area"):
            return self.area, None
        area = areas.get(data["area"])
        if area is None:
            return None, (
                self.header_of("area"),
                _("No area %(code)s inside %(area)s where you may import.")
                % {"code": data["area"], "area": self.area.name},
            )
        return area, None


class OutletResource(_AreaResource):
    title = "监测网点台账"
    permission = services.ADD_OUTLET
    columns = [
        Column("area", "区域编码", ("区域编码", "所属区域编码", "社区编码", "网格编码")),
        Column("name", "网点名称", ("网点名称", "名称", "门店名称", "市场名称", "超市名称"), required=True),
        Column("kind", "类型", ("类型", "网点类型", "业态")),
        Column("address", "地址", ("地址", "经营地址")),
        Column("operator", "经营者", ("经营者", "经营单位", "经营主体")),
        Column("contact", "联系人", ("联系人", "负责人")),
        Column("phone", "联系电话", ("联系电话", "电话", "手机号")),
        Column("monitored", "每日报送", ("每日报送", "是否报送", "监测")),
        Column("notes", "备注", ("备注",)),
    ]
    example = [
        "620102001001",
        "九州大润发超市",
        "超市",
        "九州大道88号",
        "大润发商业有限公司",
        "王经理",
        "13812345678",
        "是",
        "",
    ]
    preview_columns = ["区域编码", "网点名称", "类型", "联系电话"]

    def clean_row(self, raw):
        check = RowCheck(self, raw)
        check("area", lambda v: cell_identifier(v) if cell_text(v) else "")
        check("name", _text(100, True, self.header_of("name")))
        check(
            "kind", lambda v: _choice(KINDS, _("outlet kind"))(v) if cell_text(v) else Outlet.Kind.SUPERMARKET
        )
        for field, n in (("address", 200), ("operator", 100), ("contact", 64), ("notes", 200)):
            check(field, _text(n, header=self.header_of(field)))
        check("phone", self._phone)
        check("monitored", lambda v: _yes_no(v) if cell_text(v) else True)
        return check.finish()

    @staticmethod
    def _phone(value):
        text = cell_text(value)
        if "*" in text:
            return text  # a masked phone: keep the one on record (checked in plan_rows)
        return identity.normalise_phone(cell_identifier(value)) if text else ""

    def key(self, cleaned):
        return (cleaned["area"] or self.area.code, cleaned["name"])

    def plan_rows(self, cleaned_rows):
        areas = self._areas({c["area"] for _r, c in cleaned_rows if c["area"]})
        outcomes, problems = [], []
        for row, data in cleaned_rows:
            area, problem = self._area_of(data, areas)
            if problem:
                problems.append((row, [problem]))
                continue
            existing = services.find_outlet(area, data["name"])
            fields = {
                k: data[k]
                for k in ("name", "kind", "address", "operator", "contact", "phone", "monitored", "notes")
            }
            fields["area"] = area
            if "*" in fields["phone"]:
                if existing is None or existing.masked_phone != fields["phone"]:
                    problems.append(
                        (
                            row,
                            [
                                (
                                    self.header_of("phone"),
                                    _(
                                        "A masked phone can only keep the phone on record; type the full number."
                                    ),
                                )
                            ],
                        )
                    )
                    continue
                fields["phone"] = existing.phone
            if existing is None:
                outcomes.append(Outcome(row, "create", self.key(data), fields))
            elif all(getattr(existing, k) == v for k, v in fields.items()):
                outcomes.append(Outcome(row, "unchanged", self.key(data), fields, existing))
            else:
                outcomes.append(Outcome(row, "update", self.key(data), fields, existing))
        return outcomes, problems

    def preview_cells(self, raw, cleaned):
        source = cleaned or {f: cell_text(raw.get(f)) for f in ("area", "name", "kind", "phone")}
        phone = source.get("phone") or ""
        return [
            source.get("area"),
            source.get("name"),
            source.get("kind"),
            phone
            if "*" in phone
            else identity.mask_phone(phone)
            if phone.startswith("+")
            else identity.mask_lookup_term(phone)
            if phone
            else "",
        ]

    def write(self, outcomes):
        for o in outcomes:
            services.save_outlet(self.user, o.target, **o.data)


class StaffResource(_AreaResource):
    title = "经营性门店人员管理台账"
    permission = "markets.add_shopstaff"
    columns = [
        Column("area", "区域编码", ("区域编码", "所属区域编码", "社区编码")),
        Column("outlet", "门店名称", ("门店名称", "门店", "网点名称", "单位名称"), required=True),
        Column("name", "姓名", ("姓名",), required=True),
        Column("doc_type", "证件类型", ("证件类型",)),
        Column(
            "doc_number", "证件号码", ("证件号码", "身份证号", "身份证号码", "公民身份号码"), required=True
        ),
        Column("position", "岗位", ("岗位", "职务", "工种")),
        Column("health", "健康状况", ("健康状况", "健康状态", "身体状况")),
        Column("last_contact_on", "最近联系日期", ("最近联系日期", "联系日期", "最近联系")),
    ]
    example = [
        "620102001001",
        "九州大润发超市",
        "张三",
        "",
        "11010519491231002X",
        "收银员",
        "正常",
        "2022-11-20",
    ]
    preview_columns = ["门店名称", "姓名", "证件号码", "岗位"]

    def clean_row(self, raw):
        check = RowCheck(self, raw)
        check("area", lambda v: cell_identifier(v) if cell_text(v) else "")
        check("outlet", _text(100, True, self.header_of("outlet")))
        check("name", _text(64, True, self.header_of("name")))
        check("doc_type", clean_doc_type)
        if "doc_type" in check.data:
            doc_type = check.data["doc_type"]
            check("doc_number", lambda v: identity.normalise_document(doc_type, cell_identifier(v)))
        check("position", _text(40, header=self.header_of("position")))
        check(
            "health",
            lambda v: _choice(HEALTH, _("health status"))(v) if cell_text(v) else ShopStaff.Health.NORMAL,
        )
        check("last_contact_on", cell_date)
        return check.finish()

    def key(self, cleaned):
        return (cleaned["area"], cleaned["outlet"], cleaned["doc_type"], cleaned["doc_number"])

    def plan_rows(self, cleaned_rows):
        from epigrid.people.services import find_by_document

        areas = self._areas({c["area"] for _r, c in cleaned_rows if c["area"]})
        outcomes, problems, missing = [], [], []
        for row, data in cleaned_rows:
            area, problem = self._area_of(data, areas)
            if problem:
                problems.append((row, [problem]))
                continue
            outlet = services.find_outlet(area, data["outlet"])
            if outlet is None or (
                self.user is not None
                and not Outlet.objects.restrict(self.user, perm=self.permission).filter(pk=outlet.pk).exists()
            ):
                problems.append(
                    (
                        row,
                        [
                            (
                                self.header_of("outlet"),
                                _("No outlet “%(name)s” in %(area)s whose staff you may keep.")
                                % {"name": data["outlet"], "area": area.name},
                            )
                        ],
                    )
                )
                continue
            person = find_by_document(data["doc_type"], data["doc_number"])
            if person is None:
                missing.append(data["doc_number"])
                problems.append(
                    (
                        row,
                        [
                            (
                                self.header_of("doc_number"),
                                _(
                                    "No person with this document is in the registry: register them as a resident first."
                                ),
                            )
                        ],
                    )
                )
                continue
            if person.name != data["name"]:
                problems.append(
                    (row, [(self.header_of("name"), _("The registry has another name for this document."))])
                )
                continue
            fields = {
                "position": data["position"],
                "health": data["health"],
                "last_contact_on": data["last_contact_on"],
            }
            existing = ShopStaff.objects.filter(outlet=outlet, person=person).first()
            target = existing
            if existing is None:
                outcomes.append(
                    Outcome(row, "create", self.key(data), {**fields, "outlet": outlet, "person": person})
                )
            elif all(getattr(existing, k) == v for k, v in fields.items()):
                outcomes.append(Outcome(row, "unchanged", self.key(data), fields, target))
            else:
                outcomes.append(Outcome(row, "update", self.key(data), fields, target))
        charge_near_misses(self.user, missing)
        return outcomes, problems

    def preview_cells(self, raw, cleaned):
        source = cleaned or {f: cell_text(raw.get(f)) for f in ("outlet", "name", "doc_number", "position")}
        return [
            source.get("outlet"),
            source.get("name"),
            identity.mask_document(identity.normalise_text(source.get("doc_number") or "")),
            source.get("position"),
        ]

    def write(self, outcomes):
        for o in outcomes:
            if o.action == "create":
                services.add_staff(
                    None,
                    o.data["outlet"],
                    o.data["person"].doc_type,
                    o.data["person"].doc_number,
                    position=o.data["position"],
                    health=o.data["health"],
                    last_contact_on=o.data["last_contact_on"],
                )
            else:
                for k, v in o.data.items():
                    setattr(o.target, k, v)
                o.target.save()


def _count(value):
    text = cell_text(value)
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise CellError(_("“%(value)s” is not a count.") % {"value": text[:20]}) from None
    if number < 0 or number != number.to_integral_value() or number > 10_000_000:
        raise CellError(_("“%(value)s” is not a count.") % {"value": text[:20]})
    return int(number)


class WildlifeResource(_AreaResource):
    title = "野生动物排查台账"
    permission = "markets.add_wildlifecheck"
    columns = [
        Column("area", "区域编码", ("区域编码", "所属区域编码", "社区编码")),
        Column("site", "场所", ("场所", "养殖场所", "地点", "养殖场"), required=True),
        Column("species", "物种", ("物种", "品种", "动物种类"), required=True),
        Column("count", "数量", ("数量", "存栏数", "只数", "头数"), required=True),
        Column("check_date", "检查日期", ("检查日期", "排查日期", "日期"), required=True),
        Column("checker", "检查人", ("检查人", "排查人"), required=True),
        Column("notes", "备注", ("备注",)),
    ]
    example = ["620102001001", "九州养殖场", "孔雀", "12", "2022-11-20", "李四", ""]
    preview_columns = ["场所", "物种", "数量", "检查日期"]

    def clean_row(self, raw):
        check = RowCheck(self, raw)
        check("area", lambda v: cell_identifier(v) if cell_text(v) else "")
        check("site", _text(100, True, self.header_of("site")))
        check("species", _text(60, True, self.header_of("species")))
        check("count", _count)
        check("check_date", self._date)
        check("checker", _text(64, True, self.header_of("checker")))
        check("notes", _text(300, header=self.header_of("notes")))
        return check.finish()

    def _date(self, value):
        day = cell_date(value)
        if day is None:
            raise CellError(_("%(column)s is missing.") % {"column": self.header_of("check_date")})
        return day

    def key(self, cleaned):
        return (cleaned["area"], cleaned["site"], cleaned["species"], cleaned["check_date"])

    def plan_rows(self, cleaned_rows):
        areas = self._areas({c["area"] for _r, c in cleaned_rows if c["area"]})
        outcomes, problems = [], []
        for row, data in cleaned_rows:
            area, problem = self._area_of(data, areas)
            if problem:
                problems.append((row, [problem]))
                continue
            fields = {
                **{k: data[k] for k in ("site", "species", "count", "check_date", "checker", "notes")},
                "area": area,
            }
            existing = WildlifeCheck.objects.filter(
                area=area, site=data["site"], species=data["species"], check_date=data["check_date"]
            ).first()
            if existing is None:
                outcomes.append(Outcome(row, "create", self.key(data), fields))
            elif all(getattr(existing, k) == v for k, v in fields.items()):
                outcomes.append(Outcome(row, "unchanged", self.key(data), fields, existing))
            else:
                outcomes.append(Outcome(row, "update", self.key(data), fields, existing))
        return outcomes, problems

    def preview_cells(self, raw, cleaned):
        source = cleaned or {f: cell_text(raw.get(f)) for f in ("site", "species", "count", "check_date")}
        return [
            source.get("site"),
            source.get("species"),
            source.get("count"),
            str(source.get("check_date") or ""),
        ]

    def write(self, outcomes):
        for o in outcomes:
            if o.action == "create":
                services.record_wildlife(self.user, **o.data)
            else:
                for k, v in o.data.items():
                    setattr(o.target, k, v)
                o.target.full_clean()
                o.target.save()


register_ledger("markets-outlets", OutletResource, OutletResource.permission)
register_ledger("markets-staff", StaffResource, StaffResource.permission)
register_ledger("markets-wildlife", WildlifeResource, WildlifeResource.permission)
