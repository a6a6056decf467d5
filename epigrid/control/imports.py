"""The key-person ledger (重点人员排查登记表) through the one import pipeline.

Decisions (docs/decisions/0012-keyperson-ledger-import.md):

- A row is a person (found by document type + number) in a category. The natural key is the
  person's open entry: re-importing the same file creates nothing; a changed row updates the open
  entry's descriptive fields (来源地, 交通方式/车次, 包保责任人, 备注 and a date that is not the
  plan's anchor). A different 人员类别, or a different anchor date (末次暴露时间 of a close
  contact, 抵达时间 of an arrival), would re-plan the measures: refused with a message.
- A row that is exactly a released or closed entry of the person (same category and dates) is
  that entry: unchanged, so an old cumulative ledger (or an export) never puts released people
  back under control.
- New entries are what `control.services.register_key_person` makes (planned under the active
  protocol by `control.plans`, change-logged), written in bulk inside the pipeline's write
  transaction (`_register`: a thousand rows are a few statements, not a few thousand); a
  category the active protocol no longer manages is rejected with the service's message.
- A person not in the registry yet is registered with the row when it carries the resident
  ledger's place columns (网格, 楼栋, 单元, 房号), through `ResidentResource`; otherwise the row
  is rejected asking for them. For a registered person the place columns, 现住址 and 电话 are
  information only: the registry is changed by the resident ledger and the person pages. The name
  must match the registry (a different name usually means a mistyped ID).
- 管控措施 is information: the plan comes from the protocol. A measure that is unknown or that
  contradicts the plan is a warning (`KeyPersonResource.warnings`), never a rejection.
- 包保责任人 is the 五包一 team: "街道:张三 社区:李四 网格员:王五 医生:赵六 民警:钱七" (any
  subset, any order), or a single name, who is the grid worker.
"""

import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.audit.models import Action
from epigrid.audit.services import build_change, log_bulk_update, write_changes
from epigrid.control import plans
from epigrid.control.models import Category, ControlMeasure, KeyPerson, MeasureKind
from epigrid.control.services import active_protocol, planned_measures
from epigrid.core.imports import Outcome, Resource, RowCheck, RowInvalid, bulk_insert
from epigrid.core.scoping import within
from epigrid.core.tabular import CellError, Column, cell_datetime, cell_text
from epigrid.people.imports import (
    ResidentResource,
    charge_near_misses,
    check_identity,
    person_cells,
    person_columns,
)
from epigrid.people.models import Person

COLUMNS = [
    Column("name", "姓名", ("姓名", "名字", "人员姓名"), required=True),
    Column("doc_type", "证件类型", ("证件类型", "证件种类")),
    Column(
        "doc_number",
        "证件号",
        ("证件号", "证件号码", "身份证号", "身份证号码", "公民身份号码", "身份证"),
        required=True,
    ),
    Column("phone", "电话", ("电话", "联系电话", "手机号", "手机号码", "联系方式")),
    Column("address", "现住址", ("现住址", "住址", "居住地址", "现居住地址", "现住地址", "家庭住址")),
    Column("grid_code", "网格编码", ("网格编码", "网格代码")),
    Column("grid_name", "网格", ("网格", "所属网格", "网格名称")),
    Column("building", "楼栋", ("楼栋", "楼号", "楼栋号")),
    Column("unit", "单元", ("单元", "单元号")),
    Column("room", "房号", ("房号", "门牌号", "房间号", "户号")),
    Column("origin", "来源地", ("来源地", "来自", "从何地来", "来源地区", "出发地", "来返地", "来（返）地")),
    Column(
        "arrival",
        "抵达时间",
        (
            "抵达时间",
            "到达时间",
            "抵达日期",
            "到达日期",
            "抵返时间",
            "来返时间",
            "返回时间",
            "入境时间",
            "抵（返）时间",
        ),
    ),
    Column(
        "transport",
        "交通方式",
        ("交通方式", "交通工具", "出行方式", "交通方式/车次", "交通方式及车次", "交通方式及车次/航班号"),
    ),
    Column(
        "transport_number",
        "车次/航班号",
        ("车次/航班号", "车次", "航班号", "车次航班号", "航班/车次", "车次或航班号", "车牌号"),
    ),
    Column(
        "category",
        "人员类别",
        ("人员类别", "人员类型", "人员分类", "重点人员类别", "人群类别", "类别"),
        required=True,
    ),
    Column("measure", "管控措施", ("管控措施", "管控方式", "管控类型")),
    Column(
        "last_exposure",
        "末次暴露时间",
        (
            "末次暴露时间",
            "末次暴露日期",
            "最后暴露时间",
            "末次接触时间",
            "末次接触日期",
            "最后接触时间",
            "暴露时间",
            "接触时间",
        ),
    ),
    Column("team", "包保责任人", ("包保责任人", "包保人", "包保干部", "五包一", "五包一责任人", "责任人")),
    Column("notes", "备注", ("备注", "说明")),
]
EXAMPLE = [
    "张三",
    "居民身份证",
    "11010519491231002X",
    "13812345678",
    "3号楼2单元502",
    "",
    "第一网格",
    "3号楼",
    "2",
    "502",
    "北京市朝阳区",
    "2022-04-02 14:30",
    "火车",
    "G1234",
    "密切接触者",
    "集中隔离医学观察",
    "2022-04-01",
    "街道:李四 社区:王五 网格员:赵六 医生:钱七 民警:孙八",
    "",
]
PLACE_FIELDS = ("grid_code", "grid_name", "building", "unit", "room")
TEAM_COLUMN = dict.fromkeys(("street_cadre", "community_cadre", "grid_worker", "doctor", "police"), "team")
TEAM_FIELDS = ("street_cadre", "community_cadre", "grid_worker", "doctor", "police")
DATE_FIELDS = ("last_exposure", "arrival")

