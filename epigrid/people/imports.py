"""The resident ledger (居民台账): residents with their buildings, units and households."""

import re

from django.utils.translation import gettext as _

from epigrid.areas.models import Building, Household, Level
from epigrid.audit.models import Action
from epigrid.audit.services import build_change, log_bulk_create, log_bulk_update, write_changes
from epigrid.core import identity
from epigrid.core.imports import Outcome, Resource, RowCheck, bulk_insert
from epigrid.core.tabular import CellError, Column, TableReadError, cell_identifier, cell_text
from epigrid.people import services
from epigrid.people.models import DocumentType, Person, ResidenceType, Tag

COLUMNS = [
    Column("name", "姓名", ("姓名", "名字", "居民姓名"), required=True),
    Column("doc_type", "证件类型", ("证件类型", "证件种类")),
    Column(
        "doc_number",
        "证件号码",
        ("证件号码", "证件号", "身份证号", "身份证号码", "公民身份号码"),
        required=True,
    ),
    Column("phone", "联系电话", ("联系电话", "手机号", "手机号码", "联系方式", "电话")),
    Column("grid_code", "网格编码", ("网格编码", "网格代码")),
    Column("grid_name", "网格", ("网格", "所属网格", "网格名称")),
    Column("building", "楼栋", ("楼栋", "楼号", "楼栋号"), required=True),
    Column("unit", "单元", ("单元", "单元号")),
    Column("room", "房号", ("房号", "门牌号", "房间号", "户号")),
    Column("residence_type", "人员类型", ("人员类型", "户籍类型", "人员类别")),
    Column("sex", "性别", ("性别",)),
    Column("tags", "重点关爱", ("重点关爱", "特殊人群", "关爱标签")),
    Column("notes", "备注", ("备注", "说明")),
]
EXAMPLE = [
    "张三",
    "居民身份证",
    "11010519491231002X",
    "13812345678",
    "",
    "",
    "3号楼",
    "2",
    "502",
    "户籍",
    "女",
    "独居老人",
    "",
]

DOC_TYPES = {
    **{code: code for code in DocumentType.values},
    "居民身份证": "111",
    "身份证": "111",
    "二代身份证": "111",
    "护照": "400",
    "港澳通行证": "516",
    "港澳居民来往内地通行证": "516",
    "台胞证": "511",
    "台湾居民来往大陆通行证": "511",
    "港澳居民居住证": "551",
    "台湾居民居住证": "552",
    "其他": "999",
    "其他证件": "999",
}
RESIDENCE_TYPES = {
    "户籍": "registered",
    "户籍人口": "registered",
    "常住": "registered",
    "本地": "registered",
    "流动": "migrant",
    "流动人口": "migrant",
    "外来": "migrant",
    "外来人员": "migrant",
    "境外": "foreign",
    "境外人员": "foreign",
    "外籍": "foreign",
    **{value: value for value in ResidenceType.values},
}
SEXES = {"男": "M", "女": "F", "M": "M", "F": "F"}
EXPORT_LABELS = {
    "doc_type": {
        "111": "居民身份证",
        "400": "护照",
        "516": "港澳居民来往内地通行证",
        "511": "台湾居民来往大陆通行证",
        "551": "港澳居民居住证",
        "552": "台湾居民居住证",
        "999": "其他证件",
    },
    "residence_type": {"registered": "户籍", "migrant": "流动", "foreign": "境外"},
    "sex": {"M": "男", "F": "女", "U": ""},
}
_TAG_SPLIT = re.compile(r"[、,，;；/\s]+")


def _unit(text):
    return text[:-2] if text.endswith("单元") and text[:-2] else text


def clean_name(value):
    """A person's name cell (every ledger that names persons uses this)."""
    name = cell_text(value)
    if not name:
        raise CellError(_("The name is missing."))
    if len(name) > 64:
        raise CellError(_("The name is longer than 64 characters."))
    return name


def charge_near_misses(user, numbers):
    """New numbers that look like a registered person's masked one are lookups (a file can test
    candidates as a search can): counted, and past the limit the whole file is refused."""
    try:
        services.charge_lookups(user, services.near_misses(user, numbers))
    except services.LookupLimitReached as exc:
        raise TableReadError(exc.messages[0]) from None


def check_identity(check, empty_phone=""):
    """The person cells every ledger naming persons has: name, document type and number, phone."""
    check("name", clean_name)
    check("doc_type", clean_doc_type)
    if "doc_type" in check.data:
        doc_type = check.data["doc_type"]
        check("doc_number", lambda v: identity.normalise_document(doc_type, cell_identifier(v)))
    check("phone", lambda v: identity.normalise_phone(cell_identifier(v)) if cell_text(v) else empty_phone)


def clean_doc_type(value):
    text = cell_text(value)
    if not text:
        return DocumentType.RESIDENT_ID.value
    if text not in DOC_TYPES:
        raise CellError(_("Unknown document type “%(value)s”.") % {"value": text})
    return DOC_TYPES[text]


