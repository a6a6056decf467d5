"""The demo district's contact tracing 流调: two tracing teams and two independent chains.

- Chain 1 (team 1, staffed by `demo_tracer`): a confirmed case who ate at a noodle restaurant (a
  cluster) four days ago; a full trajectory; household members and diners as close contacts
  (confirmed into the key-person ledger, one still to confirm), a coworker as a general contact and a
  secondary contact met through a household member. One diner became a case yesterday: their case
  points at the contact record (the chain), its trajectory is not finished, and a household member is
  still not under control past the 8-hour deadline (overdue on the work list).
- Chain 2 (team 2, no demo account: the tracer does not see it): an asymptomatic case found this
  morning whose building's residents are proposed by the building rule, waiting to be confirmed.

Every row goes through `tracing.services`, as the pages make them. Deterministic for a seed on a given
day: fixed orders, times relative to the build."""

import datetime

from django.db.models import Count
from django.utils import timezone

from epigrid.people.models import Person
from epigrid.tracing import services
from epigrid.tracing.models import Case, Cluster, Contact, Team, TrajectoryEntry


def _households(district, size, count):
    """`count` households of at least `size` members in the district, in a fixed order, as their
    members; the last one in a building none of the others is in (chain 2's building rule must not
    reach into chain 1), where the district has more than one building."""
    candidates = list(
        Person.objects.filter(
            area__path__startswith=district.path, household__isnull=False, merged_into__isnull=True
        )
        .values("household_id", "household__building_id")
        .annotate(n=Count("id"))
        .filter(n__gte=size)
        .order_by("household_id")[:500]
    )
    if len(candidates) < count:
        return []
    apart = candidates[-1]
    others = [c for c in candidates if c["household__building_id"] != apart["household__building_id"]]
    if len(others) < count - 1:
        others = candidates[:-1]
    chosen = [c["household_id"] for c in others[: count - 1]] + [apart["household_id"]]
    return [
        list(Person.objects.filter(household_id=h, merged_into__isnull=True).order_by("id")) for h in chosen
    ]


