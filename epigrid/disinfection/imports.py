"""Import ledger "disinfection-sites" 消杀点位台账 through the one pipeline (core.imports).

- Natural key: the area's code (区域编码, a community or grid under the import's area that the user
  may add sites in) and the site's name. The same row again is unchanged; another type, building
  or size updates the site.
- 类型 by its Chinese name (小区, 道路, 公园广场, 公共厕所, 垃圾收集点, 楼栋公共区域, 采样点, 物资供应点,
  快递收发点) or its code; 楼栋 (optional) by name inside the area (decision 0018's name key);
  面积 in m².
- Bad rows are reported with the sheet's own row numbers; valid rows are written together in the
  pipeline's one transaction (decision 0007), with their change-log rows.
"""

from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from epigrid.areas.models import Area, Building, normalise_building_name
from epigrid.audit.services import log_bulk_create, log_bulk_update
from epigrid.core.imports import Outcome, Resource, RowCheck, bulk_insert
from epigrid.core.tabular import CellError, Column, cell_text
from epigrid.disinfection.models import Site, SiteType
from epigrid.jobs.imports import register_ledger

PERMISSION = "disinfection.add_site"
TYPE_NAMES = {
    "小区": SiteType.COMPOUND,
    "居民小区": SiteType.COMPOUND,
    "道路": SiteType.ROAD,
    "主干道": SiteType.ROAD,
    "公园广场": SiteType.PARK,
    "公园": SiteType.PARK,
    "广场": SiteType.PARK,
    "公共厕所": SiteType.TOILET,
    "公厕": SiteType.TOILET,
    "垃圾收集点": SiteType.BIN,
    "垃圾桶": SiteType.BIN,
    "垃圾点": SiteType.BIN,
    "楼栋公共区域": SiteType.COMMON_AREA,
    "楼道": SiteType.COMMON_AREA,
    "采样点": SiteType.SAMPLING,
    "物资供应点": SiteType.SUPPLY,
    "保供点": SiteType.SUPPLY,
    "快递收发点": SiteType.PARCEL,
    "快递点": SiteType.PARCEL,
}
# The export writes the first name of each type: an export re-imports unchanged.
EXPORT_NAMES = {}
for _name, _type in TYPE_NAMES.items():
    EXPORT_NAMES.setdefault(_type, _name)


def parse_type(value):
    text = cell_text(value).replace(" ", "")
    if text in TYPE_NAMES:
        return TYPE_NAMES[text]
    if text in SiteType.values:
        return text
    raise CellError(
        _("“%(value)s” is not a site type (for example 小区, 道路, 公共厕所).") % {"value": text[:20]}
    )


def parse_size(value):
    text = cell_text(value).replace(",", "").removesuffix("㎡").removesuffix("m²").strip()
    if not text:
        raise CellError(_("The size is missing."))
    try:
        size = Decimal(text).quantize(Decimal("0.1"))
    except InvalidOperation:
        raise CellError(_("“%(value)s” is not a size in m².") % {"value": text[:20]}) from None
    if size < 0 or size >= Decimal("1000000000"):
        raise CellError(_("“%(value)s” is not a size in m².") % {"value": text[:20]})
    return size


