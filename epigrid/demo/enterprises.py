"""The demo district's enterprises and sites back to work 复工复产: one at every stage of the return
in the showcase community, so the register, the applications to review, the contact's phone page
and the gate page show something from the first run.

- three phases of the return (保障类 first, then 规上, the rest from five days ahead);
- a building-materials company permitted three days ago (its contact is `demo_enterprise`): a
  full roster of registry persons with cards, gate temperatures for three days with one fever
  this morning, PPE for well over three days, its daily reports sent;
- a logistics centre permitted five days ago whose masks cover only a day and a half (the PPE
  shortfall), one daily report missing and one late;
- a construction site past its on-site check waiting for its permit, a food company
  conditionally approved, a repair shop submitted, a printing company with a draft, a catering
  company refused (reason given), and a construction project not yet applied, of the last phase.

Every step goes through `enterprises.services` (and `reports.services.submit`) with the times it
would have had. Deterministic: fixed names and offsets, the community's persons in key order."""

import datetime
from decimal import Decimal

from django.db.models import Count
from django.utils import timezone
from stdnum.cn import uscc

from epigrid.enterprises import daily, services
from epigrid.enterprises.models import Application, Employee, Enterprise, Phase, PPEStock, TemperatureReading
from epigrid.people.models import Person

D = datetime.timedelta(days=1)
H = datetime.timedelta(hours=1)
S = Application.Status
ANSWERS = {
    "left_city": "no",
    "places": "兰州",
    "risk_area": "no",
    "contact": "no",
    "symptoms": "no",
    "family_ill": "no",
    "transport": "公交",
    "health_code": "绿码",
}
# (name, kind, size, industry, phase code, stage, staff, contact)
ENTERPRISES = [
    ("兰州九州建材有限公司", "enterprise", "above", "建材", "above", S.PERMITTED, 8, True),
    ("九州物流配送中心", "enterprise", "above", "物流", "essential", S.PERMITTED, 6, False),
    ("九州路综合楼建设项目", "site", "below", "建筑", "above", S.CHECKED, 6, False),
    ("甘肃陇原食品有限公司", "enterprise", "above", "食品", "essential", S.CONDITIONAL, 5, False),
    ("九州汽车维修服务部", "enterprise", "below", "汽车维修", "above", S.SUBMITTED, 4, False),
    ("兰州金城印务有限公司", "enterprise", "below", "印刷", "above", S.DRAFT, 3, False),
    ("九州餐饮管理有限公司", "enterprise", "below", "餐饮", "above", S.REFUSED, 4, False),
    ("城关区第三建筑工程公司九州项目部", "site", "below", "建筑", "rest", None, 0, False),
]


def _code(index):
    base = f"9162010{index:02d}MA7{index:03d}Q8D"[:17]
    return base + uscc.calc_check_digit(base)


def _phases(today, district):
    rows = [
        ("essential", "保障类（水电气、防疫物资、商超）", today - 30 * D),
        ("above", "其他规上企业", today - 10 * D),
        ("rest", "其余企业", today + 5 * D),
    ]
    return {
        code: Phase.objects.get_or_create(
            code=code, defaults={"name": name, "earliest_on": day, "area": district}
        )[0]
        for code, name, day in rows
    }


def build_enterprises(users, today=None, now=None):
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    officer, contact = users.get("community_officer"), users.get("enterprise_contact")
    street = users.get("street_officer")
    if None in (officer, contact, street):
        return
    community = officer.grants.get().area
    grids = list(community.children.order_by("code"))
    wanted = sum(row[6] for row in ENTERPRISES)
    persons = list(
        Person.objects.filter(area__path__startswith=community.path, merged_into__isnull=True).order_by("pk")[
            :wanted
        ]
    )
    phases = _phases(today, community.parent.parent or community)
    made = []
    for index, (name, kind, size, industry, phase, stage, staff, is_contact) in enumerate(
        ENTERPRISES, start=1
    ):
        enterprise = Enterprise.objects.create(
            name=name,
            uscc=_code(index),
            kind=kind,
            size=size,
            industry=industry,
            phase=phases[phase],
            area=grids[index % len(grids)] if grids else community,
            address=f"城关区九州大道{100 + index * 12}号",
            contact_name=["王", "李", "张", "刘", "陈", "杨", "赵", "黄"][index - 1] + "经理",
            contact_phone=f"+86139{index:04d}{index * 1111 % 10000:04d}",
            prevention_lead=["马", "周", "吴", "徐", "孙", "胡", "朱", "高"][index - 1] + "安全",
        )
        if is_contact:
            enterprise.contacts.add(contact)
        # A small demo community may run out of residents: the last rosters are shorter then.
        chosen, persons = persons[:staff], persons[staff:]
        employees = [services.link_employee(enterprise, person, "生产班组")[0] for person in chosen]
        made.append((enterprise, stage, employees))
    for enterprise, stage, employees in made:
        _prepare(enterprise, stage, employees, officer, now)
        if stage is not None:
            _apply(enterprise, stage, officer, street, now, today)
    # Counted again this morning: the logistics centre's masks cover a day and a half.
    logistics, _stage, staff = made[1]
    services.set_ppe(None, logistics, PPEStock.Item.MASK, len(staff) * 3, Decimal("2"), "个", now=now - H)
    _gate(made[0][0], made[0][2], contact, now, days=3, fever_today=True)
    _gate(made[1][0], made[1][2], officer, now, days=1)
    _reports(made[0][0], officer, today, now, skip=set(), late=set())
    _reports(made[1][0], officer, today, now, skip={2}, late={3})


