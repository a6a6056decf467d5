"""The demo district's staff, volunteers and duty rosters 排班.

- Cadres sent down 下沉干部 from district and city offices, volunteers 志愿者, community staff, a
  doctor and police officers, posted in the showcase community (a few at the district's command
  centre); `demo_duty_staff` is a volunteer with an account who checks in from the phone.
- Teams: the command centre's task groups 专班 and the 五包一 team of one of the showcase
  community's key persons (linked to the ledger entry, not copied from it).
- Posts for the showcase community's checkpoints, the district's road entries, sampling points and
  isolation sites (read here through their models' managers, the only place rosters meets them) and
  the community's duty room, each with the 三班倒 pattern.
- Shifts for a week (three days back, today and three ahead), filled through `rosters.services.assign` by whoever rested
  longest; past shifts checked in and out, one late, one absent, one forgotten check-out closed by
  the sweep; tonight's last shift at the duty room is one person short.

Deterministic for a seed on a given day: fixed orders, no randomness."""

import datetime

from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils import timezone

from epigrid.checkpoints.models import Checkpoint
from epigrid.control.models import KeyPerson
from epigrid.isolation.models import Site
from epigrid.rosters import services
from epigrid.rosters.models import Assignment, Post, Shift, StaffMember, Team
from epigrid.testing.models import SamplingPoint

UNITS = (
    "城关区财政局",
    "城关区教育局",
    "城关区住建局",
    "兰州市卫健委",
    "城关区税务局",
    "城关区文旅局",
    "兰州市自然资源局",
    "城关区民政局",
)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = (
    "建国",
    "晓燕",
    "志强",
    "丽娟",
    "海涛",
    "文静",
    "国栋",
    "雪梅",
    "俊杰",
    "秀兰",
    "鹏飞",
    "红霞",
    "永刚",
    "春燕",
    "宏伟",
    "玉兰",
)
STAFF = (
    ("cadre", 16),
    ("volunteer", 18),
    ("community", 4),
    ("medical", 2),
    ("police", 2),
)
PAST_DAYS = 3
MAX_POSTS = {"checkpoint": 3, "sampling": 2, "isolation": 1}


def _phone(i):
    return f"+86139{3100_0000 + i * 7919:08d}"


def _name(i):
    return SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 5) % len(GIVEN)]


def build_rosters(district, showcase, users, today=None, now=None):
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    street = showcase.parent
    # A rolling week: three days back (check-ins, hours) and today with three days ahead.
    since = today - datetime.timedelta(days=PAST_DAYS)
    members = _members(district, showcase, users, since)
    _teams(district, showcase, members)
    posts = _posts(district, showcase)
    days = 7
    shifts = []
    for post in posts:
        shifts += services.plan_shifts(None, post, since, days)[0]
    shifts.sort(key=lambda s: (s.start, s.post.name))
    duty_room = next(p for p in posts if p.kind == Post.Kind.COMMUNITY)
    _evening, morning = services.tonight(now)
    short = Shift.objects.get(post=duty_room, end=morning)  # tonight's last shift at the duty room
    _fill(shifts, members, street, short)
    _check_ins(now, members)
    services.sweep(now)
    return posts


def _members(district, showcase, users, since):
    out, i = [], 0
    for kind, count in STAFF:
        for n in range(count):
            area = district if kind == "cadre" and n < 2 else showcase
            member, _created = services.save_member(
                None,
                name=_name(i),
                phone=_phone(i),
                kind=kind,
                unit=UNITS[n % len(UNITS)] if kind == "cadre" else "",
                area=area,
                active_from=since - datetime.timedelta(days=10),
                user=users.get("duty_staff") if kind == "volunteer" and n == 0 else None,
            )
            out.append(member)
            i += 1
    return out


def _teams(district, showcase, members):
    cadres = [m for m in members if m.kind == StaffMember.Kind.CADRE]
    groups = (
        ("综合协调组", "统筹调度、信息汇总上报"),
        ("社区防控组", "卡口值守、重点人员管控"),
        ("物资保障组", "生活物资和防疫物资保障"),
    )
    for n, (name, duties) in enumerate(groups):
        team = Team.objects.create(
            name=f"城关区指挥部{name}",
            kind=Team.Kind.TASK_GROUP,
            area=district,
            duties=duties,
            leader=cadres[n],
        )
        team.members.set(cadres[n::3])
    entry = (
        KeyPerson.objects.filter(status="open", area__path__startswith=showcase.path)
        .select_related("person")
        .order_by("id")
        .first()
    )
    if entry is not None:
        by_kind = {}
        for m in members:
            if m.area_id == showcase.pk:
                by_kind.setdefault(m.kind, m)
        five = [by_kind.get(k) for k in ("cadre", "community", "volunteer", "medical", "police")]
        team = Team.objects.create(
            name=f"{entry.person.name}五包一专班",
            kind=Team.Kind.FIVE_FOR_ONE,
            area=showcase,
            key_person=entry,
            leader=five[1],
            duties="每日两次体温、上门服务、送检",
        )
        team.members.set([m for m in five if m is not None])


