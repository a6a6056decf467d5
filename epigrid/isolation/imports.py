"""Import ledger "isolation-stays" 隔离点台账: persons put in isolation-site rooms, through the one
pipeline (core.imports) and registered with jobs.imports (decision 0024, addendum).

- The person is searched before anything is created: by the ID number (check digit and birth
  date validated by people's cleaning, never matched by region code), following merges. A person
  not in the registry is registered with the row through the resident ledger (its grids, scope and
  households), from 楼号单元房间号 ("3号楼2单元502", "3-2-502").
- The site is found by its name (酒店) among the sites the user may allocate rooms of; the room by
  its number within that site. An unknown room is a row error, never created: rooms are the
  command centre's to set up (beds, floor, kind), and a typo must not open a phantom room.
- Each new row is allocated and checked in through isolation.services, so the one-person-a-room
  rule, the room's states and the change log hold as on the pages. A person with a current stay in
  that very room is unchanged (the same file twice changes nothing); a current stay elsewhere, a
  room taken by someone else, a room being cleaned or out of service are row errors. Companions
  are not imported: sharing a room is decided on the site page.
- 所在区, 街道, 社区 and 解除隔离日期 are read for the office's eyes only: the district and the
  person's area come from the registry, and a check-out is done on the site page.
- Bad rows are reported with the sheet's own row numbers; valid rows are written together in the
  pipeline's one transaction (decision 0007).
"""

import re

from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.core import identity
from epigrid.core.imports import Outcome, Resource, RowCheck, RowInvalid
from epigrid.core.tabular import CellError, Column, cell_datetime, cell_text
from epigrid.isolation import services
from epigrid.isolation.models import Room, Site, Stay
from epigrid.jobs.imports import register_ledger
from epigrid.people.imports import (
    SEXES,
    ResidentResource,
    another_area,
    charge_near_misses,
    check_identity,
    person_cells,
    person_columns,
)
from epigrid.people.models import DocumentType, Person

PERMISSION = services.ALLOCATE

COLUMNS = [
    Column("district", "所在区", ("所在区", "区", "区县", "所属区")),
    Column("site", "酒店", ("酒店", "隔离点", "隔离酒店", "隔离点名称", "酒店名称"), required=True),
    Column("room", "房间号", ("房间号", "房号", "房间"), required=True),
    Column("at", "入住时间", ("入住时间", "入住日期", "隔离时间", "入住")),
    Column("name", "姓名", ("姓名", "名字"), required=True),
    Column("sex", "性别", ("性别",)),
    Column("doc_type", "证件类型", ("证件类型", "证件种类")),
    Column(
        "doc_number",
        "身份证",
        ("身份证", "身份证号", "身份证号码", "证件号码", "证件号", "公民身份号码"),
        required=True,
    ),
    Column("phone", "联系方式", ("联系方式", "联系电话", "手机号", "手机号码", "电话")),
    Column("street", "街道", ("街道", "所属街道", "乡镇街道")),
    Column("community", "社区", ("社区", "所属社区", "社区名称")),
    Column("address", "楼号单元房间号", ("楼号单元房间号", "楼号单元房号", "住址", "现住址", "家庭住址")),
    Column("release", "解除隔离日期", ("解除隔离日期", "解除隔离时间", "解除日期")),
    Column("note", "备注", ("备注", "说明")),
]
EXAMPLE = [
    "城关区",
    "雁滩隔离酒店",
    "101",
    "2022-11-20 14:30",
    "张三",
    "女",
    "",
    "11010519491231002X",
    "13812345678",
    "九州街道",
    "九州社区",
    "3号楼2单元502",
    "",
    "",
]

_DASH = "-－—"
_DASHED = re.compile(rf"^([^{_DASH}]+)[{_DASH}]([^{_DASH}]+)(?:[{_DASH}]([^{_DASH}]+))?$")
_WRITTEN = re.compile(r"^(.+?(?:号楼|栋|幢|楼|号))(?:(.+?)单元)?(.+?)(?:室|号)?$")


def parse_address(value):
    """楼号单元房间号 as (building, unit, room): "3号楼2单元502", "3号楼502室", "3-2-502", "3-502";
    None for an empty cell. Anything else is a CellError naming the shapes it takes."""
    text = cell_text(value).replace(" ", "")
    if not text:
        return None
    dashed = _DASHED.match(text)
    if dashed:
        first, second, third = dashed.groups()
        return (first, second, third) if third else (first, "", second)
    written = _WRITTEN.match(text)
    if written:
        building, unit, room = written.groups()
        return building, unit or "", room
    raise CellError(_("“%(value)s” is not an address like 3号楼2单元502 or 3-2-502.") % {"value": text[:40]})