def _prepare(enterprise, stage, employees, officer, now):
    """Cards and PPE as far as the stage needs them: complete from the on-site check on; a draft
    or a submitted application has half its cards."""
    carded = (
        employees if stage in (S.CONDITIONAL, S.CHECKED, S.PERMITTED) else employees[: len(employees) // 2]
    )
    for i, employee in enumerate(carded):
        answers = {**ANSWERS, "returned_on": (now - (10 + i) * D).date().isoformat()}
        if i == 1:
            answers.update(left_city="yes", places="西安")
        services.fill_card(officer, employee, answers, now=now - 4 * D)
    if not employees:
        return
    staff = len(employees)
    # Six days of masks at two a day (the logistics centre's count this morning falls short).
    services.set_ppe(None, enterprise, PPEStock.Item.MASK, staff * 2 * 6, Decimal("2"), "个", now=now - 2 * H)
    services.set_ppe(
        None, enterprise, PPEStock.Item.DISINFECTANT, Decimal(staff), Decimal("0.05"), "升", now=now - 2 * H
    )
    services.set_ppe(
        None, enterprise, PPEStock.Item.GLOVES, Decimal(staff * 8), Decimal("2"), "副", now=now - 2 * H
    )


def _apply(enterprise, stage, officer, street, now, today):
    planned = today - 6 * D if stage in (S.PERMITTED, S.CHECKED) else today + 2 * D
    phase = enterprise.phase
    planned = max(planned, phase.earliest_on)
    app = services.start_application(
        None,
        enterprise,
        planned,
        prevention_plan="上岗前测温，每日早中晚三次消杀，食堂错峰就餐，员工一人一卡。",
        emergency_plan="发现发热员工立即送临时隔离室，报告社区并送发热门诊，密接人员就地隔离。",
        isolation_room="厂区东门值班室旁临时隔离室",
        commitment=stage != S.DRAFT,
        commitment_by=enterprise.contact_name if stage != S.DRAFT else "",
    )
    if stage == S.DRAFT:
        return
    services.submit(None, app, now=now - 5 * D)
    if stage == S.REFUSED:
        services.refuse(
            officer,
            app,
            "员工名录与实际到岗人员不符，应急预案未明确隔离场所，请补充后重新申请。",
            now=now - 4 * D,
        )
        return
    if stage == S.SUBMITTED:
        return
    services.approve(officer, app, "落实错峰上下班，食堂分餐", now=now - 4 * D)
    if stage == S.CONDITIONAL:
        return
    services.pass_check(
        officer, app, "五到位：机制、排查、物资、消杀、安全生产均已落实", now=now - 4 * D + 4 * H
    )
    if stage == S.CHECKED:
        return
    start = today - (3 * D if "建材" in enterprise.industry else 5 * D)
    services.issue_permit(street, app, max(start, enterprise.phase.earliest_on), now=now - 4 * D + 6 * H)


def _gate(enterprise, employees, measurer, now, days, fever_today=False):
    """Temperatures before the morning shift for `days` days, the last one this morning."""
    morning = timezone.localtime(now).replace(hour=7, minute=40, second=0, microsecond=0)
    if morning > now:
        morning -= D
    for back in range(days - 1, -1, -1):
        for i, employee in enumerate(employees):
            value = f"36.{3 + (i + back) % 5}"
            if fever_today and back == 0 and i == 2:
                value = "37.6"
            services.record_temperature(
                measurer,
                employee,
                value,
                measured_at=morning - back * D + i * 2 * datetime.timedelta(minutes=1),
            )


def _reports(enterprise, officer, today, now, skip, late):
    """The daily reports from the permit's day to yesterday; `skip` and `late` count days back."""
    from epigrid.reports import services as reports

    form = daily.daily_form()
    app = enterprise.applications.get(status=S.PERMITTED)
    if form is None:
        return
    day = app.permitted_from
    while day < today:
        back = (today - day).days
        if back not in skip:
            figures = daily.live(form, enterprise, day)
            raw = {
                "staff_on_duty": figures.get("staff_on_roster", 0),
                "from_risk_areas": 0,
                "disinfections": 3,
                "isolation_room_ready": True,
                **figures,
            }
            sent = form.deadline(day) + (2 * H if back in late else -1 * H)
            reports.submit(officer, form, None, day, raw, now=min(sent, now), sender=enterprise)
        day += D


def enterprises_counts():
    """Enterprises by stage, staff, cards, readings and fevers, PPE items short of three days."""
    stages = dict(Application.objects.values_list("status").order_by().annotate(n=Count("pk")))
    return {
        "enterprises": Enterprise.objects.count(),
        "applications": {k: stages.get(k, 0) for k in S.values},
        "employees": Employee.objects.count(),
        "cards": Employee.objects.filter(cards__isnull=False).distinct().count(),
        "temperatures": TemperatureReading.objects.count(),
        "fevers": TemperatureReading.objects.filter(fever=True).count(),
        "ppe_short": Enterprise.objects.filter(services.ppe_short_q()).count(),
    }