def build_tracing(district, users, today=None):
    today = today or timezone.localdate()
    now = timezone.now()
    day = datetime.timedelta(days=1)
    hour = datetime.timedelta(hours=1)
    team1 = Team.objects.create(name="城关区疾控流调一队", area=district)
    team2 = Team.objects.create(name="城关区疾控流调二队", area=district)
    if users.get("tracer"):
        team1.members.add(users["tracer"])
    restaurant = Cluster.objects.create(
        name="张掖路牛肉面馆聚集性疫情",
        kind=Cluster.Kind.RESTAURANT,
        place="城关区张掖路某牛肉面馆",
        started_on=today - 4 * day,
        area=district,
    )
    homes = _households(district, 3, 6)
    if len(homes) < 6:
        return  # a district too small for the story
    index_home, diner_home, coworker_home, friend_home, _spare, home3 = homes

    # Chain 1: the index case, found yesterday morning.
    index = index_home[0]
    positive = now - 26 * hour
    case1, _ = services.open_case(
        None,
        index,
        sampled_on=today - 2 * day,
        positive_at=positive,
        onset_date=today - 3 * day,
        team=team1,
        cluster=restaurant,
        reported_at=positive + hour,
        notes="混管阳性后单管复核阳性，转定点医院。",
    )
    stops = [
        {"date": today - 6 * day, "stayed_home": True},
        {
            "date": today - 5 * day,
            "time_from": datetime.time(8, 10),
            "time_to": datetime.time(8, 40),
            "place": "公交 1 路",
            "transport": TrajectoryEntry.Transport.BUS,
            "transport_number": "1路",
            "activity": "乘车上班",
            "duration_minutes": 30,
        },
        {
            "date": today - 4 * day,
            "time_from": datetime.time(12, 0),
            "time_to": datetime.time(13, 30),
            "place": "张掖路某牛肉面馆",
            "address": "城关区张掖路",
            "venue": "餐馆",
            "activity": "与同事聚餐",
            "duration_minutes": 90,
            "cluster": restaurant,
        },
        {
            "date": today - 3 * day,
            "time_from": datetime.time(9, 0),
            "time_to": datetime.time(17, 30),
            "place": "单位（不公开）",
            "activity": "上班",
            "public": False,
        },
        {
            "date": today - 2 * day,
            "time_from": datetime.time(7, 30),
            "time_to": datetime.time(7, 45),
            "place": "社区核酸采样点",
            "activity": "全员核酸采样",
            "duration_minutes": 15,
        },
    ]
    for stop in stops:
        services.add_stop(None, case1, **stop)
    services.mark(None, case1, "trajectory", at=positive + 3 * hour)
    services.mark(None, case1, "report", at=positive + 20 * hour)
    meal = case1.trajectory.get(cluster=restaurant)
    identified = positive + 2 * hour
    household = []
    for person in index_home[1:]:
        contact, _ = services.add_contact(
            None,
            case1,
            person,
            contact_class=Contact.Class.CLOSE,
            setting=Contact.Setting.HOUSEHOLD,
            closeness=Contact.Closeness.LIVING,
            last_contact=today - 2 * day,
            now=identified,
        )
        household.append(contact)
    diners = []
    for person in diner_home[:3] + friend_home[:1]:
        contact, _ = services.add_contact(
            None,
            case1,
            person,
            contact_class=Contact.Class.CLOSE,
            setting=Contact.Setting.MEAL,
            closeness=Contact.Closeness.CLOSE,
            last_contact=today - 4 * day,
            stop=meal,
            now=identified,
        )
        diners.append(contact)
    services.add_contact(
        None,
        case1,
        coworker_home[0],
        contact_class=Contact.Class.GENERAL,
        setting=Contact.Setting.WORKPLACE,
        closeness=Contact.Closeness.BRIEF,
        last_contact=today - 3 * day,
        now=identified,
    )
    if services.traces(case1, Contact.Class.SECONDARY):
        services.add_contact(
            None,
            case1,
            coworker_home[1],
            contact_class=Contact.Class.SECONDARY,
            setting=Contact.Setting.WORKPLACE,
            closeness=Contact.Closeness.SHARED_SPACE,
            last_contact=today - 2 * day,
            via=household[0],
            now=identified,
        )
    for contact in Contact.objects.filter(case=case1).exclude(pk=diners[-1].pk).order_by("pk"):
        # Under control within the hours the protocol allows (the demo's clocks are relative).
        services.confirm_contact(None, contact, now=identified + 3 * hour)

    # One diner became a case yesterday evening: the chain continues through them.
    diner = diners[0]
    positive2 = now - 11 * hour
    case2, _ = services.open_case(
        None,
        diner.person,
        classification=Case.Classification.CONFIRMED,
        sampled_on=today - day,
        positive_at=positive2,
        onset_date=today - day,
        team=team1,
        reported_at=positive2 + hour,
    )
    services.add_stop(
        None,
        case2,
        date=today - 2 * day,
        time_from=datetime.time(18, 0),
        time_to=datetime.time(19, 0),
        place="西关什字某超市",
        activity="购物",
        duration_minutes=60,
    )
    for person in diner_home[3:] or diner_home[1:2]:
        if Contact.objects.filter(case=case2, person=person).exists() or person.pk == case2.person_id:
            continue
        services.add_contact(
            None,
            case2,
            person,
            contact_class=Contact.Class.CLOSE,
            setting=Contact.Setting.HOUSEHOLD,
            closeness=Contact.Closeness.LIVING,
            last_contact=today - day,
            now=positive2 + hour,
        )

    # Chain 2: an asymptomatic infection found this morning; the building rule proposes.
    positive3 = now - 3 * hour
    case3, _ = services.open_case(
        None,
        home3[0],
        classification=Case.Classification.ASYMPTOMATIC,
        sampled_on=today - day,
        positive_at=positive3,
        team=team2,
        reported_at=positive3 + datetime.timedelta(minutes=50),
    )
    services.add_stop(None, case3, date=case3.sampled_on, stayed_home=True)
    services.propose_building(None, case3, own_facilities=True)


def tracing_counts():
    return {
        "cases": Case.objects.count(),
        "contacts": dict(Contact.objects.order_by().values_list("status").annotate(n=Count("id"))),
        "from_contacts": Case.objects.filter(source_contact__isnull=False).count(),
        "overdue_contacts": services.overdue_contacts(Contact.objects.all()).count(),
    }
