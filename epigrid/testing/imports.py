"""Import ledgers of a round: exemptions 免检名单 and pre-formed groups 预编组, through the one
pipeline (core.imports) and registered with jobs.imports.

- The round: a 轮次 column (the round's name or number) or, without one, the one round that is
  not finished and covers the import's area; several such rounds (or none) make the row an error
  asking for the column.
- A person is found by document type + number (following merges) and must be registered: these
  ledgers never register residents. Out-of-scope rules are the key-person ledger's: a person
  outside the import's area or the user's scope for the ledger is refused with the same message
  whether or not they exist, never naming them; numbers not found that look like a masked
  registered one are charged as lookups (decision 0015).
- The name must match the registry (a different name usually means a mistyped ID).
- Rows error row by row; valid rows are written together in the pipeline's one transaction.
- Re-importing the same file changes nothing (unchanged rows).
"""

from collections import Counter, defaultdict

from django.db.models import Count
from django.utils.translation import gettext as _

from epigrid.areas.models import Area
from epigrid.audit.models import Action
from epigrid.audit.services import build_change, log_bulk_create, log_bulk_update, write_changes
from epigrid.core import identity
from epigrid.core.imports import Outcome, Resource, RowCheck, bulk_insert
from epigrid.core.tabular import CellError, Column, cell_text
from epigrid.jobs.imports import register_ledger
from epigrid.people.imports import another_area, charge_near_misses, check_identity, person_cells
from epigrid.people.models import Person
from epigrid.testing.models import Campaign, Exemption, ExemptionReason, Group

ROUND_COLUMN = Column("round", "轮次", ("轮次", "检测轮次", "核酸轮次", "轮次名称"))
DOC_COLUMNS = [
    Column("doc_type", "证件类型", ("证件类型", "证件种类")),
    Column(
        "doc_number",
        "证件号码",
        ("证件号码", "证件号", "身份证号", "身份证号码", "公民身份号码", "身份证"),
        required=True,
    ),
    Column("name", "姓名", ("姓名", "名字", "人员姓名", "居民姓名"), required=True),
]

# -- 免检原因 ---------------------------------------------------------------------------------------
REASON_LABELS = {
    ExemptionReason.BEDRIDDEN: "卧床或重病",
    ExemptionReason.INFANT: "婴幼儿",
    ExemptionReason.HOSPITAL: "住院",
    ExemptionReason.AWAY: "外出不在本市",
    ExemptionReason.MOVED: "已搬离",
    ExemptionReason.ISOLATED: "隔离中单独检测",
    ExemptionReason.DECEASED: "已故",
    ExemptionReason.OTHER: "其他",
}
_REASON_NAMES = {
    **{label: value for value, label in REASON_LABELS.items()},
    **{value: value for value in ExemptionReason.values},
    "卧床": ExemptionReason.BEDRIDDEN,
    "卧床不起": ExemptionReason.BEDRIDDEN,
    "长期卧床": ExemptionReason.BEDRIDDEN,
    "重病": ExemptionReason.BEDRIDDEN,
    "重症": ExemptionReason.BEDRIDDEN,
    "失能": ExemptionReason.BEDRIDDEN,
    "行动不便": ExemptionReason.BEDRIDDEN,
    "婴儿": ExemptionReason.INFANT,
    "新生儿": ExemptionReason.INFANT,
    "在院": ExemptionReason.HOSPITAL,
    "住院治疗": ExemptionReason.HOSPITAL,
    "外出": ExemptionReason.AWAY,
    "不在本市": ExemptionReason.AWAY,
    "在外地": ExemptionReason.AWAY,
    "外地": ExemptionReason.AWAY,
    "搬离": ExemptionReason.MOVED,
    "搬走": ExemptionReason.MOVED,
    "迁出": ExemptionReason.MOVED,
    "已迁出": ExemptionReason.MOVED,
    "隔离": ExemptionReason.ISOLATED,
    "隔离中": ExemptionReason.ISOLATED,
    "集中隔离": ExemptionReason.ISOLATED,
    "居家隔离": ExemptionReason.ISOLATED,
    "死亡": ExemptionReason.DECEASED,
    "去世": ExemptionReason.DECEASED,
    "其它": ExemptionReason.OTHER,
}


def parse_reason(value):
    text = cell_text(value).replace(" ", "")
    if not text:
        raise CellError(_("The reason is missing."))
    if text in _REASON_NAMES:
        return str(_REASON_NAMES[text])
    raise CellError(
        _("“%(value)s” is not a known reason. Use one of: %(names)s.")
        % {"value": text, "names": "、".join(REASON_LABELS.values())}
    )