def _posts(district, showcase):
    posts = []
    gates = Checkpoint.objects.filter(is_active=True).filter(area__path__startswith=showcase.path)
    entries = Checkpoint.objects.filter(is_active=True, area=district)
    for cp in [*gates.order_by("id"), *entries.order_by("id")][: MAX_POSTS["checkpoint"]]:
        posts.append(_post(cp.name + "值守", Post.Kind.CHECKPOINT, cp.area, "checkpoints.checkpoint", cp, 2))
    points = SamplingPoint.objects.filter(area__path__startswith=showcase.path).order_by("id")
    for sp in points[: MAX_POSTS["sampling"]]:
        posts.append(_post(sp.name, Post.Kind.SAMPLING, sp.area, "testing.samplingpoint", sp, 2))
    for site in Site.objects.filter(area__path__startswith=district.path).order_by("id")[
        : MAX_POSTS["isolation"]
    ]:
        posts.append(_post(site.name + "驻点", Post.Kind.ISOLATION, site.area, "isolation.site", site, 2))
    posts.append(
        Post.objects.create(name=f"{showcase.name}值班室", kind=Post.Kind.COMMUNITY, area=showcase, needed=2)
    )
    return posts


def _post(name, kind, area, place_type, place, needed):
    return Post.objects.create(
        name=name[:100],
        kind=kind,
        area=area,
        place_type=place_type,
        place_id=place.pk,
        place_label=place.name,
        needed=needed,
    )


def _fill(shifts, members, street, short):
    """Whoever rested longest takes the next place; the rules are the service's."""
    last_end = {m.pk: None for m in members}
    pool = [m for m in members if m.area.path.startswith(street.path) or m.kind == "cadre"]
    for shift in shifts:
        wanted = shift.needed - 1 if shift.pk == short.pk else shift.needed
        candidates = sorted(
            pool, key=lambda m: (last_end[m.pk] or datetime.datetime.min.replace(tzinfo=datetime.UTC), m.pk)
        )
        placed = 0
        for member in candidates:
            if placed >= wanted:
                break
            try:
                services.assign(None, shift, member, now=shift.start - datetime.timedelta(days=1))
            except ValidationError:
                continue
            last_end[member.pk] = shift.end
            placed += 1


def _check_ins(now, members):
    """Past and current shifts checked in from the phone: on time (10 min early), one late, one
    absent (no check-in: the sweep marks it), one forgotten check-out (closed by the sweep)."""
    rows = list(
        Assignment.objects.filter(shift__start__lte=now - services.ABSENT_AFTER)
        .select_related("shift")
        .order_by("shift__start", "id")
    )
    past = [r for r in rows if r.shift.end <= now - services.checkout_grace()]
    late = past[len(past) // 3] if past else None
    absent = past[len(past) // 2] if past else None
    forgotten = past[(2 * len(past)) // 3] if past else None
    for row in rows:
        shift = row.shift
        if row == absent:
            continue
        arrived = (
            shift.start + datetime.timedelta(minutes=25)
            if row == late
            else shift.start - datetime.timedelta(minutes=10)
        )
        services.check_in(None, row, now=arrived)
        if shift.end <= now and row != forgotten:
            services.check_out(None, row, now=shift.end + datetime.timedelta(minutes=5))


def rosters_counts():
    """Staff by kind, teams, posts by kind, shifts, assignments by status, late, and tonight's gap."""
    kinds = dict(StaffMember.objects.values_list("kind").order_by().annotate(n=Count("pk")))
    posts = dict(Post.objects.values_list("kind").order_by().annotate(n=Count("pk")))
    statuses = dict(Assignment.objects.values_list("status").order_by().annotate(n=Count("pk")))
    evening, morning = services.tonight()
    return {
        "staff": {k: kinds.get(k, 0) for k in StaffMember.Kind.values},
        "teams": Team.objects.count(),
        "five_for_one": Team.objects.filter(kind=Team.Kind.FIVE_FOR_ONE).count(),
        "posts": {k: posts.get(k, 0) for k in Post.Kind.values},
        "shifts": Shift.objects.count(),
        "assignments": {k: statuses.get(k, 0) for k in Assignment.Status.values},
        "late": Assignment.objects.filter(late=True).count(),
        "forgotten": Assignment.objects.filter(auto_closed=True).count(),
        "gap_tonight": sum(g["gap"] for g in services.gaps(None, evening, morning)),
    }
