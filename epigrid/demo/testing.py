"""The demo district's mass testing 全员核酸检测: a finished round and a running round.

Both rounds cover the whole district, 10 in 1, with sampling points per community (about one per
2,500 residents, a desk per ~700) and a home-sampling team per street; each point has its team's
sampler account posted, and `demo_sampler` is posted at the first point of the demo community so
that login opens a desk with a tube in it.

- The finished round (three days ago, 07:00 to 21:00 at the points, door-to-door sweeps that
  evening and the next morning): about 93-97% coverage with realistic gaps. Some grids lag behind,
  residents are exempt with reasons (infants, centralized isolation — the control module's own
  isolated persons —, away, moved, in hospital, deceased ...), the missed get sweep visits ("not
  at home" most often, some sampled at home, moved away, away, in hospital, exempt) that turn into
  exemptions as `record_sweep` does, the bedridden elderly have home-sampling tasks (most done by
  the street's team, a few still open), and a few persons not in the registry were sampled
  (finds: pending, registered — the sample then follows the person —, rejected with a reason).
- The running round (started this morning): 30-50% of each grid sampled so far, tubes sealed
  once the hourly pick-up came, full ones closed, and a tube open at most desks (always at the
  demo sampler's desk).

Samples are what `testing.services.ingest` would have written — a tube holds at most 10, its
count is its samples, positions 1..count in scan order, one `SampledPerson` per person and round
(the first sample; a second scan of the same person is kept and flagged `repeat`) — but written
in bulk like the residents: at a million residents that is 1.3 million samples, and ingest's
per-batch locking and checks would take most of an hour. Rows are streamed community by
community through COPY (PostgreSQL; plain INSERTs elsewhere) with keys reserved up front, so the
memory stays flat. As ingest does, samples and tubes get no audit rows (decision 0019); the
rounds, points, desks, exemptions, sweeps, home tasks, finds and the samplers' grants get their
`create` row and the workflow moves their history rows, at the time they happened.

Deterministic for a seed on a given day: one random.Random, fixed orders; times relative to
today and never later than the build.
"""

import array
import datetime
import random
import uuid
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Count
from django.utils import timezone
from stdnum import luhn

from epigrid.accounts.models import Grant
from epigrid.areas.models import Area
from epigrid.audit.models import Transition
from epigrid.audit.services import log_bulk_create
from epigrid.control.models import ControlMeasure, KeyPerson, MeasureKind
from epigrid.core import context
from epigrid.core.identity import make_resident_id, normalise_phone
from epigrid.core.imports import bulk_insert
from epigrid.demo import data
from epigrid.demo.plan import split_total
from epigrid.people.models import Person
from epigrid.testing import services
from epigrid.testing.models import (
    SWEEP_EXEMPTS,
    BarcodeCheck,
    Campaign,
    Desk,
    Exemption,
    ExemptionReason,
    Find,
    Group,
    HomeTask,
    Kind,
    Sample,
    SampledPerson,
    SamplingPoint,
    SweepOutcome,
    SweepVisit,
    Tube,
)

RESIDENTS_PER_POINT = 2500
RESIDENTS_PER_DESK = 700
POOLING = 10
FINISHED_DAYS_AGO = 3
# The finished round's grids: most between these rates at the points, a few lagging behind.
NORMAL_RATE = (0.935, 0.962)
LAGGING_RATE = (0.84, 0.90)
LAGGING_SHARE = 0.08
RUNNING_RATE = (0.30, 0.50)  # of each grid, sampled so far this morning
REPEAT_SHARE = 0.003  # scanned twice (queued again): both samples kept, the second flagged
IDLE_DESKS = 0.2  # of the running round's desks, between two tubes (none open)
SWEPT_SHARE = 0.4  # of the missed, visited the evening the points closed
REVISIT_SHARE = 0.25  # of those not at home, visited again the next morning
HOME_TASK_AGE = 80
HOME_TASK_SHARE = 0.03  # of the residents that old: bedridden, sampled at home
HOME_OPEN_SHARE = 0.15  # still open when the round closed
FINDS_PER_RESIDENTS = 8000  # unregistered persons sampled (at least 3 in the finished round)
RUNNING_FINDS_PER_RESIDENTS = 20000
FIND_REGION = "621121"  # a region the demo's residents never come from: their IDs are new
OFFLINE_SHARE = 0.01  # scans queued on the phone for a while before they synced
VIA = ((Sample.Via.DOCUMENT, 85), (Sample.Via.QR, 10), (Sample.Via.TYPED, 5))
# Exemptions recorded before or during a round: (reason, share of the residents, note).
EXEMPTIONS = (
    (ExemptionReason.AWAY, 0.006, "在外地务工，已提供当地48小时核酸阴性证明"),
    (ExemptionReason.MOVED, 0.0025, "已搬离辖区，房屋空置"),
    (ExemptionReason.HOSPITAL, 0.001, "住院治疗，由医院统一采样"),
    (ExemptionReason.BEDRIDDEN, 0.0008, "重病卧床，经社区医生评估暂不采样"),
    (ExemptionReason.DECEASED, 0.0002, "已故，户籍注销办理中"),
    (ExemptionReason.OTHER, 0.0004, "外籍人员已离境，待核销"),
)
INFANT_EXEMPT = 0.6  # of the residents under one year
ISOLATED_NOTE = "集中隔离点内由隔离点单独采样"
INFANT_NOTE = "未满周岁婴儿，家长申请免采"
# Kept for the next round: the person is still gone, still an infant, still isolated.
CARRIED_OVER = {
    ExemptionReason.AWAY,
    ExemptionReason.MOVED,
    ExemptionReason.DECEASED,
    ExemptionReason.INFANT,
    ExemptionReason.ISOLATED,
}
# Sweep visits to the missed: (outcome, weight, notes).
SWEEPS = (
    (SweepOutcome.NOT_HOME, 45, ["敲门无人应答，已电话联系，约定明早补采", "家中无人，邻居称上夜班"]),
    (SweepOutcome.SAMPLED_HOME, 20, ["上门补采完成"]),
    (SweepOutcome.MOVED, 10, ["房屋已出售，原住户已搬至七里河区", "租户已退租搬离"]),
    (SweepOutcome.AWAY, 13, ["电话联系本人，在西安出差", "在外地上学，寒假未返兰"]),
    (SweepOutcome.HOSPITAL, 5, ["在兰大一院住院，由医院采样"]),
    (SweepOutcome.EXEMPT, 7, ["严重精神障碍患者，经医生评估暂缓采样"]),
)
REVISIT_NOTE = "再次上门仍无人，已上报社区"
HOME_NOTES = ["长期卧床，需上门采样", "行动不便的独居老人", "术后卧床，家属陪护"]
FIND_NOTES = {
    Find.Status.REJECTED: "核实为外地来兰出差人员，采样次日已离兰，不纳入登记",
}
PLACES = ["社区广场", "小学操场", "文化活动中心", "停车场", "社区服务站", "幼儿园门口"]
HOURS = "07:00–21:00"
HOME_HOURS = "08:00–18:00（预约上门）"
PICKUP_MINUTE = 30  # transport collects sealed tubes every hour at :30
LANZHOU = (36.06, 103.83)


