"""The demo district's supervision items 督导: a handful around the showcase grid in every state, so
the lists, "my items", the escalation and the on-time figures show something from the first run.

- raised by the street's 督导组 for the showcase grid, its worker responsible: one assigned, one
  being rectified, one submitted with a photo of the fix, one signed off on time with photos, one
  signed off late, one sent back once and being rectified again, one cancelled as a duplicate;
- a problem the system found (a gap in the key-person ledger), still to assign;
- two overdue: one escalated to the community, one (two days late) on to the street;
- one raised by the district for the street, signed off by the district commander.

Every step goes through `supervision.services` with the times it would have had, as the pages do;
photos are small PNGs drawn with Pillow. Deterministic: fixed titles and offsets, no randomness."""

import datetime
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Count
from django.utils import timezone
from PIL import Image, ImageDraw

from epigrid.supervision import services
from epigrid.supervision.models import Category, FoundBy, Item, ItemPhoto

H = datetime.timedelta(hours=1)


def _png(label, color):
    """A small photo stand-in: a coloured square with a label's initials drawn in."""
    image = Image.new("RGB", (160, 120), color)
    ImageDraw.Draw(image).text((10, 50), label, fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return SimpleUploadedFile(f"{label}.png", buffer.getvalue(), content_type="image/png")


def _raise(user, area, title, category, raised, due, responsible=None, found_by=FoundBy.INSPECTION, **extra):
    return services.raise_item(
        user=user,
        area=area,
        title=title,
        category=category,
        found_by=found_by,
        deadline=due,
        responsible=responsible,
        now=raised,
        **extra,
    )


def _fix(worker, item, started, submitted, note, photo=None):
    services.start(worker, item, now=started)
    return services.submit(worker, item, note, photos=[photo] if photo else [], now=submitted)


def build_supervision(users, now=None):
    now = now or timezone.now()
    commander, street = users.get("district_commander"), users.get("street_officer")
    community, worker = users.get("community_officer"), users.get("grid_worker")
    if None in (commander, street, community, worker):
        return
    grid = worker.grants.get().area
    street_area = street.grants.get().area
    _raise(
        street, grid, "卡口测温枪电量不足，无备用电池", Category.CHECKPOINT, now - 2 * H, now + 22 * H, worker
    )
    rectifying = _raise(
        community, grid, "楼道消杀记录未张贴", Category.DISINFECTION, now - 20 * H, now + 4 * H, worker
    )
    services.start(worker, rectifying, now=now - 3 * H)
    submitted = _raise(
        street,
        grid,
        "核酸采样点一米线未设置",
        Category.SAMPLING,
        now - 10 * H,
        now + 14 * H,
        worker,
        description="排队人员间距不足一米，现场无引导人员。",
    )
    _fix(
        worker, submitted, now - 9 * H, now - H, "已设置一米线地贴并安排志愿者引导", _png("1m", (30, 110, 60))
    )
    on_time = _raise(
        street,
        grid,
        "隔离户门磁未安装",
        Category.ISOLATION,
        now - 50 * H,
        now - 26 * H,
        worker,
        photos=[_png("door", (150, 40, 40))],
    )
    _fix(worker, on_time, now - 48 * H, now - 30 * H, "已安装门磁并联网测试", _png("ok", (30, 110, 60)))
    services.sign_off(street, on_time, "现场复核，门磁正常", now=now - 28 * H)
    late = _raise(
        street, grid, "防疫物资台账与库存不符", Category.SUPPLIES, now - 80 * H, now - 56 * H, worker
    )
    _fix(worker, late, now - 70 * H, now - 50 * H, "已盘点并更正台账", _png("stock", (40, 60, 140)))
    services.sign_off(street, late, "核对无误", now=now - 47 * H)
    sent_back = _raise(
        street, grid, "重点人员台账信息不全", Category.KEY_PERSONS, now - 30 * H, now + 18 * H, worker
    )
    _fix(worker, sent_back, now - 29 * H, now - 20 * H, "已补录联系电话")
    services.send_back(street, sent_back, "仍缺三人的管控起止日期")
    services.cancel(
        street,
        _raise(street, grid, "卡口登记表缺项", Category.CHECKPOINT, now - 6 * H, now + 18 * H, worker),
        "与上一条重复登记",
    )
    # The system's find (another app would pass its record as `source`): waiting to be assigned.
    _raise(
        None,
        grid,
        "重点人员核酸检测逾期未录入",
        Category.KEY_PERSONS,
        now - H,
        now + 11 * H,
        found_by=FoundBy.SYSTEM,
    )
    # Overdue: two days late reaches the street (through the community), five hours late the community.
    _raise(street, grid, "小区出入口无人值守", Category.CHECKPOINT, now - 72 * H, now - 48 * H, worker)
    _raise(
        community, grid, "居家隔离人员未按时上报体温", Category.REPORTING, now - 29 * H, now - 5 * H, worker
    )
    services.escalate_overdue(now - 26 * H)
    services.escalate_overdue(now)
    # The district's own check of the street: the commander signs it off.
    district_item = _raise(
        commander,
        street_area,
        "街道应急物资储备不足三天用量",
        Category.SUPPLIES,
        now - 40 * H,
        now - 16 * H,
        street,
    )
    _fix(
        street, district_item, now - 39 * H, now - 20 * H, "已补充防护服与消毒液", _png("store", (90, 90, 30))
    )
    services.sign_off(commander, district_item, "已抽查", now=now - 18 * H)


def supervision_counts():
    items = Item.objects.all()
    return {
        "items": {
            row["status"]: row["n"] for row in items.values("status").annotate(n=Count("pk")).order_by()
        },
        "overdue": items.filter(services.overdue_q()).count(),
        "escalated": items.filter(escalation_level__gt=0, status__in=Item.OPEN).count(),
        "sent_back": items.filter(reopen_count__gt=0).count(),
        "photos": ItemPhoto.objects.count(),
    }
