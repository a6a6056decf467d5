"""The resident ledger (居民台账): residents with their buildings, units and households."""

import re

from django.utils.translation import gettext as _

from epigrid.areas.models import Building, Household, Level, normalise_building_name
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
# The model's lengths: a longer cell is a row error, never a failed write.
PLACE_LENGTHS = {"building": 64, "unit": 16, "room": 32}


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


def person_cells(raw, cleaned):
    """Preview cells of a person row: name, document masked, birth year only, phone masked
    (decision 0015; the job's result is stored and shown to whoever started the job)."""
    if cleaned is None:
        number = identity.normalise_text(cell_text(raw.get("doc_number")))
        return [cell_text(raw.get("name"))[:64], identity.mask_document(number), "", ""]
    number = cleaned["doc_number"]
    is_resident_id = cleaned["doc_type"] == DocumentType.RESIDENT_ID
    return [
        cleaned["name"],
        identity.mask_document(number),
        identity.resident_id_facts(number)[1].year if is_resident_id else "",
        identity.mask_phone(cleaned["phone"]) if cleaned.get("phone") else "",
    ]


def person_columns():
    return ["姓名", "证件号码", _("Birth year"), "联系电话"]


def clean_doc_type(value):
    text = cell_text(value)
    if not text:
        return DocumentType.RESIDENT_ID.value
    if text not in DOC_TYPES:
        raise CellError(_("Unknown document type “%(value)s”.") % {"value": text})
    return DOC_TYPES[text]


def another_area():
    return _("This person is registered in another area; ask that community to hand the record over.")


def place_of(data):
    """Where a cleaned row puts its household: (grid pk, building key, unit, room)."""
    return (data["grid"].pk, normalise_building_name(data["building"]), data["unit"], data["room"])


def _address(building, unit, room):
    unit = f"{unit}单元" if unit and unit.isdigit() else unit
    return " ".join(part for part in (building, unit, room) if part)