# -- 人员类别 ---------------------------------------------------------------------------------------
# What the export writes; each of these reads back to its category.
CATEGORY_LABELS = {
    Category.CONFIRMED: "确诊病例",
    Category.SUSPECTED: "疑似病例",
    Category.FEVER: "发热人员",
    Category.CLOSE_CONTACT: "密切接触者",
    Category.SECONDARY_CONTACT: "密接的密接",
    Category.HIGH_RISK_ARRIVAL: "高风险区来返人员",
    Category.MEDIUM_RISK_ARRIVAL: "中风险区来返人员",
    Category.LOW_RISK_ARRIVAL: "低风险区来返人员",
    Category.INBOUND: "入境人员",
    Category.SPACETIME_COMPANION: "时空伴随者",
    Category.RISK_OCCUPATION: "高风险岗位人员",
    Category.OTHER: "其他",
}
# Names after _category_stem (brackets' marks, spaces and a trailing 人员/者/病例 ... removed).
_CATEGORY_STEMS = {
    "确诊": Category.CONFIRMED,
    "新冠确诊": Category.CONFIRMED,
    "新冠肺炎确诊": Category.CONFIRMED,
    "疑似": Category.SUSPECTED,
    "新冠疑似": Category.SUSPECTED,
    "发热": Category.FEVER,
    "发热未排除": Category.FEVER,
    "发热待排": Category.FEVER,
    "发热待排查": Category.FEVER,
    "密接": Category.CLOSE_CONTACT,
    "密切接触": Category.CLOSE_CONTACT,
    "次密接": Category.SECONDARY_CONTACT,
    "次密切接触": Category.SECONDARY_CONTACT,
    "密接的密接": Category.SECONDARY_CONTACT,
    "密切接触者的密切接触": Category.SECONDARY_CONTACT,
    "入境": Category.INBOUND,
    "境外入境": Category.INBOUND,
    "入境来返": Category.INBOUND,
    "境外来返": Category.INBOUND,
    "境外返回": Category.INBOUND,
    "时空伴随": Category.SPACETIME_COMPANION,
    "时空交集": Category.SPACETIME_COMPANION,
    "高风险岗位": Category.RISK_OCCUPATION,
    "高风险岗位从业": Category.RISK_OCCUPATION,
    "重点岗位": Category.RISK_OCCUPATION,
    "高风险职业": Category.RISK_OCCUPATION,
    "其他": Category.OTHER,
    "其它": Category.OTHER,
    **{value: value for value in Category.values},
}
_CATEGORY_SUFFIXES = ("人员", "人群", "病例", "患者", "病人", "者")
_RISK_ARRIVAL = re.compile(
    r"^(?P<level>[高中低])风险(?:地区|区域|区|地|等级地区)?"
    r"(?:来返|来|返|返回|返乡|旅居|旅居史|到访|流入|抵返|抵)?$"
)
_RISK_LEVEL = {
    "高": Category.HIGH_RISK_ARRIVAL,
    "中": Category.MEDIUM_RISK_ARRIVAL,
    "低": Category.LOW_RISK_ARRIVAL,
}


