"""The demo district's sample transport 样本转运: labs, couriers and the boxes of both rounds.

Built after the testing part, from what it wrote: the demo's tubes are sealed at the hourly
pick-up (:30); each point's tubes sealed at one pick-up travel in one box, opened when the first
of them closed, sealed just before the courier came, picked up by the courier of the point's
street and received at the street's lab 20-75 minutes later. The deadline is the round's
(`transport_hours`, 4 h) after the box's first sample (a demo tube's first scan is its opening).

- Three labs filed under the district; `demo_lab` is staff of the first (it serves the first
  street and every third after it), one staff account for each other lab. `demo_courier` (granted
  the first street) collects there; one courier account for each other street.
- The finished round: every box received, some late (traffic), one with a missing tube noted at
  the receipt.
- The running round: boxes received on time, the last pick-up's boxes in transit (a few of the
  first street's still sealed, waiting for the courier), one box in transit due within 30 minutes
  and one late, and an empty box being packed at `demo_sampler`'s point.

Box barcodes belong to physical cold boxes that travel all day: a point reuses a box once it
came back (received), so the same barcode appears on several trips (decision 0020).

Rows go in bulk (COPY on PostgreSQL) with keys reserved up front, like the samples: at a
million residents that is ~10,000 boxes and ~130,000 tubes a round. As the samples, the boxes
written here get no change-log rows: their custody events are their history; the labs and the
new accounts get their `create` rows. Deterministic for a seed on a given day.
"""

import datetime
import random
from collections import defaultdict

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db.models import Count, F, Q
from django.utils import timezone

from epigrid.accounts.models import Grant
from epigrid.audit.services import log_bulk_create
from epigrid.core.imports import bulk_insert
from epigrid.demo import data
from epigrid.testing.models import Campaign, SamplingPoint, Tube
from epigrid.transport.models import Box, BoxEvent, BoxTube, Lab

LABS = (
    ("LZCDC", "兰州市疾病预防控制中心实验室", "城关区东岗西路"),
    ("GSKMD", "甘肃金域医学检验实验室", "城关区雁滩路"),
    ("LZUH1", "兰州大学第一医院医学检验中心", "城关区东岗西路1号"),
)
TRAVEL_MINUTES = (20, 75)
TRAFFIC_SHARE = 0.08  # of the finished round's boxes, held up on the way
TRAFFIC_MINUTES = (60, 150)
SEAL_BEFORE_PICKUP = datetime.timedelta(minutes=3)
DUE_SOON = datetime.timedelta(minutes=30)
MISSING_NOTE = "箱内未见该管，已电话通知采样点核查"
LATE_NOTE = "转运车辆途中拥堵"
WAITING_SHARE = 0.3  # of the last pick-up's boxes of the first street, still waiting for the courier


def transport_counts():
    """Counts of the transport module: labs, boxes by status, late and with missing tubes."""
    by_status = dict(Box.objects.values_list("status").order_by().annotate(n=Count("pk")))
    received = Q(status=Box.Status.RECEIVED)
    return {
        "labs": Lab.objects.count(),
        "boxes": {s: by_status.get(s, 0) for s in Box.Status.values},
        "received_late": Box.objects.filter(received, received_at__gt=F("due_at")).count(),
        "with_missing_tubes": Box.objects.filter(received, missing_count__gt=0).count(),
        "tubes_in_boxes": BoxTube.objects.count(),
        "custody_events": BoxEvent.objects.count(),
        "demo": transport_json(),
    }


def build_transport(plan, writer, areas, users, now):
    """The transport part of the demo (one call from the builder, after testing)."""
    TransportBuilder(plan, writer, areas, users, now).build()