class ResidentResource(Resource):
    title = "居民台账"
    columns = COLUMNS
    example = EXAMPLE

    def __init__(self, user, area, **params):
        super().__init__(user, area, **params)
        grids = list(area.subtree().filter(level=Level.GRID)) if area.level < Level.GRID else [area]
        allowed = user.scope_paths("people.add_person") if user is not None else None
        self.grids = [g for g in grids if allowed is None or any(g.path.startswith(p) for p in allowed)]
        self.by_code = {g.code: g for g in self.grids}
        self.by_pk = {g.pk: g for g in self.grids}
        self.by_name = {}
        for grid in self.grids:
            self.by_name.setdefault(grid.name, []).append(grid)
        self.tags = {**{t.name: t for t in Tag.objects.all()}, **{t.code: t for t in Tag.objects.all()}}
        self.change_paths = user.scope_paths("people.change_person") if user is not None else None

    def header_of(self, field_name):
        # The grid comes from either grid column; errors are reported under 网格.
        return super().header_of("grid_name" if field_name == "grid" else field_name)

    # -- one row -------------------------------------------------------------------------
    def clean_row(self, raw):
        check = RowCheck(self, raw)
        check_identity(check, empty_phone=None)
        check("grid", lambda _v: self._grid(raw))
        check("building", lambda v: self._required(v, "building"))
        check.data["unit"] = _unit(cell_text(raw.get("unit")))
        check("room", lambda v: self._required(v, "room"))
        check("residence_type", lambda v: self._choice(v, RESIDENCE_TYPES, "residence_type"))
        check("sex", lambda v: self._choice(v, SEXES, "sex"))
        check("tags", self._tags)
        check.data["notes"] = cell_text(raw.get("notes")) or None
        if not check.problems and self._sex_contradicts_id(check.data):
            check.problem("sex", _("The sex does not match the resident ID."))
        return check.finish()

    @staticmethod
    def _sex_contradicts_id(data):
        is_resident_id = data["doc_type"] == DocumentType.RESIDENT_ID
        return (
            bool(data["sex"])
            and is_resident_id
            and identity.resident_id_facts(data["doc_number"])[0] != data["sex"]
        )

    def _required(self, value, field):
        text = cell_text(value)
        if not text:
            raise CellError(_("%(column)s is missing.") % {"column": self.header_of(field)})
        return text

    def _choice(self, value, table, field):
        text = cell_text(value)
        if not text:
            return None
        if text not in table:
            raise CellError(
                _("“%(value)s” is not a known %(column)s.") % {"value": text, "column": self.header_of(field)}
            )
        return table[text]

    def _tags(self, value):
        text = cell_text(value)
        if not text or text in ("无", "-", "—"):
            return None
        names = [n for n in _TAG_SPLIT.split(text) if n]
        unknown = [n for n in names if n not in self.tags]
        if unknown:
            raise CellError(_("Unknown tag(s): %(names)s.") % {"names": "、".join(unknown)})
        return sorted({self.tags[n].pk for n in names})

    def _grid(self, raw):
        code, name = cell_text(raw.get("grid_code")), cell_text(raw.get("grid_name"))
        if code:
            if code in self.by_code:
                return self.by_code[code]
            raise CellError(_("Grid %(grid)s is not inside the chosen area or your scope.") % {"grid": code})
        if name:
            matches = self.by_name.get(name, [])
            if len(matches) == 1:
                return matches[0]
            if matches:
                raise CellError(
                    _("More than one grid is called %(grid)s; give the grid code.") % {"grid": name}
                )
            raise CellError(_("Grid %(grid)s is not inside the chosen area or your scope.") % {"grid": name})
        if self.area.level == Level.GRID and self.grids:
            return self.area
        raise CellError(_("Say which grid this household is in (the chosen area is not a single grid)."))

    def key(self, cleaned):
        return (cleaned["doc_type"], cleaned["doc_number"])

    # -- the batch -----------------------------------------------------------------------
    def plan_rows(self, cleaned_rows):
        existing = self._existing([self.key(c) for _row, c in cleaned_rows])
        outcomes, problems = [], []
        for row, data in cleaned_rows:
            person = existing.get(self.key(data))
            if person is None:
                outcomes.append(Outcome(row, "create", self.key(data), data))
                continue
            if self.change_paths is not None and not any(
                person.area.path.startswith(p) for p in self.change_paths
            ):
                problems.append(
                    (
                        row,
                        [
                            (
                                self.header_of("doc_number"),
                                _(
                                    "This person is registered in another area; ask that community to hand the record over."
                                ),
                            )
                        ],
                    )
                )
                continue
            changes = self._changes(person, data)
            outcomes.append(
                Outcome(row, "update" if changes else "unchanged", self.key(data), changes, person)
            )
        charge_near_misses(self.user, [o.key[1] for o in outcomes if o.action == "create"])
        return outcomes, problems

    def _existing(self, keys):
        found = {}
        for doc_type in {k[0] for k in keys}:
            numbers = [k[1] for k in keys if k[0] == doc_type]
            for start in range(0, len(numbers), 2000):  # more makes PostgreSQL scan the table
                # Which are known at all (a light look-up): most rows of a new ledger are not.
                known = list(
                    Person.objects.filter(doc_type=doc_type, doc_number__in=numbers[start : start + 2000])
                    .order_by()
                    .values_list("doc_number", flat=True)
                )
                for person in (
                    Person.objects.filter(doc_type=doc_type, doc_number__in=known)
                    .select_related(
                        "area", "household__building", "merged_into__area", "merged_into__household__building"
                    )
                    .prefetch_related("tags")
                ):
                    # A merged record's document leads to its survivor.
                    found[(doc_type, person.doc_number)] = person.merged_into or person
        return found

    def _changes(self, person, data):
        changes = {}
        for field in ("name", "phone", "residence_type", "notes"):
            if data[field] is not None and getattr(person, field) != data[field]:
                changes[field] = data[field]
        household = person.household
        place = (data["grid"].pk, data["building"], data["unit"], data["room"])
        if (
            household is None
            or (household.area_id, household.building.name, household.unit, household.room) != place
        ):
            changes["place"] = place
        if data["tags"] is not None and sorted(t.pk for t in person.tags.all()) != data["tags"]:
            changes["tags"] = data["tags"]
        return changes

    def write(self, outcomes):
        places = {o.data["place"] for o in outcomes if "place" in o.data}
        places |= {
            (o.data["grid"].pk, o.data["building"], o.data["unit"], o.data["room"])
            for o in outcomes
            if o.action == "create"
        }
        households = self._households(places)
        self._create([o for o in outcomes if o.action == "create"], households)
        self._update([o for o in outcomes if o.action == "update"], households)

    def _households(self, places):
        grid_ids = {p[0] for p in places}
        buildings = {(b.area_id, b.name): b for b in Building.objects.filter(area_id__in=grid_ids)}
        # Objects carry their grid, not just its id: the audit rows file them under its path.
        new_buildings = [
            Building(area=self.by_pk[g], name=n)
            for g, n in sorted({(p[0], p[1]) for p in places} - set(buildings))
        ]
        if new_buildings:
            bulk_insert(Building, new_buildings)
            log_bulk_create(new_buildings)
            buildings.update({(b.area_id, b.name): b for b in new_buildings})
        wanted = {(buildings[(p[0], p[1])], p[2], p[3]) for p in places}
        building_ids = {b.pk for b, _u, _r in wanted}
        existing = {
            (h.building_id, h.unit, h.room): h for h in Household.objects.filter(building_id__in=building_ids)
        }
        new_households = []
        for building, unit, room in sorted(wanted, key=lambda w: (w[0].pk, w[1], w[2])):
            if (building.pk, unit, room) not in existing:
                household = Household(
                    building=building, area=self.by_pk[building.area_id], unit=unit, room=room
                )
                new_households.append(household)
                existing[(building.pk, unit, room)] = household
        if new_households:
            bulk_insert(Household, new_households)
            log_bulk_create(new_households)
        return {(b.area_id, b.name, u, r): existing[(b.pk, u, r)] for b, u, r in wanted}

    def _create(self, outcomes, households):
        persons = []
        for o in outcomes:
            d = o.data
            person = Person(
                doc_type=d["doc_type"],
                doc_number=d["doc_number"],
                name=d["name"],
                phone=d["phone"] or "",
                residence_type=d["residence_type"] or ResidenceType.REGISTERED,
                notes=d["notes"] or "",
                household=households[(d["grid"].pk, d["building"], d["unit"], d["room"])],
                area=d["grid"],
            )
            person.fill_derived_fields()
            person.import_tags = d["tags"] or []
            persons.append(person)
        bulk_insert(Person, persons)
        log_bulk_create(persons)
        Through = Person.tags.through
        bulk_insert(Through, [Through(person_id=p.pk, tag_id=t) for p in persons for t in p.import_tags])

    def _update(self, outcomes, households):
        persons, fields, tag_sets = [], set(), {}
        for o in outcomes:
            person = o.target
            for field, value in o.data.items():
                if field == "place":
                    person.household = households[value]
                    person.area = self.by_pk[person.household.area_id]
                    fields |= {"household", "area"}
                elif field == "tags":
                    tag_sets[person.pk] = value
                else:
                    setattr(person, field, value)
                    fields.add(field)
            if "name" in fields:
                person.fill_derived_fields()
                fields.add("name_key")
            persons.append(person)
        if fields:
            Person.objects.bulk_update(persons, sorted(fields), batch_size=2000)
        log_bulk_update(persons)
        if tag_sets:
            self._replace_tags([p for p in persons if p.pk in tag_sets], tag_sets)

    def _replace_tags(self, persons, tag_sets):
        Through = Person.tags.through
        write_changes(
            [
                build_change(
                    p, Action.UPDATE, {"tags": sorted(t.pk for t in p.tags.all())}, {"tags": tag_sets[p.pk]}
                )
                for p in persons
            ]
        )
        Through.objects.filter(person_id__in=tag_sets).delete()
        Through.objects.bulk_create(
            [Through(person_id=pk, tag_id=t) for pk, tags in tag_sets.items() for t in tags]
        )