@dataclass(eq=False)
class PointPlan:
    """A point as laid out once, then written for each round (a new round copies the points)."""

    name: str
    area: Area
    address: str
    hours: str
    latitude: float
    longitude: float
    home: bool
    desk_names: list
    grant_area: Area
    serves: list = field(default_factory=list)  # grid pks
    users: list = field(default_factory=list)
    objs: dict = field(default_factory=dict)  # round number -> SamplingPoint
    desks: dict = field(default_factory=dict)  # round number -> [Desk]
    scanner: object = None  # who scans there


@dataclass(eq=False)
class Round:
    no: int
    campaign: Campaign
    window: tuple  # when the points sample
    pickups_until: datetime.datetime  # tubes closed before the last pick-up are sealed
    serial: int = 0
    exempt: dict = field(default_factory=dict)  # person pk -> (reason, note)
    home: dict = field(default_factory=dict)  # person pk -> HomeTask (unsaved)


def insert_rows(model, attnames, rows):
    """Write plain tuples into model's table: COPY on PostgreSQL, INSERT elsewhere (SQLite)."""
    if not rows:
        return
    meta = model._meta
    fields = [meta.get_field(name) for name in attnames]
    qn = connection.ops.quote_name
    columns = ", ".join(qn(f.column) for f in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {qn(meta.db_table)} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join(["%s"] * len(fields))
        cursor.executemany(
            f"INSERT INTO {qn(meta.db_table)} ({columns}) VALUES ({marks})",
            [[f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True)] for row in rows],
        )


TUBE_COLUMNS = [f.attname for f in Tube._meta.concrete_fields]
SAMPLE_COLUMNS = [f.attname for f in Sample._meta.concrete_fields]
SAMPLED_COLUMNS = [f.attname for f in SampledPerson._meta.concrete_fields]


def uuid7(rng, ms):
    """A UUIDv7 as the desk page makes them (static/testing/desk.js): 48 bits of milliseconds (the
    unique index fills at its right edge), version 7, variant, 74 bits from `rng`."""
    return uuid.UUID(int=(ms << 80) | (0x7 << 76) | (rng.getrandbits(12) << 64) | (0b10 << 62) | rng.getrandbits(62))


def client_id_at(rng, when):
    return uuid7(rng, int(when.timestamp() * 1000))


def tube_barcode(round_no, serial):
    """12 digits with a Luhn check digit, the rule of the demo's rounds."""
    body = f"62{round_no:02d}{serial:07d}"
    return body + luhn.calc_check_digit(body)


