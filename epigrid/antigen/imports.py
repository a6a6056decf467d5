"""Import ledger "antigen-kits" 抗原发放登记: kits handed to households, through the one pipeline
(core.imports) and registered with jobs.imports.

- A household is found by its address: 楼栋, 单元, 房号, and 网格 (the grid's code or name) where
  the import's area holds more than one building of that name. Buildings match by their name key
  ("1", "1号楼", "一号楼", "1栋" are one building, decision 0018). The ledger never creates
  buildings or households: an unknown address is a row error.
- The round: a 轮次 column (name or number) or, without one, the one round running today that
  covers the import's area.
- Re-importing the same file changes nothing; a later file with other counts corrects them.
- Bad rows are reported with the sheet's own row numbers; valid rows are written together in the
  pipeline's one transaction (decision 0007), with their change-log rows.
"""

from collections import defaultdict

from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.antigen.models import MAX_KITS_PER_HOUSEHOLD, AntigenRound, KitDistribution
from epigrid.areas.models import Area, Household, Level, normalise_building_name
from epigrid.audit.services import log_bulk_create, log_bulk_update
from epigrid.core.imports import Outcome, Resource, RowCheck, bulk_insert
from epigrid.core.tabular import CellError, Column, cell_datetime, cell_text
from epigrid.jobs.imports import register_ledger

PERMISSION = "antigen.add_kitdistribution"


def parse_kits(value):
    text = cell_text(value)
    if not text:
        raise CellError(_("The number of kits is missing."))
    if not text.isdigit() or int(text) > MAX_KITS_PER_HOUSEHOLD:
        raise CellError(
            _("“%(value)s” is not a number of kits from 0 to %(max)d.")
            % {"value": text[:20], "max": MAX_KITS_PER_HOUSEHOLD}
        )
    return int(text)


def parse_unit(value):
    text = cell_text(value).replace(" ", "")
    return text.removesuffix("单元") if text.removesuffix("单元").isdigit() else text