def _inside(path, paths):
    return paths is None or any(path.startswith(p) for p in paths)


def _related(area_path, campaign_paths):
    return any(area_path.startswith(p) or p.startswith(area_path) for p in campaign_paths)


class RoundLedger(Resource):
    """What both ledgers share: the round of each row, persons and the out-of-scope rule."""

    permission = ""

    def __init__(self, user, area, **params):
        super().__init__(user, area, **params)
        self.paths = user.scope_paths(self.permission) if user is not None else None
        visible = Campaign.objects.restrict(user, "view") if user is not None else Campaign.objects.all()
        self.rounds = list(visible.prefetch_related("areas"))
        self.round_paths = {c.pk: [a.path for a in c.areas.all()] for c in self.rounds}

    def round_of(self, text):
        """(campaign, None) or (None, message) for a row's 轮次 cell."""
        if text:
            matches = [c for c in self.rounds if c.name == text or str(c.pk) == text]
            if len(matches) != 1:
                return None, _("No round named “%(name)s” that you can see (or several).") % {"name": text}
            campaign = matches[0]
        else:
            open_ = [
                c
                for c in self.rounds
                if c.status != Campaign.Status.FINISHED and _related(self.area.path, self.round_paths[c.pk])
            ]
            if len(open_) != 1:
                return None, _(
                    "Fill in the round (轮次): %(n)d rounds that are not finished cover this area."
                ) % {"n": len(open_)}
            campaign = open_[0]
        if campaign.status == Campaign.Status.FINISHED:
            return None, _("The round “%(name)s” is finished.") % {"name": campaign.name}
        return campaign, None

    def identity(self, check):
        check_identity(check)
        check.data.pop("phone", None)
        check.data["round"] = cell_text(check.raw.get("round"))

    def persons(self, cleaned_rows):
        """{(doc_type, number): live person} for the rows; charges near misses for the rest."""
        numbers = defaultdict(set)
        for _row, c in cleaned_rows:
            numbers[c["doc_type"]].add(c["doc_number"])
        found = {}
        for doc_type, wanted in numbers.items():
            wanted = sorted(wanted)
            for start in range(0, len(wanted), 2000):
                for person in Person.objects.filter(
                    doc_type=doc_type, doc_number__in=wanted[start : start + 2000]
                ).select_related("area", "merged_into__area"):
                    found[(doc_type, person.doc_number)] = person.merged_into or person
        known = {number for _type, number in found}
        charge_near_misses(
            self.user, [c["doc_number"] for _row, c in cleaned_rows if c["doc_number"] not in known]
        )
        return found

    def check_person(self, data, person, campaign):
        """None, or [(column, message)] refusing the row."""
        doc_column = self.header_of("doc_number")
        if person is None:
            return [(doc_column, _("Not in the registry: register the resident first."))]
        if not (person.area.path.startswith(self.area.path) and _inside(person.area.path, self.paths)):
            # Same message whether or not the person exists elsewhere: nothing is told of them.
            return [(doc_column, another_area())]
        if not any(person.area.path.startswith(p) for p in self.round_paths[campaign.pk]):
            return [(doc_column, _("This person lives outside the areas this round covers."))]
        if person.name != data["name"]:
            return [
                (
                    self.header_of("name"),
                    _("The registry has another name (%(name)s) for this document; check the ID or the name.")
                    % {"name": person.name},
                )
            ]
        return None

    @property
    def preview_columns(self):
        return ["姓名", "证件号码", _("Birth year"), *[self.header_of(f) for f in self.extra_fields]]

    extra_fields = ()

    def preview_cells(self, raw, cleaned):
        cells = person_cells(raw, cleaned)[:3]
        source = cleaned if cleaned is not None else {f: cell_text(raw.get(f)) for f in self.extra_fields}
        return [*cells, *[self.show(f, source.get(f)) for f in self.extra_fields]]

    def show(self, field, value):
        return value or ""