def _too_long(column, n):
    return _("%(column)s is longer than %(n)d characters.") % {"column": column, "n": n}


class StayResource(Resource):
    """隔离点台账: 所在区, 酒店, 房间号, 入住时间, 姓名, 性别, 身份证, 联系方式, 街道, 社区,
    楼号单元房间号, 解除隔离日期, 备注."""

    title = "隔离点台账"
    permission = PERMISSION
    columns = COLUMNS
    example = EXAMPLE

    def __init__(self, user, area, **params):
        super().__init__(user, area, **params)
        # New persons are registered through the resident ledger (its grids, scope and households).
        self.residents = ResidentResource(user, area)
        self.new_persons = 0

    # -- one row -------------------------------------------------------------------------
    def clean_row(self, raw):
        check = RowCheck(self, raw)
        data = check.data
        check_identity(check, empty_phone="")
        check("sex", self._sex)
        check("at", self._at)
        for field, length in (("site", 100), ("room", 16)):
            text = cell_text(raw.get(field))
            if not text:
                check.problem(field, _("%(column)s is missing.") % {"column": self.header_of(field)})
            elif len(text) > length:
                check.problem(field, _too_long(self.header_of(field), length))
            data[field] = text
        check("address", parse_address)
        note = cell_text(raw.get("note"))
        if len(note) > 200:
            check.problem("note", _too_long(self.header_of("note"), 200))
        data["note"] = note
        if not check.problems and self._sex_contradicts_id(data):
            check.problem("sex", _("The sex does not match the resident ID."))
        return check.finish()

    @staticmethod
    def _sex(value):
        text = cell_text(value)
        if text and text not in SEXES:
            raise CellError(_("“%(value)s” is not a known sex (男 or 女).") % {"value": text[:10]})
        return SEXES.get(text)

    @staticmethod
    def _at(value):
        moment = cell_datetime(value)
        if moment is not None and moment > timezone.now():
            raise CellError(
                _("%(date)s is in the future.")
                % {"date": timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")}
            )
        return moment

    @staticmethod
    def _sex_contradicts_id(data):
        return (
            bool(data.get("sex"))
            and data["doc_type"] == DocumentType.RESIDENT_ID
            and identity.resident_id_facts(data["doc_number"])[0] != data["sex"]
        )

    def key(self, cleaned):
        # One row a person: the pipeline refuses a second row of the same ID number with other
        # details (under 身份证) and counts an exact repeat as unchanged.
        return (cleaned["doc_type"], cleaned["doc_number"])

    # -- the batch -----------------------------------------------------------------------
    def _sites(self, names):
        """{name: [Site]} of the sites named, among those whose rooms the user may allocate."""
        sites = Room.objects.restrict(self.user, perm=PERMISSION) if self.user is not None else Room.objects
        site_ids = sites.filter(site__name__in=names).values("site_id")
        found = {}
        for site in Site.objects.filter(pk__in=site_ids).order_by("pk"):
            found.setdefault(site.name, []).append(site)
        return found

    def plan_rows(self, cleaned_rows):
        self.new_persons = 0
        persons = self.residents._existing([self.key(c) for _row, c in cleaned_rows])
        # A registered person the user may not see is refused as "registered in another area", as
        # the resident ledger does; that answer, like "not registered", is a charged lookup.
        found = Person.objects.filter(pk__in=[p.pk for p in persons.values()])
        if self.user is not None:  # a command (no user) imports anywhere
            found = found.restrict(self.user, "view")
        self.visible = set(found.values_list("pk", flat=True))
        charge_near_misses(
            self.user,
            [
                c["doc_number"]
                for _row, c in cleaned_rows
                if self.key(c) not in persons or persons[self.key(c)].pk not in self.visible
            ],
        )
        sites = self._sites({c["site"] for _row, c in cleaned_rows})
        site_ids = [s.pk for found in sites.values() for s in found]
        rooms = {
            (r.site_id, r.number): r for r in Room.objects.filter(site_id__in=site_ids).select_related("site")
        }
        person_ids = [p.pk for p in persons.values()]
        stays_of_person = {
            s.person_id: s for s in Stay.objects.filter(person_id__in=person_ids, status__in=Stay.ACTIVE)
        }
        taken = {
            s.room_id: s.person_id
            for s in Stay.objects.filter(room__in=list(rooms.values()), status__in=Stay.ACTIVE).order_by("pk")
        }
        claimed = {}  # room pk -> the row that puts a person in it
        outcomes, problems = [], []
        for row, data in cleaned_rows:
            outcome, row_problems = self._plan(
                row, data, persons, sites, rooms, stays_of_person, taken, claimed
            )
            if row_problems:
                problems.append((row, row_problems))
            else:
                outcomes.append(outcome)
        return outcomes, problems

    def _plan(self, row, data, persons, sites, rooms, stays_of_person, taken, claimed):
        """(Outcome, None) or (None, [(column, message)])."""
        named = sites.get(data["site"], [])
        if len(named) != 1:
            message = (
                _("No isolation site “%(site)s” whose rooms you may allocate.")
                if not named
                else _("Several isolation sites are called “%(site)s”; rename one of them first.")
            )
            return None, [(self.header_of("site"), message % {"site": data["site"]})]
        site = named[0]
        room = rooms.get((site.pk, data["room"]))
        if room is None:
            return None, [
                (
                    self.header_of("room"),
                    _("%(site)s has no room %(room)s: rooms are added on the site's page.")
                    % {"site": site.name, "room": data["room"]},
                )
            ]
        person = persons.get(self.key(data))
        if person is not None and person.pk not in self.visible:
            return None, [(self.header_of("doc_number"), another_area())]
        current = stays_of_person.get(person.pk) if person is not None else None
        if current is not None:
            if current.room_id == room.pk:
                return Outcome(row, "unchanged", self.key(data), {}, current), None
            return None, [
                (self.header_of("doc_number"), _("%(name)s already has a room.") % {"name": data["name"]})
            ]
        if room.pk in claimed:
            return None, [
                (
                    self.header_of("room"),
                    _("Room %(room)s is given to row %(row)d too: one person a room.")
                    % {"room": room.number, "row": claimed[room.pk]},
                )
            ]
        if room.pk in taken:
            return None, [
                (
                    self.header_of("room"),
                    _("Room %(room)s is taken: one person a room, unless as a companion.")
                    % {"room": room.number},
                )
            ]
        if not site.is_active:
            return None, [(self.header_of("site"), _("This site is not taking persons."))]
        if room.status in (Room.Status.CLEANING, Room.Status.OUT_OF_SERVICE):
            return None, [
                (
                    self.header_of("room"),
                    _("Room %(room)s is %(status)s.")
                    % {"room": room.number, "status": room.get_status_display()},
                )
            ]
        resident = None
        if person is None:
            resident, resident_problems = self._resident(data)
            if resident_problems:
                return None, resident_problems
        claimed[room.pk] = row
        outcome = Outcome(row, "create", self.key(data), {**data, "room": room, "resident": resident}, person)
        if person is None:
            self.new_persons += 1
            outcome.notes.append(_("New person: registered with this row"))
        return outcome, None

    def _resident(self, data):
        """The resident ledger's cleaned row for a person new to the registry, or its problems."""
        if data["address"] is None:
            return None, [
                (
                    self.header_of("doc_number"),
                    _(
                        "This person is not in the registry yet: fill in %(column)s to register them "
                        "with this row, or register the resident first."
                    )
                    % {"column": self.header_of("address")},
                )
            ]
        building, unit, room = data["address"]
        raw = {
            "name": data["name"],
            "doc_type": data["doc_type"],
            "doc_number": data["doc_number"],
            "phone": data["phone"],
            "building": building,
            "unit": unit,
            "room": room,
        }
        try:
            return self.residents.clean_row(raw), None
        except RowInvalid as exc:
            # The resident ledger speaks of its own columns (楼栋, 网格): this ledger has one address.
            return None, [(self.header_of("address"), message) for _column, message in exc.problems]

    # -- the preview ---------------------------------------------------------------------
    @property
    def preview_columns(self):
        return [*person_columns(), self.header_of("site"), self.header_of("room")]

    def preview_cells(self, raw, cleaned):
        source = cleaned if cleaned is not None else {f: cell_text(raw.get(f)) for f in ("site", "room")}
        return [*person_cells(raw, cleaned), source.get("site"), source.get("room")]

    def extra_counts(self):
        return [[_("New persons"), self.new_persons]]

    # -- writing -------------------------------------------------------------------------
    def write(self, outcomes):
        creates = [o for o in outcomes if o.action == "create"]
        new_persons = [
            Outcome(o.row, "create", o.key, o.data["resident"]) for o in creates if o.target is None
        ]
        registered = {}
        if new_persons:
            self.residents.write(new_persons)
            registered = self.residents._existing([o.key for o in new_persons])
        now = timezone.now()
        for o in sorted(creates, key=lambda o: o.row):
            person = o.target or registered[o.key]
            at = o.data["at"] or now
            # Through the services: the room lock and the one-person-a-room check run again here,
            # so a room taken since the preview fails the whole import (one transaction), never
            # two persons in one room.
            stay = services.allocate(self.user, person, o.data["room"], note=o.data["note"], now=at)
            services.check_in(self.user, stay, now=at)


register_ledger("isolation-stays", StayResource, PERMISSION)
