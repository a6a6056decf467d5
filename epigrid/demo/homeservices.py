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


GROUP_TAG_ORDER = [
    ("elderly_alone", "elderly_alone"),
    ("disabled", "disabled"),
    ("pregnant", "pregnant"),
    ("dialysis", "chronic"),
    ("chemotherapy", "chronic"),
]


def _pick(zone_households_ids, area_path):
    """{group: person} of residents already tagged in the registry (the register builds on the
    tags, adding none), those at home in the sealed zone first; then untagged sealed residents
    for the other requests. One person a household, so each home's requests stay its own."""
    tagged = (
        Person.objects.filter(
            merged_into__isnull=True, household__isnull=False, area__path__startswith=area_path
        )
        .select_related("household__area", "household__building")
        .prefetch_related("tags")
        .order_by("pk")
    )
    sealed = list(tagged.filter(household__in=zone_households_ids))
    others = list(tagged.filter(tags__code__in=[t for _g, t in GROUP_TAG_ORDER]).distinct()[:400])
    used, chosen = set(), {}
    for group, tag in GROUP_TAG_ORDER:
        for person in sealed + others:
            if person.household_id not in used and tag in {t.code for t in person.tags.all()}:
                chosen[group] = person
                used.add(person.household_id)
                break
    pool = list(chosen.values())
    for person in sealed:
        if person.household_id not in used:
            used.add(person.household_id)
            pool.append(person)
    return chosen, pool


def _sealed():
    zones = Zone.objects.filter(level__in=services.SEALED_LEVELS).exclude(status=Zone.Status.LIFTED)
    zone = zones.select_related("area").order_by("pk").first()
    if zone is None:
        return {}, []
    return _pick(zone_households(zone).values("pk"), zone.area.path)


def build_homeservices(users, now=None):
    now = now or timezone.now()
    worker, officer = users.get("grid_worker"), users.get("community_officer")
    volunteer = users.get("volunteer")
    chosen, pool = _sealed()
    if worker is None or officer is None or len(pool) < 7:
        return
    if volunteer is None or not services.may_work(volunteer, pool[0].household.area):
        volunteer = worker
    today = timezone.localdate(now)
    details = {
        "elderly_alone": {"notes": "子女在外地，每日电话问候"},
        "disabled": {"visit_every_days": 2, "notes": "轮椅，行动不便"},
        "pregnant": {"due_date": today + datetime.timedelta(days=38), "hospital": "市妇幼保健院"},
    }
    tomorrow = (today + datetime.timedelta(days=1)).isoweekday()
    days = ",".join(str(d) for d in sorted({tomorrow, (tomorrow + 1) % 7 + 1, (tomorrow + 3) % 7 + 1}))
    details["dialysis"] = {
        "treatment_days": days,
        "treatment_time": datetime.time(7, 30),
        "hospital": "兰大二院血透室",
    }
    details["chemotherapy"] = {"treatment_days": str((tomorrow + 2) % 7 + 1), "hospital": "省肿瘤医院"}
    for group, person in chosen.items():
        services.register_care(None, person, group, **details[group])
    elderly, disabled, pregnant, chemo, other_a, other_b = (
        pool[0],
        pool[1],
        pool[2],
        pool[3],
        pool[5],
        pool[6],
    )
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