class ExemptionResource(RoundLedger):
    """免检名单: 证件号码, 姓名, 免检原因, 备注 (and 轮次)."""

    title = "免检名单"
    permission = "testing.add_exemption"
    columns = [
        *DOC_COLUMNS,
        Column("reason", "免检原因", ("免检原因", "原因", "免检理由", "免采原因"), required=True),
        Column("note", "备注", ("备注", "说明")),
        ROUND_COLUMN,
    ]
    example = ["居民身份证", "11010519491231002X", "张三", "卧床或重病", "上门采样", ""]
    extra_fields = ("reason", "round")

    def clean_row(self, raw):
        check = RowCheck(self, raw)
        self.identity(check)
        check("reason", parse_reason)
        note = cell_text(raw.get("note"))
        if len(note) > 200:
            check.problem(
                "note", _("%(column)s is longer than 200 characters.") % {"column": self.header_of("note")}
            )
        check.data["note"] = note
        return check.finish()

    def show(self, field, value):
        if field == "reason":
            return REASON_LABELS.get(value, value or "")
        return value or ""

    def key(self, cleaned):
        return (cleaned["round"], cleaned["doc_type"], cleaned["doc_number"])

    def plan_rows(self, cleaned_rows):
        persons = self.persons(cleaned_rows)
        rounds = {}
        for _row, data in cleaned_rows:
            if data["round"] not in rounds:
                rounds[data["round"]] = self.round_of(data["round"])
        ids = [p.pk for p in persons.values()]
        existing = {}
        for start in range(0, len(ids), 2000):
            for exemption in Exemption.objects.filter(
                person_id__in=ids[start : start + 2000], campaign__in=[c for c, _m in rounds.values() if c]
            ):
                existing[(exemption.campaign_id, exemption.person_id)] = exemption
        outcomes, problems, claimed = [], [], {}
        for row, data in cleaned_rows:
            campaign, message = rounds[data["round"]]
            if message:
                problems.append((row, [(self.header_of("round"), message)]))
                continue
            person = persons.get((data["doc_type"], data["doc_number"]))
            refused = self.check_person(data, person, campaign)
            if refused:
                problems.append((row, refused))
                continue
            claim = (campaign.pk, person.pk)
            if claim in claimed:
                problems.append(
                    (
                        row,
                        [
                            (
                                self.header_of("doc_number"),
                                _("Same document as row %(row)d but different details; keep one of them.")
                                % {"row": claimed[claim]},
                            )
                        ],
                    )
                )
                continue
            claimed[claim] = row
            fields = {"reason": data["reason"], "note": data["note"]}
            current = existing.get(claim)
            if current is None:
                outcomes.append(
                    Outcome(row, "create", self.key(data), {**fields, "campaign": campaign, "person": person})
                )
            elif (current.reason, current.note) == (fields["reason"], fields["note"]):
                outcomes.append(Outcome(row, "unchanged", self.key(data), {}, current))
            else:
                outcomes.append(Outcome(row, "update", self.key(data), fields, current))
        return outcomes, problems

    def write(self, outcomes):
        new = [
            Exemption(
                campaign=o.data["campaign"],
                person=o.data["person"],
                area_id=o.data["person"].area_id,
                reason=o.data["reason"],
                note=o.data["note"],
                recorded_by=self.user,
            )
            for o in outcomes
            if o.action == "create"
        ]
        if new:
            bulk_insert(Exemption, new)
            log_bulk_create(new)
        changed = []
        for o in outcomes:
            if o.action == "update":
                o.target.reason, o.target.note, o.target.recorded_by = (
                    o.data["reason"],
                    o.data["note"],
                    self.user,
                )
                changed.append(o.target)
        if changed:
            Exemption.objects.bulk_update(changed, ["reason", "note", "recorded_by"], batch_size=2000)
            log_bulk_update(changed)