class SiteResource(Resource):
    """消杀点位台账: 区域编码, 点位名称, 类型, 楼栋, 面积(㎡)."""

    title = "消杀点位台账"
    permission = PERMISSION
    columns = [
        Column("area", "区域编码", ("区域编码", "网格编码", "社区编码", "区划代码"), required=True),
        Column("name", "点位名称", ("点位名称", "名称", "点位", "地点"), required=True),
        Column("site_type", "类型", ("类型", "点位类型", "场所类型"), required=True),
        Column("building", "楼栋", ("楼栋", "楼号", "楼栋号")),
        Column(
            "size", "面积(㎡)", ("面积(㎡)", "面积", "面积（㎡）", "面积(平方米)", "消杀面积"), required=True
        ),
    ]
    example = ["620102001001001", "1号楼垃圾收集点", "垃圾收集点", "1号楼", "12"]
    preview_columns = ["区域编码", "点位名称", "类型", "楼栋", "面积(㎡)"]

    def __init__(self, user, area, **params):
        super().__init__(user, area, **params)
        self.paths = user.scope_paths(PERMISSION) if user is not None else None

    def clean_row(self, raw):
        check = RowCheck(self, raw)
        check("site_type", parse_type)
        check("size", parse_size)
        check.data["area"] = cell_text(raw.get("area"))[:20]
        check.data["name"] = cell_text(raw.get("name"))
        check.data["building"] = cell_text(raw.get("building"))[:100]
        for name in ("area", "name"):
            if not check.data[name]:
                check.problem(name, _("%(column)s is missing.") % {"column": self.header_of(name)})
        if len(check.data["name"]) > 100:
            check.problem(
                "name", _("%(column)s is longer than 100 characters.") % {"column": self.header_of("name")}
            )
        return check.finish()

    def key(self, cleaned):
        return (cleaned["area"], cleaned["name"])

    def preview_cells(self, raw, cleaned):
        source = cleaned or {
            f: cell_text(raw.get(f)) for f in ("area", "name", "site_type", "building", "size")
        }
        return [
            source.get("area"),
            source.get("name"),
            source.get("site_type"),
            source.get("building"),
            source.get("size"),
        ]

    def plan_rows(self, cleaned_rows):
        codes = {c["area"] for _row, c in cleaned_rows}
        areas = {
            a.code: a
            for a in Area.objects.filter(code__in=codes, path__startswith=self.area.path)
            if self.paths is None or any(a.path.startswith(p) for p in self.paths)
        }
        keys = {normalise_building_name(c["building"]) for _row, c in cleaned_rows if c["building"]}
        buildings = {}
        for b in Building.objects.filter(area__in=areas.values(), name_key__in=keys).select_related("area"):
            buildings.setdefault((b.name_key), []).append(b)
        existing = {
            (s.area.code, s.name): s
            for s in Site.objects.filter(
                area__in=areas.values(), name__in={c["name"] for _r, c in cleaned_rows}
            ).select_related("area")
        }
        outcomes, problems = [], []
        for row, data in cleaned_rows:
            area = areas.get(data["area"])
            if area is None:
                problems.append(
                    (
                        row,
                        [
                            (
                                self.header_of("area"),
                                _("No area %(code)s in %(area)s that you may add sites in.")
                                % {"code": data["area"], "area": self.area.name},
                            )
                        ],
                    )
                )
                continue
            building = None
            if data["building"]:
                inside = [
                    b
                    for b in buildings.get(normalise_building_name(data["building"]), ())
                    if b.area.path.startswith(area.path)
                ]
                if len(inside) != 1:
                    problems.append(
                        (
                            row,
                            [
                                (
                                    self.header_of("building"),
                                    _("No single building “%(name)s” in %(area)s.")
                                    % {"name": data["building"], "area": area.name},
                                )
                            ],
                        )
                    )
                    continue
                building = inside[0]
            fields = {"site_type": data["site_type"], "building": building, "size_m2": data["size"]}
            key = (area.code, data["name"])
            current = existing.get(key)
            if current is None:
                outcomes.append(Outcome(row, "create", key, {**fields, "area": area, "name": data["name"]}))
            elif (current.site_type, current.building_id, current.size_m2) == (
                data["site_type"],
                getattr(building, "pk", None),
                data["size"],
            ):
                outcomes.append(Outcome(row, "unchanged", key, {}, current))
            else:
                outcomes.append(Outcome(row, "update", key, fields, current))
        return outcomes, problems

    def write(self, outcomes):
        new = [Site(**o.data) for o in outcomes if o.action == "create"]
        if new:
            bulk_insert(Site, new)
            log_bulk_create(new)
        changed = []
        for o in outcomes:
            if o.action == "update":
                for name, value in o.data.items():
                    setattr(o.target, name, value)
                changed.append(o.target)
        if changed:
            Site.objects.bulk_update(changed, ["site_type", "building", "size_m2"], batch_size=2000)
            log_bulk_update(changed)


register_ledger("disinfection-sites", SiteResource, PERMISSION)