def _category_stem(text):
    stem = re.sub(r"[\s()]", "", cell_text(text))
    for suffix in _CATEGORY_SUFFIXES:
        if stem.endswith(suffix) and len(stem) > len(suffix):
            return stem[: -len(suffix)]
    return stem


def parse_category(value):
    """A Category value from the names offices use ("密接", "密切接触者", "高风险区来（返）人员")."""
    text = cell_text(value)
    if not text:
        raise CellError(_("The category is missing."))
    stem = _category_stem(text)
    if stem in _CATEGORY_STEMS:
        return str(_CATEGORY_STEMS[stem])
    if text in _CATEGORY_STEMS:
        return str(_CATEGORY_STEMS[text])
    match = _RISK_ARRIVAL.match(stem)
    if match:
        return str(_RISK_LEVEL[match["level"]])
    raise CellError(
        _("“%(value)s” is not a known category. Use one of: %(names)s.")
        % {"value": text, "names": "、".join(CATEGORY_LABELS.values())}
    )


# -- 管控措施 ---------------------------------------------------------------------------------------
MEASURE_LABELS = {
    MeasureKind.CENTRALIZED: "集中隔离医学观察",
    MeasureKind.HOME_ISOLATION: "居家隔离",
    MeasureKind.HOME_MONITORING: "居家健康监测",
    MeasureKind.DAILY_MONITORING: "日常健康监测",
}
_MEASURE_NAMES = {
    "集中隔离": MeasureKind.CENTRALIZED,
    "集中隔离医学观察": MeasureKind.CENTRALIZED,
    "集中医学观察": MeasureKind.CENTRALIZED,
    "集中隔离观察": MeasureKind.CENTRALIZED,
    "集中观察": MeasureKind.CENTRALIZED,
    "集中隔离管控": MeasureKind.CENTRALIZED,
    "集中管控": MeasureKind.CENTRALIZED,
    "居家隔离": MeasureKind.HOME_ISOLATION,
    "居家隔离医学观察": MeasureKind.HOME_ISOLATION,
    "居家医学观察": MeasureKind.HOME_ISOLATION,
    "居家隔离观察": MeasureKind.HOME_ISOLATION,
    "居家健康监测": MeasureKind.HOME_MONITORING,
    "居家监测": MeasureKind.HOME_MONITORING,
    "日常健康监测": MeasureKind.DAILY_MONITORING,
    "日常监测": MeasureKind.DAILY_MONITORING,
    "健康监测": MeasureKind.DAILY_MONITORING,
    "自我健康监测": MeasureKind.DAILY_MONITORING,
    **{value: value for value in MeasureKind.values},
}
_MEASURE_SPLIT = re.compile(r"[+→、,;/]|->|转|后")
_DAYS = re.compile(r"\d+\s*(?:天|日)?|[()\s]")


def parse_measures(value):
    """(kinds, unknown parts) of a 管控措施 cell such as "7天集中隔离+3天居家健康监测"."""
    kinds, unknown = [], []
    for part in _MEASURE_SPLIT.split(cell_text(value)):
        name = _DAYS.sub("", part)
        if not name:
            continue  # "7+3": numbers only, nothing to compare
        if name in _MEASURE_NAMES:
            kinds.append(str(_MEASURE_NAMES[name]))
        else:
            unknown.append(part.strip())
    return tuple(kinds), tuple(unknown)


# -- 包保责任人 -------------------------------------------------------------------------------------
TEAM_LABELS = {
    "street_cadre": "街道",
    "community_cadre": "社区",
    "grid_worker": "网格员",
    "doctor": "医生",
    "police": "民警",
}
_TEAM_ROLES = {
    **{label: field for field, label in TEAM_LABELS.items()},
    "街道干部": "street_cadre",
    "镇": "street_cadre",
    "乡镇": "street_cadre",
    "镇干部": "street_cadre",
    "街镇": "street_cadre",
    "街道包保": "street_cadre",
    "社区干部": "community_cadre",
    "村": "community_cadre",
    "村干部": "community_cadre",
    "居委会": "community_cadre",
    "社区包保": "community_cadre",
    "网格": "grid_worker",
    "网格长": "grid_worker",
    "医务人员": "doctor",
    "家庭医生": "doctor",
    "社区医生": "doctor",
    "村医": "doctor",
    "医护": "doctor",
    "卫生院": "doctor",
    "警察": "police",
    "公安": "police",
    "社区民警": "police",
    "派出所": "police",
    "片警": "police",
    "辅警": "police",
}
_TEAM_SPLIT = re.compile(r"[\s、,;/|]+")
_PHONE_TOKEN = re.compile(r"^\+?[\d-]{5,}$")
_NOTHING = ("无", "-", "—", "/")


