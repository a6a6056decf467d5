"""The demo district's resident services for sealed homes (decision 0038): in the showcase grid's
sealed building, five residents in the special-groups register (elderly living alone, disabled,
pregnant with a due date, dialysis and chemotherapy schedules), today's visits and calls (some
done), and requests of every kind from their households: to assign, assigned to the demo
volunteer, in progress, done awaiting confirmation, confirmed, cancelled; one overdue and one
added to by a second request.

Every step goes through `homeservices.services` with the times it would have had; deterministic:
the first persons of the sealed households in id order and fixed offsets."""

import datetime

from django.db.models import Count
from django.utils import timezone

from epigrid.control.models import Zone
from epigrid.control.services import zone_households
from epigrid.homeservices import services
from epigrid.homeservices.models import ProactiveCheck, RequestAddition, ServiceRequest, SpecialCare
from epigrid.people.models import Person

H = datetime.timedelta(hours=1)


def _sealed_persons():
    zones = (
        Zone.objects.filter(level__in=services.SEALED_LEVELS)
        .exclude(status=Zone.Status.LIFTED)
        .order_by("pk")
    )
    for zone in zones:
        households = zone_households(zone).order_by("pk").values("pk")[:40]
        persons = list(
            Person.objects.filter(household__in=households, merged_into__isnull=True)
            .select_related("household__area", "household__building")
            .order_by("household_id", "pk")
        )
        # One person a household: each entry and its requests stay in a home of their own.
        firsts, seen = [], set()
        for person in persons:
            if person.household_id not in seen:
                seen.add(person.household_id)
                firsts.append(person)
        if len(firsts) >= 7:
            return firsts
    return []


def build_homeservices(users, now=None):
    now = now or timezone.now()
    worker, officer = users.get("grid_worker"), users.get("community_officer")
    volunteer = users.get("volunteer")
    persons = _sealed_persons()
    if worker is None or officer is None or not persons:
        return
    if volunteer is None or not services.may_work(volunteer, persons[0].household.area):
        volunteer = worker
    today = timezone.localdate(now)
    elderly, disabled, pregnant, dialysis, chemo, other_a, other_b = persons[:7]
    register = services.register_care
    register(worker, elderly, "elderly_alone", notes="子女在外地，每日电话问候")
    register(worker, disabled, "disabled", visit_every_days=2, notes="轮椅，行动不便")
    register(
        worker, pregnant, "pregnant", due_date=today + datetime.timedelta(days=38), hospital="市妇幼保健院"
    )
    tomorrow = (today + datetime.timedelta(days=1)).isoweekday()
    days = ",".join(str(d) for d in sorted({tomorrow, (tomorrow + 1) % 7 + 1, (tomorrow + 3) % 7 + 1}))
    register(
        worker,
        dialysis,
        "dialysis",
        treatment_days=days,
        treatment_time=datetime.time(7, 30),
        hospital="兰大二院血透室",
    )
    register(worker, chemo, "chemotherapy", treatment_days=str((tomorrow + 2) % 7 + 1), hospital="省肿瘤医院")
    services.generate_checks(today, now=now)  # today's calls and visits; tomorrow's dialysis trip
    for check in ProactiveCheck.objects.filter(day=today, kind="call").order_by("pk")[:3]:
        services.record_check(worker, check, "well", "电话问候，情况良好", now=now - 2 * H)

    def ask(person, kind, details, urgency="normal", hours_ago=2, **extra):
        return services.submit(
            worker,
            household=person.household,
            person=person,
            kind=kind,
            urgency=urgency,
            details=details,
            source=extra.pop("source", "phone"),
            now=now - hours_ago * H,
            **extra,
        ).request

    # To assign, and overdue: an urgent medicine request from six hours ago.
    ask(
        elderly,
        "medicine",
        {"medicines": "硝苯地平缓释片 30 片", "prescription": "高血压长期处方，社区医院开具"},
        "urgent",
        6,
    )
    # Assigned to the volunteer; a second shopping list was added to it.
    shopping = ask(elderly, "shopping", {"items": "大米 5kg、食用油 1 桶、鸡蛋 30 枚"}, hours_ago=5)
    services.submit(
        worker,
        household=elderly.household,
        person=elderly,
        kind="shopping",
        details={"items": "挂面 2 把、酱油 1 瓶"},
        add_to_open=True,
        now=now - 4 * H,
        description="老人来电补充",
    )
    services.assign(officer, shopping, volunteer, now=now - 4 * H)
    animals = ask(
        other_a, "animals", {"species": "羊", "count": 12, "task": "每日喂草料、饮水"}, hours_ago=20
    )
    services.assign(officer, animals, volunteer, now=now - 19 * H)
    services.start(volunteer, animals, now=now - 18 * H)
    farming = ask(other_b, "farming", {"crop": "春小麦", "mu": "8.5", "task": "播种"}, "low", 30)
    services.assign(officer, farming, worker, now=now - 29 * H)
    services.complete(worker, farming, "村播种队已完成 8.5 亩播种", now=now - 3 * H)
    psych = ask(
        pregnant,
        "psychological",
        {"concern": "临近预产期，焦虑失眠", "referral": "区心理援助热线"},
        "high",
        26,
    )
    services.assign(officer, psych, worker, now=now - 25 * H)
    services.complete(worker, psych, "心理咨询师电话疏导 40 分钟", now=now - 22 * H)
    services.confirm(officer, psych, "phone", "回访：情绪好转", now=now - 20 * H)
    hospital = ask(
        chemo,
        "hospital",
        {
            "destination": "省肿瘤医院",
            "appointment_at": now - 28 * H,
            "car": "街道防疫专车",
            "escort": "社区医生",
            "return_at": now - 22 * H,
            "reentry": True,
        },
        "high",
        50,
    )
    services.assign(officer, hospital, worker, now=now - 49 * H)
    services.complete(worker, hospital, "专车往返，闭环返回，核酸已采", now=now - 21 * H)
    services.confirm(worker, hospital, "in_person", now=now - 21 * H)
    closed_shop = ask(disabled, "shopping", {"items": "蔬菜一份、纸尿裤 1 包"}, hours_ago=30)
    services.assign(officer, closed_shop, volunteer, now=now - 29 * H)
    services.complete(volunteer, closed_shop, "已送到门口", now=now - 26 * H)
    services.confirm(volunteer, closed_shop, "in_person", now=now - 26 * H)
    services.cancel(
        officer, ask(disabled, "other", {}, hours_ago=8, description="帮忙取快递"), "快递已由物业代收"
    )


def homeservices_counts():
    rows = ServiceRequest.objects.all()
    return {
        "requests": {r["status"]: r["n"] for r in rows.values("status").annotate(n=Count("pk")).order_by()},
        "kinds": rows.values("kind").distinct().count(),
        "overdue": rows.filter(services.overdue_q()).count(),
        "added_to": RequestAddition.objects.count(),
        "special_groups": SpecialCare.objects.count(),
        "checks": ProactiveCheck.objects.count(),
    }