class KitResource(Resource):
    """抗原发放登记: 网格, 楼栋, 单元, 房号, 发放数量, 发放时间, 备注 (and 轮次)."""

    title = "抗原发放登记"
    permission = PERMISSION
    columns = [
        Column("grid", "网格", ("网格", "网格名称", "网格编码", "所属网格")),
        Column("building", "楼栋", ("楼栋", "楼号", "楼栋号", "楼宇", "栋"), required=True),
        Column("unit", "单元", ("单元", "单元号")),
        Column("room", "房号", ("房号", "房间号", "门牌号", "户号"), required=True),
        Column(
            "kits",
            "发放数量",
            ("发放数量", "数量", "发放份数", "试剂盒数量", "抗原数量", "份数"),
            required=True,
        ),
        Column("at", "发放时间", ("发放时间", "发放日期", "时间", "日期")),
        Column("note", "备注", ("备注", "说明")),
        Column("round", "轮次", ("轮次", "抗原轮次", "轮次名称")),
    ]
    example = ["第一网格", "1号楼", "1", "101", "3", "2022-11-20 09:30", "", ""]
    preview_columns = ["网格", "楼栋", "单元", "房号", "发放数量"]

    def __init__(self, user, area, **params):
        super().__init__(user, area, **params)
        self.paths = user.scope_paths(PERMISSION) if user is not None else None
        visible = (
            AntigenRound.objects.restrict(user, "view") if user is not None else AntigenRound.objects.all()
        )
        self.rounds = list(visible.prefetch_related("areas"))

    def clean_row(self, raw):
        check = RowCheck(self, raw)
        check("kits", parse_kits)
        check("at", cell_datetime)
        for name in ("grid", "building", "room", "round"):
            check.data[name] = cell_text(raw.get(name))[:100]
        check.data["unit"] = parse_unit(raw.get("unit"))[:16]
        for name in ("building", "room"):
            if not check.data[name]:
                check.problem(name, _("%(column)s is missing.") % {"column": self.header_of(name)})
        note = cell_text(raw.get("note"))
        if len(note) > 200:
            check.problem(
                "note", _("%(column)s is longer than 200 characters.") % {"column": self.header_of("note")}
            )
        check.data["note"] = note
        return check.finish()

    def key(self, cleaned):
        # Rows are told apart in plan_rows, which names the row a household repeats (the
        # pipeline's own duplicate message speaks of documents).
        return ("row", id(cleaned))

    def preview_cells(self, raw, cleaned):
        source = (
            cleaned
            if cleaned is not None
            else {f: cell_text(raw.get(f)) for f in ("grid", "building", "unit", "room", "kits")}
        )
        return [
            source.get("grid"),
            source.get("building"),
            source.get("unit"),
            source.get("room"),
            source.get("kits"),
        ]

    # -- planning ------------------------------------------------------------------------------

    def round_of(self, text):
        if text:
            matches = [r for r in self.rounds if r.name == text or str(r.pk) == text]
            if len(matches) != 1:
                return None, _("No antigen round named “%(name)s” that you can see (or several).") % {
                    "name": text
                }
            return matches[0], None
        today = timezone.localdate()
        current = [
            r
            for r in self.rounds
            if r.starts_on <= today <= r.ends_on
            and any(
                self.area.path.startswith(a.path) or a.path.startswith(self.area.path) for a in r.areas.all()
            )
        ]
        if len(current) != 1:
            return None, _(
                "Fill in the round (轮次): %(n)d antigen rounds running today cover this area."
            ) % {"n": len(current)}
        return current[0], None

    def _grids(self):
        grids = Area.objects.filter(path__startswith=self.area.path, level=Level.GRID)
        return [g for g in grids if self.paths is None or any(g.path.startswith(p) for p in self.paths)]

    def _households(self, grids, cleaned_rows):
        """{(grid id, building key, unit, room): household} for the buildings the rows name."""
        keys = {normalise_building_name(c["building"]) for _row, c in cleaned_rows}
        found = {}
        households = Household.objects.filter(area__in=grids, building__name_key__in=keys).select_related(
            "building", "area"
        )
        for h in households:
            found[(h.area_id, h.building.name_key, h.unit, h.room)] = h
        return found

    def plan_rows(self, cleaned_rows):
        grids = self._grids()
        by_code = {g.code: g for g in grids}
        by_name = defaultdict(list)
        for g in grids:
            by_name[g.name].append(g)
        households = self._households(grids, cleaned_rows)
        grids_of_building = defaultdict(set)
        for grid_id, key, _unit, _room in households:
            grids_of_building[key].add(grid_id)
        rounds = {}
        outcomes, problems, claimed, resolved = [], [], {}, []
        for row, data in cleaned_rows:
            if data["round"] not in rounds:
                rounds[data["round"]] = self.round_of(data["round"])
            rnd, message = rounds[data["round"]]
            if message:
                problems.append((row, [(self.header_of("round"), message)]))
                continue
            household, problem = self._household(data, by_code, by_name, households, grids_of_building)
            if problem:
                problems.append((row, [problem]))
                continue
            if not rnd.covers(household.area.path):
                problems.append(
                    (
                        row,
                        [
                            (
                                self.header_of("building"),
                                _("This round does not cover %(area)s.") % {"area": household.area.name},
                            )
                        ],
                    )
                )
                continue
            claim = (rnd.pk, household.pk)
            if claim in claimed:
                first_row, first = claimed[claim]
                if (first["kits"], first["note"]) != (data["kits"], data["note"]):
                    problems.append(
                        (
                            row,
                            [
                                (
                                    self.header_of("room"),
                                    _("Same household as row %(row)d with another count; keep one of them.")
                                    % {"row": first_row},
                                )
                            ],
                        )
                    )
                continue
            claimed[claim] = (row, data)
            resolved.append((row, data, rnd, household))
        existing = self._existing(resolved)
        for row, data, rnd, household in resolved:
            current = existing.get((rnd.pk, household.pk))
            fields = {"kits": data["kits"], "note": data["note"], "at": data["at"]}
            key = (rnd.pk, household.pk)
            if current is None:
                if data["kits"] == 0:
                    outcomes.append(Outcome(row, "unchanged", key, {}))
                else:
                    outcomes.append(
                        Outcome(row, "create", key, {**fields, "round": rnd, "household": household})
                    )
            elif (current.kits, current.note) == (data["kits"], data["note"]):
                outcomes.append(Outcome(row, "unchanged", key, {}, current))
            else:
                outcomes.append(Outcome(row, "update", key, fields, current))
        return outcomes, problems

    def _household(self, data, by_code, by_name, households, grids_of_building):
        """(household, None) or (None, (column, message))."""
        key = normalise_building_name(data["building"])
        if data["grid"]:
            grid = by_code.get(data["grid"])
            if grid is None:
                named = by_name.get(data["grid"], [])
                if len(named) != 1:
                    return None, (
                        self.header_of("grid"),
                        _(
                            "No grid “%(grid)s” in %(area)s that you may record for (or several: use the grid's code)."
                        )
                        % {"grid": data["grid"], "area": self.area.name},
                    )
                grid = named[0]
            grid_ids = [grid.pk]
        else:
            grid_ids = sorted(grids_of_building.get(key, ()))
            if len(grid_ids) > 1:
                return None, (
                    self.header_of("grid"),
                    _("Several grids have a building “%(building)s”: fill in the grid (网格).")
                    % {"building": data["building"]},
                )
        household = next(
            (
                households.get((g, key, data["unit"], data["room"]))
                for g in grid_ids
                if households.get((g, key, data["unit"], data["room"]))
            ),
            None,
        )
        if household is None:
            return None, (
                self.header_of("room"),
                _(
                    "No household %(address)s is registered in %(area)s (or not in your areas): register it first."
                )
                % {
                    "address": " ".join(p for p in (data["building"], data["unit"], data["room"]) if p),
                    "area": self.area.name,
                },
            )
        return household, None

    def _existing(self, resolved):
        found = {}
        pairs = defaultdict(list)
        for _row, _data, rnd, household in resolved:
            pairs[rnd.pk].append(household.pk)
        for round_id, ids in pairs.items():
            for start in range(0, len(ids), 2000):
                for d in KitDistribution.objects.filter(
                    round_id=round_id, household_id__in=ids[start : start + 2000]
                ):
                    found[(d.round_id, d.household_id)] = d
        return found

    # -- writing -------------------------------------------------------------------------------

    def write(self, outcomes):
        now = timezone.now()
        new = [
            KitDistribution(
                round=o.data["round"],
                household=o.data["household"],
                area_id=o.data["household"].area_id,
                kits=o.data["kits"],
                handed_out_at=o.data["at"] or now,
                handed_out_by=self.user,
                note=o.data["note"],
            )
            for o in outcomes
            if o.action == "create"
        ]
        if new:
            bulk_insert(KitDistribution, new)
            log_bulk_create(new)
        changed = []
        for o in outcomes:
            if o.action == "update":
                target = o.target
                target.kits, target.note, target.handed_out_by = o.data["kits"], o.data["note"], self.user
                target.handed_out_at = o.data["at"] or now
                changed.append(target)
        if changed:
            KitDistribution.objects.bulk_update(
                changed, ["kits", "note", "handed_out_by", "handed_out_at"], batch_size=2000
            )
            log_bulk_update(changed)


register_ledger("antigen-kits", KitResource, PERMISSION)