def parse_team(value):
    """{team field: name} of a 包保责任人 cell; a single unlabelled name is the grid worker."""
    text = cell_text(value)
    if not text or text in _NOTHING:
        return {}
    team, current = {}, None
    labelled = ":" in text
    for token in _TEAM_SPLIT.split(text):
        if not token:
            continue
        if ":" in token:
            label, _sep, name = token.partition(":")
            role = _TEAM_ROLES.get(label)
            if role is None:
                raise CellError(
                    _("“%(label)s” is not a role of the team; use %(roles)s.")
                    % {"label": label, "roles": "、".join(TEAM_LABELS.values())}
                )
            if role in team or ":" in name:
                raise CellError(_team_format_message())
            team[role], current = name, role
        elif current is None and not labelled:
            team["grid_worker"], current = token, "grid_worker"
        elif current is not None and (not team[current] or _PHONE_TOKEN.match(token)):
            team[current] = f"{team[current]} {token}".strip()  # "网格员: 王五" or a name then a phone
        else:
            raise CellError(_team_format_message())
    if any(len(name) > 64 for name in team.values()):
        raise CellError(_("A name in the team is longer than 64 characters."))
    return {field: name for field, name in team.items() if name}


def _team_format_message():
    return _(
        "Write the team as “街道:张三 社区:李四 网格员:王五 医生:赵六 民警:钱七”, or a single name (the grid worker)."
    )


def format_team(values):
    """The 包保责任人 cell of a team: parse_team reads it back."""
    return " ".join(f"{TEAM_LABELS[f]}:{values[f]}" for f in TEAM_FIELDS if values.get(f))


def join_transport(mode, number):
    return " ".join(part for part in (mode, number) if part)


# -- the resource ---------------------------------------------------------------------------------


def _another_area():
    return _("This person is registered in another area; ask that community to hand the record over.")