class TestingBuilder:
    """Remembers the residents as the builder writes them (`take`), then writes both rounds."""

    def __init__(self, plan, writer, now=None):
        self.plan = plan
        self.writer = writer
        self.now = now or timezone.now()
        self.today = timezone.localdate(self.now)
        self.tz = timezone.get_current_timezone()
        self.rng = random.Random(f"epigrid-demo:{plan.seed}:testing")
        # grid pk -> (person pks, household pks, birth dates as ordinals): compact at a million.
        self.people = {}
        self.find_serial = 0
        self.find_numbers = set()

    def take(self, persons):
        for person in persons:
            arrays = self.people.get(person.area_id)
            if arrays is None:
                arrays = self.people[person.area_id] = (array.array("q"), array.array("q"), array.array("l"))
            arrays[0].append(person.pk)
            arrays[1].append(person.household_id or 0)
            arrays[2].append(person.birth_date.toordinal() if person.birth_date else 0)

    # -- the whole build ------------------------------------------------------------------------

    def build(self, areas, users):
        self.areas, self.users = areas, users
        self.request_id = context.current().request_id
        self.ct = {m: ContentType.objects.get_for_model(m) for m in (Campaign, Find, HomeTask)}
        self.communities = {}  # community code -> [grid Area]
        for grid in self.plan.grids_list:
            self.communities.setdefault(grid.parent.code, []).append(areas[grid.code])
        self.grid_of = {}  # grid pk -> Area
        for grids in self.communities.values():
            for grid in grids:
                self.grid_of[grid.pk] = grid
        self.isolated = set(
            ControlMeasure.objects.filter(
                kind=MeasureKind.CENTRALIZED,
                status=ControlMeasure.Status.ACTIVE,
                key_person__status=KeyPerson.Status.OPEN,
            ).values_list("key_person__person_id", flat=True)
        )
        self.actors = self._actors()
        finished, running = self._rounds()
        self.points = self._points([finished, running])
        self._finished(finished)
        self._running(running, finished)
        self._groups(running)

    def _groups(self, rnd):
        """Pre-formed groups 预编组 of the running round in each community's first grid: its
        residents not sampled yet, in tens, as an office would have listed them the night before."""
        sampled = set(SampledPerson.objects.filter(campaign=rnd.campaign).values_list("person_id", flat=True))
        size = rnd.campaign.capacity
        for grids in self.communities.values():
            grid = grids[0]
            ids = [pk for pk in self.people.get(grid.pk, ((),))[0] if pk not in sampled][: size * 3]
            for n in range(len(ids) // size):
                group = Group.objects.create(
                    campaign=rnd.campaign, code=f"{grid.code}G{n + 1:02d}", area=grid
                )
                group.members.set(ids[n * size : (n + 1) * size])

    def _actors(self):
        """(area path, user) of the demo users who do field work, the narrowest first: the grid
        worker records exemptions and sweeps in their grid, the community officer in theirs ..."""
        actors = []
        for role in ("grid_worker", "community_officer", "street_officer", "district_commander"):
            user = self.users.get(role)
            grant = user and user.grants.filter(role=role).select_related("area").first()
            if grant:
                actors.append((grant.area.path, user))
        return actors

    def actor(self, grid):
        path = grid.path
        return next((user for prefix, user in self.actors if path.startswith(prefix)), None)

    def at(self, day, hour, minute=0):
        """An aware local time on `day`, never later than the build."""
        moment = datetime.datetime.combine(day, datetime.time(hour), self.tz) + datetime.timedelta(
            minutes=minute
        )
        return min(moment, self.now - datetime.timedelta(minutes=1))

    # -- rounds, points, desks, samplers ---------------------------------------------------------

    def _rounds(self):
        district = self.areas[self.plan.district.code]
        commander = self.users.get("district_commander")
        day = self.today - datetime.timedelta(days=FINISHED_DAYS_AGO)
        rule = {
            "kind": Kind.WHOLE,
            "pooling": POOLING,
            "turnaround_hours": 12,
            "tube_length": 12,
            "tube_pattern": "[0-9]{12}",
            "tube_check": BarcodeCheck.LUHN,
        }
        name = f"{district.name}{{}}全员核酸检测（{{:%m月%d日}}）"
        finished = Campaign.objects.create(
            name=name.format("第一轮", day),
            area=district,
            starts_at=self.at(day, 7),
            ends_at=self.at(day + datetime.timedelta(days=1), 12),
            status=Campaign.Status.FINISHED,
            **rule,
        )
        # Started this morning at seven (or five hours ago, for a build before noon: a build at
        # night still has boxes at every stage of the trip to the lab).
        start = min(self.at(self.today, 7), self.now - datetime.timedelta(hours=5))
        running = Campaign.objects.create(
            name=name.format("第二轮", self.today),
            area=district,
            starts_at=start,
            ends_at=start + datetime.timedelta(days=1),
            status=Campaign.Status.RUNNING,
            copied_from=finished,
            **rule,
        )
        for campaign in (finished, running):
            campaign.areas.set([district])
        history = [
            self._transition(finished, district, "planned", "running", "", finished.starts_at, commander),
            self._transition(
                finished,
                district,
                "running",
                "finished",
                "采样及扫楼补采完成，未采人员已移交网格跟进",
                finished.ends_at,
                commander,
            ),
            self._transition(running, district, "planned", "running", "", running.starts_at, commander),
        ]
        bulk_insert(Transition, history)
        end = self.at(day, 21)
        return (
            # Every tube of the finished round went to the lab: sealed by the round's end.
            Round(1, finished, (self.at(day, 7), end), pickups_until=finished.ends_at),
            # The courier's last round was at least 40 minutes ago: tubes closed since wait at
            # the desks (closed, not sealed) whatever the time of the build.
            Round(
                2,
                running,
                (start, self.now - datetime.timedelta(minutes=1)),
                pickups_until=self.now - datetime.timedelta(minutes=40),
            ),
        )

    def _transition(self, obj, area, source, target, note, when, user=None):
        """A history row as audit.services.log_transition writes it, at `when`."""
        return Transition(
            time=when,
            user=user,
            user_name=user.get_username() if user else "",
            request_id=self.request_id,
            content_type=self.ct[type(obj)],
            object_id=obj.pk,
            source=source,
            target=target,
            note=note,
            area_path=area.path,
        )

    def _points(self, rounds):
        """Lay the points out once per community and street, create their samplers, and write
        them for each round (the running round's are a copy of the finished round's)."""
        rng = self.rng
        points = []
        for street in self.plan.streets:
            street_area = self.areas[street.code]
            for community in [c for c in self.plan.communities if c.parent is street]:
                grids = self.communities.get(community.code, [])
                if not grids:
                    continue
                residents = sum(len(self.people.get(g.pk, ((),))[0]) for g in grids)
                n_points = min(len(grids), max(1, round(residents / RESIDENTS_PER_POINT)))
                n_desks = max(n_points, round(residents / RESIDENTS_PER_DESK))
                places = rng.sample(PLACES, n_points)
                for i, desks in enumerate(split_total(n_desks, [1] * n_points)):
                    served = [g for j, g in enumerate(grids) if j * n_points // len(grids) == i]
                    points.append(
                        PointPlan(
                            name=f"{community.name}{places[i]}采样点",
                            area=served[0],
                            address=f"{street.name}{community.name}{places[i]}",
                            hours=HOURS,
                            latitude=round(LANZHOU[0] + rng.uniform(-0.04, 0.04), 6),
                            longitude=round(LANZHOU[1] + rng.uniform(-0.12, 0.12), 6),
                            home=False,
                            desk_names=[f"{n}号台" for n in range(1, desks + 1)],
                            grant_area=self.areas[community.code],
                            serves=[g.pk for g in served],
                        )
                    )
            points.append(
                PointPlan(
                    name=f"{street.name}上门采样队",
                    area=street_area,
                    address=f"{street.name}社区卫生服务中心",
                    hours=HOME_HOURS,
                    latitude=round(LANZHOU[0] + rng.uniform(-0.04, 0.04), 6),
                    longitude=round(LANZHOU[1] + rng.uniform(-0.12, 0.12), 6),
                    home=True,
                    desk_names=["上门1组", "上门2组"],
                    grant_area=street_area,
                )
            )
        self._samplers(points)
        for rnd in rounds:
            objs = [
                SamplingPoint(
                    campaign=rnd.campaign,
                    name=p.name,
                    area=p.area,
                    address=p.address,
                    latitude=p.latitude,
                    longitude=p.longitude,
                    hours=p.hours,
                    is_home_team=p.home,
                )
                for p in points
            ]
            bulk_insert(SamplingPoint, objs)
            desks = []
            for p, obj in zip(points, objs, strict=True):
                p.objs[rnd.no] = obj
                p.desks[rnd.no] = [Desk(point=obj, name=name) for name in p.desk_names]
                desks.extend(p.desks[rnd.no])
            bulk_insert(Desk, desks)
            staff = SamplingPoint.staff.through
            bulk_insert(
                staff,
                [
                    staff(samplingpoint_id=o.pk, user_id=u.pk)
                    for p, o in zip(points, objs, strict=True)
                    for u in p.users
                ],
            )
            log_bulk_create(objs)
            log_bulk_create(desks)
        return points

    def _samplers(self, points):
        """One sampler account per point (the team's phone; it signs in with its API token, no
        password), granted the sampler role over the point's community (or street, for a home
        team) and posted there; `demo_sampler` joins the first point of the demo community."""
        User = get_user_model()
        unusable = make_password(None)
        users = []
        for n, p in enumerate(points, start=1):
            surname = self.rng.choices(data.SURNAMES, data.SURNAME_WEIGHTS)[0]
            given = self.rng.choice(data.GIVEN_FEMALE if self.rng.random() < 0.7 else data.GIVEN_MALE)
            user = User(username=f"sampler{n:04d}", last_name=surname, first_name=given, password=unusable)
            p.users.append(user)
            p.scanner = user
            users.append(user)
        User.objects.bulk_create(users)
        users = {u.username: u for u in User.objects.filter(username__in=[u.username for u in users])}
        for p in points:
            p.users = [users[u.username] for u in p.users]
            p.scanner = p.users[0]
        grants = [Grant(user=p.scanner, role="sampler", area=p.grant_area) for p in points]
        bulk_insert(Grant, grants)
        log_bulk_create(grants)
        sampler = self.users.get("sampler")
        demo_community = self.areas[self.plan.communities[0].code] if self.plan.communities else None
        first = next((p for p in points if not p.home and p.grant_area == demo_community), None)
        if sampler is not None and first is not None:
            first.users.append(sampler)
            first.scanner = sampler  # the demo login's scans are the ones its desk shows

    # -- persons ---------------------------------------------------------------------------------

    def _age(self, birth_ordinal):
        return (self.today.toordinal() - birth_ordinal) / 365.2425 if birth_ordinal else 40

    def _exemptions(self, ids, births):
        """{index in the grid: (reason, note)} recorded for the finished round."""
        rng, out = self.rng, {}
        for k, pk in enumerate(ids):
            if pk in self.isolated:
                out[k] = (ExemptionReason.ISOLATED, ISOLATED_NOTE)
            elif self._age(births[k]) < 1 and rng.random() < INFANT_EXEMPT:
                out[k] = (ExemptionReason.INFANT, INFANT_NOTE)
            else:
                draw = rng.random()
                for reason, share, note in EXEMPTIONS:
                    if draw < share:
                        out[k] = (reason, note)
                        break
                    draw -= share
        return out

    def _via(self):
        return self.rng.choices([v for v, _w in VIA], [w for _v, w in VIA])[0]

    def _households(self, grid_pk, indices):
        """Queue items: the listed residents of a grid grouped by household (a family queues
        together), as [(person pk, grid pk, None, via)]."""
        ids, households, _births = self.people[grid_pk]
        items = {}
        for k in indices:
            items.setdefault(households[k] or -ids[k], []).append((ids[k], grid_pk, None, self._via()))
        return list(items.values())

    def _find(self, rnd, area, status, person=None):
        """A find 发现未登记人员: someone sampled whose document is not in the registry."""
        rng = self.rng
        while True:
            birth = datetime.date(1960, 1, 1) + datetime.timedelta(days=rng.randrange(45 * 365))
            self.find_serial += 1
            number = make_resident_id(FIND_REGION, birth, self.find_serial)
            if number not in self.find_numbers:
                self.find_numbers.add(number)
                break
        male = number[-2] in "13579"
        name = rng.choices(data.SURNAMES, data.SURNAME_WEIGHTS)[0] + rng.choice(
            data.GIVEN_MALE if male else data.GIVEN_FEMALE
        )
        phone = normalise_phone(f"{rng.choice(data.PHONE_PREFIXES)}{rng.randrange(10**8):08d}")
        find = Find(
            campaign=rnd.campaign, area=area, doc_number=number, name=name, phone=phone, status=status
        )
        if person is not None:  # registered: the grid entered them, the sample followed
            find.person_id = person
        return find

    # -- the finished round ----------------------------------------------------------------------

    def _finished(self, rnd):
        rng = self.rng
        day = rnd.window[0].date()
        residents = sum(len(v[0]) for v in self.people.values())
        n_finds = max(3, round(residents / FINDS_PER_RESIDENTS)) if residents else 0
        statuses = [Find.Status.PENDING, Find.Status.REGISTERED, Find.Status.REJECTED]
        sweeps, history = [], []
        queues = {}  # grid pk -> queue items at its point
        missed = {}  # grid pk -> indices neither sampled nor exempt after the sweeps
        home_items = {}  # street home point -> [(time, item)]
        street_of = {}
        for p in self.points:
            if p.home:
                for g in self._street_grids(p.area):
                    street_of[g] = p
        for grid in self.plan.grids_list:
            area = self.areas[grid.code]
            if area.pk not in self.people:
                continue
            ids, _households, births = self.people[area.pk]
            exempt = self._exemptions(ids, births)
            rest = [k for k in range(len(ids)) if k not in exempt]
            home = [
                k for k in rest if self._age(births[k]) >= HOME_TASK_AGE and rng.random() < HOME_TASK_SHARE
            ]
            home_set = set(home)
            walk_in = [k for k in rest if k not in home_set]
            lagging = area.pk != self.areas[self.plan.grids_list[0].code].pk and rng.random() < LAGGING_SHARE
            rate = rng.uniform(*(LAGGING_RATE if lagging else NORMAL_RATE))
            home_done = [k for k in home if rng.random() >= HOME_OPEN_SHARE]
            wanted = round(rate * len(rest)) - len(home_done)
            sampled = sorted(rng.sample(walk_in, max(0, min(len(walk_in), wanted))))
            chosen = set(sampled)
            left = [k for k in walk_in if k not in chosen]
            queues[area.pk] = self._households(area.pk, sampled)
            team = street_of[area.pk]
            for k in home:
                task = HomeTask(
                    campaign=rnd.campaign,
                    person_id=ids[k],
                    area=area,
                    team=team.objs[rnd.no],
                    note=rng.choice(HOME_NOTES),
                )
                rnd.home[ids[k]] = task
                if k in home_done:
                    when = self._between(self.at(day, 9), self.at(day, 17))
                    home_items.setdefault(team, []).append(
                        (when, (ids[k], area.pk, None, Sample.Via.QR), task)
                    )
            for k, (reason, note) in exempt.items():
                rnd.exempt[ids[k]] = (reason, note, area)
            # The evening's sweep of the missed, and the next morning's second visits.
            still = []
            visitor = self.actor(area)
            for k in left:
                if rng.random() >= SWEPT_SHARE:
                    still.append(k)
                    continue
                outcome, _w, notes = rng.choices(SWEEPS, [w for _o, w, _n in SWEEPS])[0]
                when = self._between(self.at(day, 18, 30), self.at(day, 23, 30))
                note = rng.choice(notes)
                sweeps.append(
                    SweepVisit(
                        campaign=rnd.campaign,
                        person_id=ids[k],
                        area=area,
                        outcome=outcome,
                        note=note,
                        visited_at=when,
                        visited_by=visitor,
                    )
                )
                if outcome == SweepOutcome.NOT_HOME:
                    still.append(k)
                    if rng.random() < REVISIT_SHARE:
                        later = self._between(
                            self.at(day + datetime.timedelta(days=1), 8),
                            self.at(day + datetime.timedelta(days=1), 11, 30),
                        )
                        sweeps.append(
                            SweepVisit(
                                campaign=rnd.campaign,
                                person_id=ids[k],
                                area=area,
                                outcome=SweepOutcome.NOT_HOME,
                                note=REVISIT_NOTE,
                                visited_at=later,
                                visited_by=visitor,
                            )
                        )
                elif outcome == SweepOutcome.SAMPLED_HOME:
                    # record_sweep opens a home task for the team; its sample closes it.
                    task = HomeTask(
                        campaign=rnd.campaign, person_id=ids[k], area=area, team=team.objs[rnd.no], note=note
                    )
                    rnd.home[ids[k]] = task
                    sampled_at = when + datetime.timedelta(minutes=rng.randrange(1, 5))
                    home_items.setdefault(team, []).append(
                        (sampled_at, (ids[k], area.pk, None, Sample.Via.DOCUMENT), task)
                    )
                else:
                    reason = SWEEP_EXEMPTS.get(outcome, ExemptionReason.OTHER)
                    rnd.exempt[ids[k]] = (reason, note, area)
            missed[area.pk] = still
        # Finds at the points: pending, registered (as a missed resident of the point's grids,
        # who then counts as sampled) or rejected.
        walk_points = [p for p in self.points if not p.home]
        finds = {}  # point -> [Find]
        for i in range(n_finds if walk_points else 0):
            point = walk_points[rng.randrange(len(walk_points))]
            status = statuses[i % len(statuses)]
            person, grid_pk = None, point.serves[0]
            if status == Find.Status.REGISTERED:
                pool = [(g, k) for g in point.serves for k in missed.get(g, [])]
                if pool:
                    grid_pk, k = pool[rng.randrange(len(pool))]
                    missed[grid_pk].remove(k)
                    person = self.people[grid_pk][0][k]
                else:
                    status = Find.Status.PENDING
            find = self._find(rnd, self.grid_of[point.serves[0]], status, person)
            find.demo_grid = grid_pk
            finds.setdefault(point, []).append(find)
        self._write_exemptions(rnd)
        bulk_insert(SweepVisit, sweeps)
        self._log(sweeps)
        all_finds = [f for fs in finds.values() for f in fs]
        bulk_insert(Find, all_finds)
        self._log(all_finds)
        for find in all_finds:
            if find.status != Find.Status.PENDING:
                grid = self.grid_of[find.area_id]
                note = FIND_NOTES.get(find.status, "")
                when = self._between(
                    self.at(day + datetime.timedelta(days=1), 9),
                    self.at(day + datetime.timedelta(days=1), 16),
                )
                history.append(
                    self._transition(find, grid, "pending", find.status, note, when, self.actor(grid))
                )
        # Samples, point by point (streamed: a community's at a time).
        for p in walk_points:
            items = [item for g in p.serves for item in queues.get(g, [])]
            for find in finds.get(p, []):
                items.append([(find.person_id, find.demo_grid, find, Sample.Via.TYPED)])
            self._point_samples(rnd, p, items, trim=False)
        for team in [p for p in self.points if p.home]:
            self._home_samples(rnd, team, home_items.get(team, []), close_at=self.at(day, 23, 45))
        self._write_home_tasks(rnd, history, day)
        bulk_insert(Transition, history)

    def _street_grids(self, street):
        return [g.pk for g in self.grid_of.values() if g.path.startswith(street.path)]

    @staticmethod
    def _log(objs):
        """Audit rows for rows written in bulk; their persons fetched in one query first (each
        row's text names its person: one query per row otherwise)."""
        persons = Person.objects.in_bulk({o.person_id for o in objs if getattr(o, "person_id", None)})
        for obj in objs:
            if getattr(obj, "person_id", None):
                obj.person = persons[obj.person_id]
        log_bulk_create(objs)

    def _between(self, first, last):
        if last <= first:
            return first
        return first + datetime.timedelta(seconds=self.rng.randrange(int((last - first).total_seconds())))

    def _write_exemptions(self, rnd):
        rows = [
            Exemption(
                campaign=rnd.campaign,
                person_id=pk,
                area=area,
                reason=reason,
                note=note,
                recorded_by=self.actor(area),
            )
            for pk, (reason, note, area) in rnd.exempt.items()
        ]
        bulk_insert(Exemption, rows)
        self._log(rows)

    def _write_home_tasks(self, rnd, history, day):
        tasks = list(rnd.home.values())
        for task in tasks:
            task.status = HomeTask.Status.DONE if task.sample_id else HomeTask.Status.OPEN
        bulk_insert(HomeTask, tasks)
        self._log(tasks)
        for task in tasks:
            if task.sample_id:
                grid = self.grid_of[task.area_id]
                history.append(
                    self._transition(task, grid, "open", "done", "", task.demo_sampled_at, task.demo_scanner)
                )

    # -- samples ---------------------------------------------------------------------------------

    def _point_samples(self, rnd, point, items, trim):
        """Queue items (households, finds, second scans) spread over the point's desks in turn,
        each desk scanning its queue evenly over the round's hours, 10 to a tube."""
        rng = self.rng
        repeats = [[entry] for item in items for entry in item if entry[0] and rng.random() < REPEAT_SHARE]
        items = items + repeats
        rng.shuffle(items)
        desks = point.desks[rnd.no]
        queues = [[] for _d in desks]
        for k, item in enumerate(items):
            queues[k % len(desks)].extend(item)
        runs = []
        for d, (desk, queue) in enumerate(zip(desks, queues, strict=True)):
            if trim and queue:  # the running round: a tube open at the desk, or between two
                idle = (
                    not (d == 0 and point.scanner is self.users.get("sampler")) and rng.random() < IDLE_DESKS
                )
                keep = (
                    len(queue) - len(queue) % POOLING
                    if idle
                    else len(queue) - (0 if len(queue) % POOLING else 1)
                )
                queue = queue[: keep or len(queue)]
            times = self._times(rnd.window, len(queue))
            runs.append((desk, list(zip(times, queue, strict=True))))
        self._write_runs(rnd, point, runs, close_at=None if trim else rnd.window[1])

    def _home_samples(self, rnd, team, entries, close_at):
        """The home team's samples (tasks done, sweeps sampled at home), in time order over its
        desks; each sample closes its task."""
        entries.sort(key=lambda e: e[0])
        desks = team.desks[rnd.no]
        runs = [(desk, []) for desk in desks]
        for k, (when, entry, task) in enumerate(entries):
            runs[k % len(desks)][1].append((when, entry))
            task.demo_entry = entry
        by_entry = {id(entry): task for _w, entry, task in entries}
        written = self._write_runs(rnd, team, runs, close_at=close_at)
        for entry, sample_pk, when in written:
            task = by_entry.get(id(entry))
            if task is not None:
                task.sample_id, task.demo_sampled_at, task.demo_scanner = sample_pk, when, team.scanner

    def _times(self, window, n):
        """n scan times spread evenly over the window, in order, a little irregular."""
        start, end = window
        if n == 0:
            return []
        step = (end - start) / n
        return [start + step * k + step * (0.8 * self.rng.random()) for k in range(n)]

    def _write_runs(self, rnd, point, runs, close_at):
        """Tubes of 10 in scan order at each desk, their samples and the round's sampled persons.
        A full tube closes at its tenth scan (换管); at the end of the day (`close_at`) the last
        one is closed by hand; closed tubes are sealed at the next pick-up. Returns
        [(entry, sample pk, scanned at)]."""
        rng = self.rng
        campaign = rnd.campaign
        obj = point.objs[rnd.no]
        user_pk = point.scanner.pk if point.scanner else None
        n_samples = sum(len(run) for _d, run in runs)
        n_tubes = sum(-(-len(run) // POOLING) for _d, run in runs)
        tube_ids, sample_ids = self.writer.new_ids(Tube, n_tubes), self.writer.new_ids(Sample, n_samples)
        tubes, samples, written = [], [], []
        for desk, run in runs:
            for first in range(0, len(run), POOLING):
                chunk = run[first : first + POOLING]
                tube_pk = next(tube_ids)
                rnd.serial += 1
                opened, last = chunk[0][0], chunk[-1][0]
                full = len(chunk) == POOLING
                if full:
                    closed = last
                elif close_at is not None:
                    closed = max(last, close_at) + datetime.timedelta(minutes=rng.randrange(1, 15))
                else:
                    closed = None
                sealed = self._pickup(closed) if closed else None
                if sealed and sealed > rnd.pickups_until:
                    sealed = None
                status = Tube.Status.SEALED if sealed else Tube.Status.CLOSED if closed else Tube.Status.OPEN
                tubes.append(
                    (
                        tube_pk,
                        opened,
                        sealed or closed or last,
                        tube_barcode(rnd.no, rnd.serial),
                        campaign.pk,
                        obj.pk,
                        desk.pk,
                        POOLING,
                        len(chunk),
                        None,
                        status,
                        opened,
                        user_pk,
                        closed,
                        sealed,
                    )
                )
                for position, (when, entry) in enumerate(chunk, start=1):
                    sample_pk = next(sample_ids)
                    person, _grid, find, via = entry
                    received = when + datetime.timedelta(seconds=rng.randrange(2, 20))
                    if rng.random() < OFFLINE_SHARE:  # no signal: the queue synced later
                        received += datetime.timedelta(minutes=rng.randrange(5, 40))
                    received = min(received, self.now)
                    client_id = client_id_at(rng, when)
                    samples.append(
                        [
                            sample_pk,
                            received,
                            received,
                            client_id,
                            campaign.pk,
                            obj.pk,
                            desk.pk,
                            tube_pk,
                            position,
                            person,
                            find.pk if find is not None else None,
                            via,
                            False,
                            when,
                            received,
                            user_pk,
                            Sample.Status.ACTIVE,
                            None,
                        ]
                    )
                    written.append((entry, sample_pk, when))
        # Who was sampled: the first scan of each person; a later one is a repeat, kept.
        sampled, seen = [], set()
        grid_of_entry = {
            sample[0]: entry[1] for (entry, _pk, _w), sample in zip(written, samples, strict=True)
        }
        for sample in sorted(samples, key=lambda s: (s[13], s[0])):
            person = sample[9]
            if person is None:
                continue
            if person in seen:
                sample[12] = True
                continue
            seen.add(person)
            sampled.append((None, campaign.pk, person, grid_of_entry[sample[0]], sample[0], sample[13]))
        sampled_ids = self.writer.new_ids(SampledPerson, len(sampled))
        sampled = [(next(sampled_ids), *row[1:]) for row in sampled]
        insert_rows(Tube, TUBE_COLUMNS, tubes)
        insert_rows(Sample, SAMPLE_COLUMNS, samples)
        insert_rows(SampledPerson, SAMPLED_COLUMNS, sampled)
        return written

    def _pickup(self, closed):
        """The transport's next collection after a tube closed (hourly at :30, 5 minutes on)."""
        moment = closed + datetime.timedelta(minutes=5)
        slot = moment.replace(minute=PICKUP_MINUTE, second=0, microsecond=0)
        return slot if slot >= moment else slot + datetime.timedelta(hours=1)

    # -- the running round -----------------------------------------------------------------------

    def _running(self, rnd, finished):
        rng = self.rng
        for pk, (reason, note, area) in finished.exempt.items():
            if reason in CARRIED_OVER:
                rnd.exempt[pk] = (reason, note, area)
        self._write_exemptions(rnd)
        queues = {}
        street_of = {g: p for p in self.points if p.home for g in self._street_grids(p.area)}
        home_items = {}
        window = rnd.window
        for grid in self.plan.grids_list:
            area = self.areas[grid.code]
            if area.pk not in self.people:
                continue
            ids = self.people[area.pk][0]
            rate = rng.uniform(*RUNNING_RATE)
            team = street_of[area.pk]
            # The bedridden of the last round get their task again; a third visited already.
            home = []
            for k, pk in enumerate(ids):
                if pk in rnd.exempt:
                    continue
                old = finished.home.get(pk)
                if old is not None and old.note in HOME_NOTES:
                    task = HomeTask(
                        campaign=rnd.campaign, person_id=pk, area=area, team=team.objs[rnd.no], note=old.note
                    )
                    rnd.home[pk] = task
                    home.append(k)
                    if rng.random() < 0.35:
                        when = self._between(window[0] + datetime.timedelta(hours=1), window[1])
                        home_items.setdefault(team, []).append(
                            (when, (pk, area.pk, None, Sample.Via.QR), task)
                        )
            skip = set(home)
            pool = [k for k in range(len(ids)) if k not in skip and ids[k] not in rnd.exempt]
            chosen = sorted(rng.sample(pool, round(rate * len(pool))))
            queues[area.pk] = self._households(area.pk, chosen)
        residents = sum(len(v[0]) for v in self.people.values())
        n_finds = max(1, round(residents / RUNNING_FINDS_PER_RESIDENTS)) if residents else 0
        walk_points = [p for p in self.points if not p.home]
        finds = {}
        for _i in range(n_finds if walk_points else 0):
            point = walk_points[rng.randrange(len(walk_points))]
            find = self._find(rnd, self.grid_of[point.serves[0]], Find.Status.PENDING)
            find.demo_grid = point.serves[0]
            finds.setdefault(point, []).append(find)
        all_finds = [f for fs in finds.values() for f in fs]
        bulk_insert(Find, all_finds)
        self._log(all_finds)
        for p in walk_points:
            items = [item for g in p.serves for item in queues.get(g, [])]
            # Early in the queue: a find is never the scan a desk trims off.
            for find in finds.get(p, []):
                items.insert(0, [(None, find.demo_grid, find, Sample.Via.TYPED)])
            self._point_samples(rnd, p, items, trim=True)
        for team in [p for p in self.points if p.home]:
            self._home_samples(rnd, team, home_items.get(team, []), close_at=None)
        history = []
        self._write_home_tasks(rnd, history, self.today)
        bulk_insert(Transition, history)


# -- what the database holds (the demo's JSON and text; also for --if-empty) ----------------------


def testing_counts():
    """Counts of the testing module, per round (in start order) and in total, without ids."""
    rounds = []
    for campaign in Campaign.objects.order_by("starts_at", "id"):
        rounds.append({k: v for k, v in round_summary(campaign).items() if k != "id"})
    return {
        "rounds": rounds,
        "points": SamplingPoint.objects.count(),
        "desks": Desk.objects.count(),
        "samplers": SamplingPoint.staff.through.objects.values("user_id").distinct().count(),
    }


def _by(queryset, field_name):
    return dict(queryset.values_list(field_name).order_by().annotate(n=Count("pk")))


def round_summary(campaign):
    """A round's figures: coverage over its organiser's area (services.coverage), tubes by
    status, samples, finds, home tasks, sweeps and exemptions."""
    head, _rows = services.coverage(campaign, campaign.area)
    tubes = _by(Tube.objects.filter(campaign=campaign), "status")
    finds = _by(Find.objects.filter(campaign=campaign), "status")
    tasks = _by(HomeTask.objects.filter(campaign=campaign), "status")
    sweeps = _by(SweepVisit.objects.filter(campaign=campaign), "outcome")
    return {
        "id": campaign.pk,
        "name": campaign.name,
        "status": campaign.status,
        "coverage": head["coverage"],
        "expected": head["expected"],
        "sampled": head["sampled"],
        "exempt": head["exempt"],
        "missed": head["missed"],
        "points": campaign.points.count(),
        "tubes": {s: tubes.get(s, 0) for s in Tube.Status.values},
        "samples": Sample.objects.filter(campaign=campaign).count(),
        "finds": {s: finds.get(s, 0) for s in Find.Status.values},
        "home_tasks": {s: tasks.get(s, 0) for s in HomeTask.Status.values},
        "sweeps": {o: sweeps.get(o, 0) for o in SweepOutcome.values},
        "exemptions": Exemption.objects.filter(campaign=campaign).count(),
    }


def testing_json():
    """For `epigrid demo --json`: the rounds (id, name, status, coverage ...) and where the demo
    sampler is posted."""
    rounds = [
        {k: summary[k] for k in ("id", "name", "status", "coverage", "expected", "sampled", "missed")}
        for summary in map(round_summary, Campaign.objects.order_by("starts_at", "id"))
    ]
    return {"rounds": rounds, "sampler": sampler_post()}


def sampler_post():
    """The demo sampler's login and post: the running round's point and its desks."""
    User = get_user_model()
    user = User.objects.filter(username=data.DEMO_USERS["sampler"][0]).first()
    if user is None:
        return None
    point = (
        SamplingPoint.objects.filter(staff=user, campaign__status=Campaign.Status.RUNNING)
        .order_by("-campaign__starts_at", "id")
        .first()
    )
    desks = list(point.desks.order_by("name").values_list("id", "name")) if point else []
    return {
        "username": user.username,
        "password": data.DEMO_PASSWORD,
        "campaign": point.campaign_id if point else None,
        "point": point.name if point else None,
        "desks": [{"id": pk, "name": name} for pk, name in desks],
    }