class GroupResource(RoundLedger):
    """预编组: 组号, 证件号码, 姓名 (and 轮次); at most the round's pooling size per group."""

    title = "预编组名单"
    permission = "testing.add_group"
    columns = [
        Column(
            "code",
            "组号",
            ("组号", "编组号", "分组编号", "组编号", "预编组号", "编组编号", "组别"),
            required=True,
        ),
        *DOC_COLUMNS,
        ROUND_COLUMN,
    ]
    example = ["G0001", "居民身份证", "11010519491231002X", "张三", ""]
    extra_fields = ("code", "round")

    def __init__(self, user, area, **params):
        super().__init__(user, area, **params)
        self.new_groups = 0

    def clean_row(self, raw):
        check = RowCheck(self, raw)
        check("code", self._code)
        self.identity(check)
        return check.finish()

    @staticmethod
    def _code(value):
        code = identity.normalise_text(cell_text(value))
        if not code:
            raise CellError(_("The group code is missing."))
        if len(code) > 32:
            raise CellError(_("The group code is longer than 32 characters."))
        return code

    def key(self, cleaned):
        return (cleaned["round"], cleaned["doc_type"], cleaned["doc_number"])

    def plan_rows(self, cleaned_rows):
        persons = self.persons(cleaned_rows)
        rounds = {}
        for _row, data in cleaned_rows:
            if data["round"] not in rounds:
                rounds[data["round"]] = self.round_of(data["round"])
        campaigns = [c for c, _m in rounds.values() if c]
        # Only the groups and memberships the file touches: a round may hold a million members.
        codes = sorted({data["code"] for _row, data in cleaned_rows})
        ids = sorted({p.pk for p in persons.values()})
        groups, size, member_of = {}, Counter(), {}
        for start in range(0, len(codes), 2000):
            for group in Group.objects.filter(
                campaign__in=campaigns, code__in=codes[start : start + 2000]
            ).annotate(n=Count("members")):
                groups[(group.campaign_id, group.code)] = group
                size[(group.campaign_id, group.code)] = group.n
        through = Group.members.through
        for start in range(0, len(ids), 2000):
            for campaign_id, person_id, code in through.objects.filter(
                group__campaign__in=campaigns, person_id__in=ids[start : start + 2000]
            ).values_list("group__campaign_id", "person_id", "group__code"):
                member_of[(campaign_id, person_id)] = code
        outcomes, problems = [], []
        new_codes = set()
        for row, data in cleaned_rows:
            campaign, message = rounds[data["round"]]
            if message:
                problems.append((row, [(self.header_of("round"), message)]))
                continue
            person = persons.get((data["doc_type"], data["doc_number"]))
            refused = self.check_person(data, person, campaign)
            if refused:
                problems.append((row, refused))
                continue
            group_key = (campaign.pk, data["code"])
            current = member_of.get((campaign.pk, person.pk))
            if current == data["code"]:
                outcomes.append(Outcome(row, "unchanged", self.key(data), {}))
                continue
            if current is not None:
                problems.append(
                    (
                        row,
                        [
                            (
                                self.header_of("code"),
                                _("Already in group %(code)s of this round.") % {"code": current},
                            )
                        ],
                    )
                )
                continue
            if size[group_key] >= campaign.capacity:
                problems.append(
                    (
                        row,
                        [
                            (
                                self.header_of("code"),
                                _("Group %(code)s would have more than %(n)d persons, the round's tube size.")
                                % {"code": data["code"], "n": campaign.capacity},
                            )
                        ],
                    )
                )
                continue
            size[group_key] += 1
            member_of[(campaign.pk, person.pk)] = data["code"]
            outcome = Outcome(
                row, "create", self.key(data), {"campaign": campaign, "person": person, "code": data["code"]}
            )
            if group_key not in groups and group_key not in new_codes:
                new_codes.add(group_key)
                outcome.notes.append(_("New group %(code)s") % {"code": data["code"]})
            outcomes.append(outcome)
        self.new_groups = len(new_codes)
        return outcomes, problems

    def extra_counts(self):
        return [[_("New groups"), self.new_groups]]

    def write(self, outcomes):
        members = defaultdict(list)
        for o in outcomes:
            if o.action == "create":
                members[(o.data["campaign"].pk, o.data["code"])].append(o.data["person"])
        if not members:
            return
        campaigns = {c for c, _code in members}
        groups = {(g.campaign_id, g.code): g for g in Group.objects.filter(campaign_id__in=campaigns)}
        new = [
            Group(campaign_id=campaign_id, code=code, area=_common_area(people))
            for (campaign_id, code), people in members.items()
            if (campaign_id, code) not in groups
        ]
        if new:
            bulk_insert(Group, new)
            log_bulk_create(new)
            groups.update({(g.campaign_id, g.code): g for g in new})
        through = Group.members.through
        links = [
            through(group_id=groups[key].pk, person_id=person.pk)
            for key, people in members.items()
            for person in people
        ]
        through.objects.bulk_create(links, batch_size=2000)
        # What the change log's m2m receiver writes for members.add(), once per group.
        write_changes(
            [
                build_change(
                    groups[key], Action.UPDATE, None, {"members": {"added": sorted(p.pk for p in people)}}
                )
                for key, people in members.items()
            ]
        )


def _common_area(persons):
    """The deepest area holding every member: a group of one grid is that grid's to see."""
    paths = [p.area.path for p in persons]
    parts = [path.strip("/").split("/") for path in paths]
    common = []
    for codes in zip(*parts, strict=False):
        if len(set(codes)) != 1:
            break
        common.append(codes[0])
    return Area.objects.get(code=common[-1])


register_ledger("exemptions", ExemptionResource, "testing.add_exemption")
register_ledger("groups", GroupResource, "testing.add_group")