class KeyPersonResource(Resource):
    title = "重点人员排查登记表"
    columns = COLUMNS
    example = EXAMPLE

    def __init__(self, user, area, **params):
        super().__init__(user, area, **params)
        # New persons are registered through the resident ledger (its grids, scope and households).
        self.residents = ResidentResource(user, area)
        self.add_paths = user.scope_paths("control.add_keyperson") if user is not None else None
        self.change_paths = user.scope_paths("control.change_keyperson") if user is not None else None
        self.view_paths = user.scope_paths("people.view_person") if user is not None else None
        self.entry_paths = user.scope_paths("control.view_keyperson") if user is not None else None
        self.warnings = []  # {row, column, message}: reported, never a reason to reject
        self.protocol = None  # the active protocol, read by plan_rows
        self.new_persons = 0

    def header_of(self, field_name):
        return super().header_of({"grid": "grid_name"}.get(field_name, field_name))

    # -- one row -------------------------------------------------------------------------
    def clean_row(self, raw):
        check = RowCheck(self, raw)
        data = check.data
        check_identity(check)
        check("category", parse_category)
        check("arrival", self._date)
        check("last_exposure", self._date)
        check("team", parse_team)
        data["origin"] = self._text(raw.get("origin"), "origin", check)
        data["transport"] = join_transport(
            cell_text(raw.get("transport")), cell_text(raw.get("transport_number"))
        )
        if len(data["transport"]) > 100:
            check.problem("transport", _too_long(self.header_of("transport")))
        data["notes"] = cell_text(raw.get("notes"))
        data["measure"] = cell_text(raw.get("measure"))
        check.finish()
        data["place"], data["place_problems"] = self._place(raw)
        return data

    def _text(self, value, field, check):
        text = cell_text(value)
        if len(text) > 100:
            check.problem(field, _too_long(self.header_of(field)))
        return text

    @staticmethod
    def _date(value):
        """抵达时间 and 末次暴露时间 may carry a time ("2022-04-02 14:30"); the ledger keeps the day."""
        moment = cell_datetime(value)
        if moment is None:
            return None
        day = timezone.localtime(moment).date()
        if day > timezone.localdate():
            raise CellError(_("%(date)s is in the future.") % {"date": day.isoformat()})
        return day

    def _place(self, raw):
        """(the resident ledger's cleaned row, its problems) when the row has place columns."""
        if not any(cell_text(raw.get(f)) for f in PLACE_FIELDS):
            return None, []
        resident_raw = {f: raw.get(f) for f in ("name", "doc_type", "doc_number", "phone", *PLACE_FIELDS)}
        try:
            return self.residents.clean_row(resident_raw), []
        except RowInvalid as exc:
            return None, exc.problems

    def key(self, cleaned):
        # The person and the episode: one person may be in a file twice, e.g. a released entry and
        # the open one of an export. Two rows for the same open or new entry are refused in plan_rows.
        return (
            cleaned["doc_type"],
            cleaned["doc_number"],
            cleaned["category"],
            cleaned["last_exposure"],
            cleaned["arrival"],
        )

    # -- the batch -----------------------------------------------------------------------
    def plan_rows(self, cleaned_rows):
        self.warnings = []
        persons = self._persons({(c["doc_type"], c["doc_number"]) for _row, c in cleaned_rows})
        known = {number for _type, number in persons}
        charge_near_misses(
            self.user, [c["doc_number"] for _row, c in cleaned_rows if c["doc_number"] not in known]
        )
        person_ids = [p.pk for p in persons.values()]
        open_entries = self._open_entries(person_ids)
        past = self._past_entries(person_ids)
        try:
            protocol, no_protocol = active_protocol(), None
        except ValidationError as exc:
            protocol, no_protocol = None, exc.messages[0]
        self.protocol = protocol
        outcomes, problems, claimed = [], [], {}

        def reject(row, field, message):
            problems.append((row, [(self.header_of(field), message)]))

        for row, data in cleaned_rows:
            person = persons.get((data["doc_type"], data["doc_number"]))
            if person is not None and not self._may_see(person, open_entries.get(person.pk)):
                # Nothing of a person outside the user's scope is told: not the name, not
                # whether an entry exists; the same answer as the resident ledger's.
                reject(row, "doc_number", _another_area())
                continue
            if person is not None and person.name != data["name"]:
                reject(
                    row,
                    "name",
                    _("The registry has another name (%(name)s) for this document; check the ID or the name.")
                    % {"name": person.name},
                )
                continue
            if person is not None and (person.pk, *self._episode(data)) in past:
                outcomes.append(Outcome(row, "unchanged", self.key(data), {}))
                continue
            entry = open_entries.get(person.pk) if person is not None else None
            claim = (
                ("entry", entry.pk) if entry is not None else ("doc", data["doc_type"], data["doc_number"])
            )
            if claim in claimed:
                reject(
                    row,
                    "doc_number",
                    _("Same document as row %(row)d but different details; keep one of them.")
                    % {"row": claimed[claim]},
                )
                continue
            if entry is not None:
                outcome, message = self._plan_update(row, data, entry)
            else:
                outcome, message = self._plan_create(row, data, person, protocol, no_protocol)
            if message:
                problems.append((row, message))
                continue
            claimed[claim] = row
            outcomes.append(outcome)
        self._note_new_persons(outcomes)
        return outcomes, problems

    def _note_new_persons(self, outcomes):
        """Rows that register a person say so, and which building and household they create."""
        residents = [
            (o, Outcome(o.row, "create", (o.data["doc_type"], o.data["doc_number"]), o.data["place"]))
            for o in outcomes
            if o.action == "create" and o.target is None
        ]
        self.new_persons = len(residents)
        self.residents.note_places([resident for _o, resident in residents])
        for outcome, resident in residents:
            outcome.notes += [_("Registers a new resident"), *resident.notes]

    # -- the preview ---------------------------------------------------------------------
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

    def extra_counts(self):
        return [[_("New residents"), self.new_persons], *self.residents.extra_counts()]

    def _may_see(self, person, entry):
        if person.area.path.startswith(self.area.path) and within(person.area.path, self.view_paths):
            return True
        return (
            entry is not None
            and entry.area.path.startswith(self.area.path)
            and within(entry.area.path, self.entry_paths)
        )

    @staticmethod
    def _episode(data):
        return (data["category"], data["last_exposure"], data["arrival"])

    def _persons(self, keys):
        found = {}
        for doc_type in {k[0] for k in keys}:
            numbers = sorted(k[1] for k in keys if k[0] == doc_type)
            for start in range(0, len(numbers), 2000):
                for person in Person.objects.filter(
                    doc_type=doc_type, doc_number__in=numbers[start : start + 2000]
                ).select_related("area", "merged_into__area"):
                    found[(doc_type, person.doc_number)] = person.merged_into or person
        return found

    def _open_entries(self, person_ids):
        entries = {}
        for start in range(0, len(person_ids), 2000):
            for entry in KeyPerson.objects.filter(
                person_id__in=person_ids[start : start + 2000], status=KeyPerson.Status.OPEN
            ).select_related("person", "area", "protocol"):
                entries[entry.person_id] = entry
        self.plan_kinds = {}
        ids = [e.pk for e in entries.values()]
        for start in range(0, len(ids), 2000):
            steps = (
                ControlMeasure.objects.filter(key_person_id__in=ids[start : start + 2000])
                .exclude(status=ControlMeasure.Status.CANCELLED)
                .order_by("key_person_id", "sequence")
                .values_list("key_person_id", "kind")
            )
            for entry_id, kind in steps:
                self.plan_kinds.setdefault(entry_id, []).append(kind)
        return entries

    @staticmethod
    def _past_entries(person_ids):
        past = set()
        for start in range(0, len(person_ids), 2000):
            past.update(
                KeyPerson.objects.filter(person_id__in=person_ids[start : start + 2000])
                .exclude(status=KeyPerson.Status.OPEN)
                .values_list("person_id", "category", "last_exposure", "arrival")
            )
        return past

    def _plan_update(self, row, data, entry):
        """(Outcome, None) or (None, problems) for a row of a person with an open entry."""
        if not (entry.area.path.startswith(self.area.path) and within(entry.area.path, self.change_paths)):
            return None, [
                (
                    self.header_of("doc_number"),
                    _(
                        "This person is already under control in another area; ask that area to hand the entry over."
                    ),
                )
            ]
        if data["category"] != entry.category:
            return None, [
                (
                    self.header_of("category"),
                    _(
                        "Already under control as %(current)s; a category change re-plans the measures and "
                        "is not done by an import."
                    )
                    % {"current": CATEGORY_LABELS.get(entry.category, entry.category)},
                )
            ]
        changes = {}
        anchor = plans.anchor_of(entry.protocol.rules, entry.category)
        for field in DATE_FIELDS:
            if data[field] is None or data[field] == getattr(entry, field):
                continue
            if field == anchor:
                return None, [
                    (
                        self.header_of(field),
                        _(
                            "The plan counts from %(date)s; a changed %(column)s re-plans the measures and "
                            "is not done by an import."
                        )
                        % {"date": entry.anchor_date.isoformat(), "column": self.header_of(field)},
                    )
                ]
            changes[field] = data[field]
        for field, value in [
            ("origin", data["origin"]),
            ("transport", data["transport"]),
            *data["team"].items(),
        ]:
            if value and getattr(entry, field) != value:
                changes[field] = value
        # Notes written on the pages are never lost: the sheet's text is added when it is new.
        if data["notes"] and data["notes"] not in entry.notes:
            changes["notes"] = "\n".join(filter(None, [entry.notes, data["notes"]]))
        self._check_measure(row, data, self.plan_kinds.get(entry.pk, []), entry.protocol)
        outcome = Outcome(row, "update" if changes else "unchanged", self.key(data), changes, entry)
        if changes:
            columns = "、".join(dict.fromkeys(self.header_of(TEAM_COLUMN.get(f, f)) for f in changes))
            outcome.notes.append(_("Changes: %(columns)s") % {"columns": columns})
        return outcome, None

    def _plan_create(self, row, data, person, protocol, no_protocol):
        if person is None:
            if data["place_problems"]:
                return None, data["place_problems"]
            if data["place"] is None:
                columns = "、".join(self.header_of(f) for f in ("grid_name", "building", "unit", "room"))
                return None, [
                    (
                        self.header_of("doc_number"),
                        _(
                            "This person is not in the registry yet: fill in %(columns)s to register them "
                            "with this row, or register the resident first."
                        )
                        % {"columns": columns},
                    )
                ]
            area = data["place"]["grid"]
        else:
            area = person.area
        if not (area.path.startswith(self.area.path) and within(area.path, self.add_paths)):
            return None, [(self.header_of("doc_number"), _another_area())]
        if protocol is None:
            return None, [(self.header_of("category"), no_protocol)]
        if not plans.is_traced(protocol.rules, data["category"]):
            return None, [
                (
                    self.header_of("category"),
                    _("Under %(protocol)s, this category is no longer managed.")
                    % {"protocol": protocol.short_name},
                )
            ]
        anchor = data.get(plans.anchor_of(protocol.rules, data["category"])) or timezone.localdate()
        kinds = [step.measure for step in plans.plan(protocol.rules, data["category"], anchor)]
        self._check_measure(row, data, kinds, protocol)
        return Outcome(row, "create", self.key(data), {**data, "area": area}, person), None

    def _check_measure(self, row, data, kinds, protocol):
        if not data["measure"]:
            return
        given, unknown = parse_measures(data["measure"])
        column = self.header_of("measure")
        if unknown:
            message = _("“%(value)s” is not a known measure; the plan follows the protocol.") % {
                "value": "、".join(unknown)
            }
        elif not set(given) <= set(kinds):
            message = _(
                "“%(value)s” differs from the plan under %(protocol)s (%(plan)s); the plan follows the protocol."
            ) % {
                "value": data["measure"],
                "protocol": protocol.short_name,
                "plan": "+".join(MEASURE_LABELS.get(k, k) for k in kinds) or "—",
            }
        else:
            return
        self.warnings.append({"row": row, "column": column, "message": message})

    def write(self, outcomes):
        creates = [o for o in outcomes if o.action == "create"]
        new_persons = [
            Outcome(o.row, "create", (o.data["doc_type"], o.data["doc_number"]), o.data["place"])
            for o in creates
            if o.target is None
        ]
        registered = {}
        if new_persons:
            self.residents.write(new_persons)
            registered = self._persons({o.key for o in new_persons})
        rows = [(o.target or registered[(o.data["doc_type"], o.data["doc_number"])], o.data) for o in creates]
        self._register(rows)
        self._update([o for o in outcomes if o.action == "update"])

    def _register(self, rows):
        """What control.services.register_key_person does for each (person, row), in bulk: the
        entry under the active protocol, its planned measures (control.plans), and a change-log
        row for each, in the same order. Search before create holds: a person whose entry was
        opened since plan_rows (a page, another import) keeps that entry; the database's one open
        entry per person settles a race, after which the check runs once more."""
        for attempt in range(2):
            try:
                with transaction.atomic():
                    return self._insert_entries(rows)
            except IntegrityError:
                if attempt:
                    raise
        return None

    def _insert_entries(self, rows):
        ids = [person.pk for person, _data in rows]
        taken = set()
        for start in range(0, len(ids), 2000):
            taken.update(
                KeyPerson.objects.filter(
                    person_id__in=ids[start : start + 2000], status=KeyPerson.Status.OPEN
                ).values_list("person_id", flat=True)
            )
        entries = []
        for person, d in rows:
            if person.pk in taken:
                continue
            fields = {f: d[f] for f in ("last_exposure", "arrival", "origin", "transport", "notes") if d[f]}
            entries.append(
                KeyPerson(
                    person=person,
                    category=d["category"],
                    area=d["area"],
                    protocol=self.protocol,
                    **fields,
                    **d["team"],
                )
            )
        bulk_insert(KeyPerson, entries)
        plans_of = [(entry, planned_measures(entry, self.protocol)) for entry in entries]
        bulk_insert(ControlMeasure, [m for _entry, steps in plans_of for m in steps])
        write_changes(
            [
                build_change(obj, Action.CREATE, None, obj.serialize_for_log())
                for entry, steps in plans_of
                for obj in (entry, *steps)
            ]
        )
        return entries

    @staticmethod
    def _update(outcomes):
        entries, fields, now = [], {"last_updated"}, timezone.now()
        for o in outcomes:
            for field, value in o.data.items():
                setattr(o.target, field, value)
                fields.add(field)
            o.target.last_updated = now
            entries.append(o.target)
        if entries:
            KeyPerson.objects.bulk_update(entries, sorted(fields), batch_size=2000)
            log_bulk_update(entries)


def _too_long(column):
    return _("%(column)s is longer than 100 characters.") % {"column": column}