class TransportBuilder:
    def __init__(self, plan, writer, areas, users, now):
        self.plan, self.writer, self.areas, self.users, self.now = plan, writer, areas, users, now
        self.rng = random.Random(f"epigrid-demo:{plan.seed}:transport")

    def build(self):
        self.labs = self._labs()
        self.streets = [self.areas[s.code] for s in self.plan.streets]
        self.couriers = self._couriers()
        self.lab_users = self._lab_users()
        self.pools = defaultdict(list)  # point name -> [barcode, free from (datetime)]
        self.serial = 0
        for campaign in Campaign.objects.order_by("starts_at", "id"):
            self._round(campaign)

    # -- labs and people -----------------------------------------------------------------------

    def _labs(self):
        district = self.areas[self.plan.district.code]
        labs = [Lab(code=code, name=name, address=address, area=district) for code, name, address in LABS]
        bulk_insert(Lab, labs)
        log_bulk_create(labs)
        return labs

    def _accounts(self, prefix, role, areas):
        """One account per area (the team's phone: no password), granted `role` there."""
        User = get_user_model()
        unusable = make_password(None)
        accounts = []
        for n, _area in enumerate(areas, start=1):
            surname = self.rng.choices(data.SURNAMES, data.SURNAME_WEIGHTS)[0]
            given = self.rng.choice(data.GIVEN_MALE if self.rng.random() < 0.7 else data.GIVEN_FEMALE)
            accounts.append(
                User(username=f"{prefix}{n:03d}", last_name=surname, first_name=given, password=unusable)
            )
        User.objects.bulk_create(accounts)
        accounts = list(User.objects.filter(username__in=[u.username for u in accounts]).order_by("username"))
        grants = [Grant(user=u, role=role, area=a) for u, a in zip(accounts, areas, strict=True)]
        bulk_insert(Grant, grants)
        log_bulk_create(grants)
        return accounts

    def _couriers(self):
        """The courier of each street: `demo_courier` for the first, an account for each other."""
        demo = self.users.get("courier")
        others = self._accounts("courier", "courier", self.streets[1:]) if len(self.streets) > 1 else []
        return [demo, *others] if demo else [None, *others]

    def _lab_users(self):
        """The receiver at each lab: `demo_lab` at the first, an account at each other."""
        district = self.areas[self.plan.district.code]
        demo = self.users.get("lab_staff")
        others = self._accounts("lab", "lab_staff", [district] * (len(self.labs) - 1))
        receivers = [demo, *others]
        through = Lab.staff.through
        bulk_insert(
            through,
            [through(lab_id=lab.pk, user_id=u.pk) for lab, u in zip(self.labs, receivers, strict=True) if u],
        )
        return receivers

    def _street(self, area_path):
        for index, street in enumerate(self.streets):
            if area_path.startswith(street.path):
                return index
        return 0

    # -- boxes of a round ----------------------------------------------------------------------

    def _round(self, campaign):
        points = {
            p.pk: p
            for p in SamplingPoint.objects.filter(campaign=campaign).select_related("area").order_by("pk")
        }
        scanner = {}
        staff = SamplingPoint.staff.through.objects.filter(samplingpoint__campaign=campaign).order_by(
            "user_id"
        )
        for point_id, user_id in staff.values_list("samplingpoint_id", "user_id"):
            scanner.setdefault(point_id, user_id)
        groups = defaultdict(list)  # (sealed at, point) -> [(tube pk, barcode, opened, closed)]
        tubes = Tube.objects.filter(campaign=campaign, status=Tube.Status.SEALED).order_by(
            "sealed_at", "point_id", "pk"
        )
        for row in tubes.values_list(
            "pk", "barcode", "point_id", "opened_at", "closed_at", "sealed_at"
        ).iterator(chunk_size=20000):
            groups[(row[5], row[2])].append(row)
        trips = [
            self._trip(campaign, points[point], scanner.get(point), sealed, rows)
            for (sealed, point), rows in groups.items()
        ]
        packing = None
        if campaign.status == Campaign.Status.RUNNING:
            self._running_exceptions(trips)
            packing = self._packing_box(campaign, points, scanner)
        else:
            self._missing_tube(trips)
        self._barcodes(trips)
        self._write(trips, packing)

    def _trip(self, campaign, point, sampler, slot, rows):
        rng = self.rng
        street = self._street(point.area.path)
        first = min(r[3] for r in rows)
        opened = min(r[4] or r[5] for r in rows) - datetime.timedelta(minutes=rng.randrange(1, 10))
        sealed = max(slot - SEAL_BEFORE_PICKUP, opened)
        due = first + datetime.timedelta(hours=campaign.transport_hours)
        travel = datetime.timedelta(minutes=rng.randrange(*TRAVEL_MINUTES))
        if campaign.status == Campaign.Status.FINISHED and rng.random() < TRAFFIC_SHARE:
            travel += datetime.timedelta(minutes=rng.randrange(*TRAFFIC_MINUTES))
        trip = {
            "campaign": campaign,
            "point": point,
            "street": street,
            "lab": self.labs[street % len(self.labs)],
            "sampler": sampler,
            "courier": self.couriers[street],
            "receiver": self.lab_users[street % len(self.labs)],
            "tubes": rows,
            "first": first,
            "due": due,
            "opened": opened,
            "sealed": sealed,
            "picked": slot,
            "received": slot + travel,
            "missing": set(),
            "note": "",
        }
        if trip["received"] > self.now:
            trip["received"] = None  # still on its way
        elif trip["received"] > due:
            trip["note"] = LATE_NOTE
        return trip

    def _running_exceptions(self, trips):
        """In the running round: one box due within 30 minutes and one late, both still on the
        way (the first street's, so the demo courier and lab see them); some of the last
        pick-up's boxes of the first street still waiting for the courier."""
        now = self.now
        mine = [t for t in trips if t["street"] == 0] or trips
        soon = [t for t in mine if now <= t["due"] <= now + DUE_SOON] or [
            t for t in trips if now <= t["due"] <= now + DUE_SOON
        ]
        if soon:
            soon[0]["received"] = None
        late = [t for t in mine if t["due"] < now and t["received"] is not None]
        # One due today if any (a build after midnight has yesterday's too): the dashboard's
        # "boxes due today, late" tile counts it.
        late.sort(key=lambda t: timezone.localdate(t["due"]) != timezone.localdate(now))
        if late:
            late[0]["received"] = None
        if mine:
            last = max(t["picked"] for t in mine)
            for trip in [t for t in mine if t["picked"] == last]:
                if self.rng.random() < WAITING_SHARE or trip is mine[-1]:
                    trip["picked"], trip["received"] = None, None

    def _missing_tube(self, trips):
        """One box of the finished round arrived a tube short, at the demo lab."""
        candidates = [t for t in trips if t["street"] == 0 and len(t["tubes"]) >= 2 and t["received"]]
        if candidates:
            trip = candidates[len(candidates) // 2]
            trip["missing"] = {trip["tubes"][-1][0]}
            trip["note"] = MISSING_NOTE

    def _packing_box(self, campaign, points, scanner):
        """An empty box being packed at the demo sampler's point: its closed tubes go in next."""
        sampler = self.users.get("sampler")
        if sampler is None:
            return None
        point = next((p for pk, p in points.items() if scanner.get(pk) == sampler.pk), None)
        if point is None:
            staffed = SamplingPoint.objects.filter(campaign=campaign, staff=sampler).first()
            point = points.get(staffed.pk) if staffed else None
        if point is None:
            return None
        return {
            "campaign": campaign,
            "point": point,
            "lab": self.labs[self._street(point.area.path) % len(self.labs)],
            "sampler": sampler.pk,
            "opened": self.now - datetime.timedelta(minutes=4),
        }

    def _barcodes(self, trips):
        """A point's cold boxes travel all day: a trip takes the first of the point's boxes that
        has come back (received) before it opens, else a new box."""
        for trip in sorted(trips, key=lambda t: (t["opened"], t["point"].pk)):
            pool = self.pools[trip["point"].name]
            free = next((slot for slot in pool if slot[1] is not None and slot[1] <= trip["opened"]), None)
            if free is None:
                self.serial += 1
                free = [f"ZX{self.serial:06d}", None]
                pool.append(free)
            trip["barcode"] = free[0]
            free[1] = trip["received"]  # None: in use until the end of the demo

    # -- writing ---------------------------------------------------------------------------------

    def _write(self, trips, packing):
        if packing:
            pool = self.pools[packing["point"].name]
            free = next((slot for slot in pool if slot[1] is not None), None)
            if free is None:
                self.serial += 1
                free = [f"ZX{self.serial:06d}", None]
            packing["barcode"] = free[0]
            free[1] = None
        box_ids = self.writer.new_ids(Box, len(trips) + (1 if packing else 0))
        entry_ids = self.writer.new_ids(BoxTube, sum(len(t["tubes"]) for t in trips))
        boxes, entries, events = [], [], []
        for trip in trips:
            box = self._box(next(box_ids), trip)
            boxes.append(box)
            for pk, barcode, _point, _opened, closed, sealed in trip["tubes"]:
                added = max(closed or sealed, trip["opened"])
                state = BoxTube.State.PACKED
                checked = None
                if box.status == Box.Status.RECEIVED:
                    state = BoxTube.State.MISSING if pk in trip["missing"] else BoxTube.State.FOUND
                    checked = None if pk in trip["missing"] else box.received_at
                entries.append(
                    BoxTube(
                        pk=next(entry_ids),
                        box=box,
                        tube_id=pk,
                        barcode=barcode,
                        state=state,
                        added_at=added,
                        added_by_id=trip["sampler"],
                        checked_at=checked,
                        checked_by_id=box.received_by_id if checked else None,
                    )
                )
                events.append(
                    self._event(
                        box,
                        BoxEvent.Kind.TUBE_ADDED,
                        added,
                        trip["sampler"],
                        point=box.point,
                        barcode=barcode,
                    )
                )
            events.extend(self._steps(box, trip))
        if packing:
            box = Box(
                pk=next(box_ids),
                barcode=packing["barcode"],
                campaign=packing["campaign"],
                point=packing["point"],
                lab=packing["lab"],
                opened_at=packing["opened"],
                opened_by_id=packing["sampler"],
            )
            boxes.append(box)
            events.append(
                self._event(
                    box, BoxEvent.Kind.OPENED, box.opened_at, packing["sampler"], point=box.point, lab=box.lab
                )
            )
        bulk_insert(Box, boxes)
        bulk_insert(BoxTube, entries)
        bulk_insert(BoxEvent, events)

    def _box(self, pk, trip):
        received, picked = trip["received"], trip["picked"]
        status = Box.Status.RECEIVED if received else Box.Status.IN_TRANSIT if picked else Box.Status.SEALED
        missing = len(trip["missing"])
        return Box(
            pk=pk,
            barcode=trip["barcode"],
            campaign=trip["campaign"],
            point=trip["point"],
            lab=trip["lab"],
            status=status,
            opened_at=trip["opened"],
            opened_by_id=trip["sampler"],
            sealed_at=trip["sealed"],
            sealed_by_id=trip["sampler"],
            tube_count=len(trip["tubes"]),
            picked_up_at=picked,
            picked_up_by_id=trip["courier"].pk if picked and trip["courier"] else None,
            arrived_at=received,
            received_at=received,
            received_by_id=trip["receiver"].pk if received and trip["receiver"] else None,
            missing_count=missing if received else 0,
            receipt_note=trip["note"] if received else "",
            first_sample_at=trip["first"],
            due_at=trip["due"],
        )

    def _event(self, box, kind, at, user, **fields):
        return BoxEvent(box=box, kind=kind, at=at, user_id=user, **fields)

    def _steps(self, box, trip):
        events = [
            self._event(
                box, BoxEvent.Kind.OPENED, box.opened_at, trip["sampler"], point=box.point, lab=box.lab
            ),
            self._event(
                box,
                BoxEvent.Kind.SEALED,
                box.sealed_at,
                trip["sampler"],
                point=box.point,
                note=f"{box.tube_count} 管",
            ),
        ]
        if box.picked_up_at:
            events.append(
                self._event(
                    box,
                    BoxEvent.Kind.PICKED_UP,
                    box.picked_up_at,
                    box.picked_up_by_id,
                    point=box.point,
                    lab=box.lab,
                )
            )
        if box.received_at:
            found = box.tube_count - box.missing_count
            summary = f"{found}/{box.tube_count} 管已核对，缺失 {box.missing_count}，多出 0"
            events.append(
                self._event(box, BoxEvent.Kind.ARRIVED, box.received_at, box.received_by_id, lab=box.lab)
            )
            events.append(
                self._event(
                    box,
                    BoxEvent.Kind.RECEIVED,
                    box.received_at,
                    box.received_by_id,
                    lab=box.lab,
                    note=f"{summary}. {box.receipt_note}".strip(". "),
                )
            )
        return events


def transport_json():
    """For `epigrid demo --json` (under counts.transport.demo): where the demo courier and lab
    work, and a sealed box the demo courier can scan."""
    User = get_user_model()
    courier = User.objects.filter(username=data.DEMO_USERS["courier"][0]).first()
    lab_user = User.objects.filter(username=data.DEMO_USERS["lab_staff"][0]).first()
    lab = Lab.objects.filter(staff=lab_user).first() if lab_user else None
    waiting = (
        Box.objects.restrict(courier, perm="transport.pickup_box").filter(status=Box.Status.SEALED)
        if courier
        else None
    )
    return {
        "labs": list(Lab.objects.order_by("code").values_list("code", flat=True)),
        "courier": courier.username if courier else None,
        "lab_user": lab_user.username if lab_user else None,
        "lab": lab.code if lab else None,
        "box_to_pick_up": waiting.order_by("due_at").values_list("barcode", flat=True).first()
        if waiting is not None
        else None,
    }