class ResidentResource(Resource):
    title = "居民台账"
    columns = COLUMNS
    example = EXAMPLE

    def __init__(self, user, area, **params):
        super().__init__(user, area, **params)
        grids = list(area.subtree().filter(level=Level.GRID)) if area.level < Level.GRID else [area]
        allowed = user.scope_paths("people.add_person") if user is not None else None
        self.grids = [g for g in grids if allowed is None or any(g.path.startswith(p) for p in allowed)]
        # A community with a single grid: every household of it is in that grid.
        self.only_grid = self.grids[0] if len(grids) == 1 and self.grids else None
        self.building_grids = None  # building key -> {grid pk}, read when a row names no grid
        self.new_buildings, self.new_households = set(), set()  # found by plan_rows, for the summary
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
        check("building", lambda v: self._required(v, "building"))
        check("grid", lambda _v: self._grid(raw, check.data.get("building")))
        check("unit", lambda v: self._short(_unit(cell_text(v)), "unit"))
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
        return self._short(text, field)

    def _short(self, text, field):
        if len(text) > PLACE_LENGTHS[field]:
            raise CellError(
                _("%(column)s is longer than %(n)d characters.")
                % {"column": self.header_of(field), "n": PLACE_LENGTHS[field]}
            )
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

    def _grid(self, raw, building):
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
        if self.area.level == Level.GRID:
            if self.grids:
                return self.area
            raise CellError(
                _("Grid %(grid)s is not inside the chosen area or your scope.") % {"grid": self.area.name}
            )
        return self._grid_of_building(building)

    def _grid_of_building(self, building):
        """No grid column: the grid of the building when it is registered in one grid of the area,
        or the area's only grid; only a building new to an area of several grids needs the column."""
        if not building:
            return None  # the building's own problem is reported
        grid_ids = self._building_grids().get(normalise_building_name(building), set())
        if len(grid_ids) == 1:
            return self.by_pk[next(iter(grid_ids))]
        if grid_ids:
            names = "、".join(sorted(self.by_pk[g].name for g in grid_ids))
            raise CellError(
                _(
                    "Building %(building)s is in more than one grid (%(grids)s); say which in the %(column)s column."
                )
                % {"building": building, "grids": names, "column": self.header_of("grid")}
            )
        if self.only_grid is not None:
            return self.only_grid
        if not self.grids:
            raise CellError(
                _("Grid %(grid)s is not inside the chosen area or your scope.") % {"grid": self.area.name}
            )
        raise CellError(
            _(
                "Building %(building)s is not registered in %(area)s yet and the area has %(n)d grids; "
                "say which grid it is in, in the %(column)s column."
            )
            % {
                "building": building,
                "area": self.area.name,
                "n": len(self.grids),
                "column": self.header_of("grid"),
            }
        )

    def _building_grids(self):
        if self.building_grids is None:
            self.building_grids = {}
            rows = Building.objects.filter(area__path__startswith=self.area.path).values_list(
                "area_id", "name_key"
            )
            for grid_id, key in rows.iterator():
                if grid_id in self.by_pk:
                    self.building_grids.setdefault(key, set()).add(grid_id)
        return self.building_grids

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
                # Nothing of the registered person is told, only that they are elsewhere.
                problems.append((row, [(self.header_of("doc_number"), another_area())]))
                continue
            changes = self._changes(person, data)
            outcome = Outcome(row, "update" if changes else "unchanged", self.key(data), changes, person)
            if changes:
                outcome.notes.append(self._changed_message(changes))
            outcomes.append(outcome)
        charge_near_misses(self.user, [o.key[1] for o in outcomes if o.action == "create"])
        self.note_places(outcomes)
        return outcomes, problems

    def _changed_message(self, changes):
        headers = [
            "/".join(self.header_of(f) for f in ("building", "unit", "room"))
            if field == "place"
            else self.header_of(field)
            for field in changes
        ]
        return _("Changes: %(columns)s") % {"columns": "、".join(headers)}

    # -- the preview ---------------------------------------------------------------------
    @property
    def preview_columns(self):
        return [*person_columns(), *(self.header_of(f) for f in ("grid", "building", "unit", "room"))]

    def preview_cells(self, raw, cleaned):
        place = (
            [cleaned["grid"].name, cleaned["building"], cleaned["unit"], cleaned["room"]]
            if cleaned is not None
            else [
                cell_text(raw.get("grid_name")) or cell_text(raw.get("grid_code")),
                *(cell_text(raw.get(f)) for f in ("building", "unit", "room")),
            ]
        )
        return [*person_cells(raw, cleaned), *place]

    def extra_counts(self):
        return [
            [_("New buildings"), len(self.new_buildings)],
            [_("New households"), len(self.new_households)],
        ]

    def note_places(self, outcomes):
        """Tell, row by row, which rows create a building or a household (and which building a
        differently written name is): the same look-ups the write makes, read only."""
        wanted = {}  # outcome -> its place, for the rows that put a person somewhere
        for o in outcomes:
            if o.action == "create":
                wanted[o.row] = (o, place_of(o.data), o.data["building"])
            elif "place" in o.data:
                wanted[o.row] = (o, *o.data["place"])
        buildings = self._buildings({place[:2] for _o, place, _name in wanted.values()})
        households = self._existing_households(buildings.values())
        for o, place, name in wanted.values():
            building = buildings.get(place[:2])
            grid = self.by_pk[place[0]].name
            if building is None:
                self.new_buildings.add(place[:2])
                self.new_households.add(place)
                o.notes.append(_("New building: %(grid)s %(building)s") % {"grid": grid, "building": name})
                o.notes.append(_("New household: %(address)s") % {"address": _address(name, *place[2:])})
                continue
            if building.name != name:
                o.notes.append(
                    _("%(given)s is building %(building)s") % {"given": name, "building": building.name}
                )
            if (building.pk, *place[2:]) not in households:
                self.new_households.add(place)
                o.notes.append(
                    _("New household: %(address)s") % {"address": _address(building.name, *place[2:])}
                )

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
        place = place_of(data)
        # The building by its key: "1" is the household's "1号楼" (decision 0018).
        if (
            household is None
            or (
                household.area_id,
                household.building.name_key,
                household.unit,
                household.room,
            )
            != place
        ):
            changes["place"] = (place, data["building"])
        if data["tags"] is not None and sorted(t.pk for t in person.tags.all()) != data["tags"]:
            changes["tags"] = data["tags"]
        return changes

    def write(self, outcomes):
        names = {}  # place -> the building's name as the first row gives it
        for o in sorted(outcomes, key=lambda o: o.row):
            if o.action == "create":
                names.setdefault(place_of(o.data), o.data["building"])
            elif "place" in o.data:
                names.setdefault(*o.data["place"])
        households = self._households(names)
        self._create([o for o in outcomes if o.action == "create"], households)
        self._update([o for o in outcomes if o.action == "update"], households)

    def _buildings(self, grid_keys):
        """{(grid pk, name key): Building} of those that exist, on the (area, name_key) index. Of
        two buildings of a grid sharing a key (written before keys existed) the older one."""
        found, keys = {}, sorted({k for _g, k in grid_keys})
        grid_ids = {g for g, _k in grid_keys}
        for start in range(0, len(keys), 500):
            for building in Building.objects.filter(
                area_id__in=grid_ids, name_key__in=keys[start : start + 500]
            ).order_by("pk"):
                found.setdefault((building.area_id, building.name_key), building)
        return {gk: b for gk, b in found.items() if gk in grid_keys}

    @staticmethod
    def _existing_households(buildings):
        ids, found = sorted(b.pk for b in buildings), {}
        for start in range(0, len(ids), 500):
            for household in Household.objects.filter(building_id__in=ids[start : start + 500]):
                found[(household.building_id, household.unit, household.room)] = household
        return found

    def _households(self, names):
        """{place: Household} for every place, creating the buildings and households missing."""
        buildings = self._buildings({p[:2] for p in names})
        # Objects carry their grid, not just its id: the audit rows file them under its path.
        new_buildings = []
        for place in sorted(names, key=lambda p: (p[0], p[1])):
            if place[:2] not in buildings:
                building = Building(area=self.by_pk[place[0]], name=names[place])
                buildings[place[:2]] = building
                new_buildings.append(building)
        if new_buildings:
            bulk_insert(Building, new_buildings)
            log_bulk_create(new_buildings)
        existing = self._existing_households(b for b in buildings.values() if b.pk)
        new_households, found = [], {}
        for place in sorted(names):
            building = buildings[place[:2]]
            address = (building.pk, *place[2:])
            if address not in existing:
                existing[address] = Household(
                    building=building, area=self.by_pk[building.area_id], unit=place[2], room=place[3]
                )
                new_households.append(existing[address])
            found[place] = existing[address]
        if new_households:
            bulk_insert(Household, new_households)
            log_bulk_create(new_households)
        return found

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
                household=households[place_of(d)],
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
                    person.household = households[value[0]]
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
