"""Export of the isolation-point ledger 隔离点台账 (registered with jobs.exports): one row per stay
the user sees, in the columns the district offices keep (decision 0024, addendum). ID numbers and
phones are masked unless a role that may reveal persons exports full data with a reason, as every
other export."""

from django.utils import timezone

from epigrid.areas.models import Area, Level
from epigrid.core.identity import display_phone, mask_document, mask_name, mask_phone
from epigrid.isolation.filtersets import StayFilterSet, WasteHandoverFilterSet
from epigrid.isolation.models import Stay, WasteHandover
from epigrid.jobs.exports import Export, register_export
from epigrid.people.imports import EXPORT_LABELS

HEADERS = [
    "所在区",
    "酒店",
    "房间号",
    "入住时间",
    "姓名",
    "性别",
    "身份证",
    "联系方式",
    "街道",
    "社区",
    "楼号单元房间号",
    "解除隔离日期",
    "备注",
]
FIELDS = (
    "site__area_id",
    "site__name",
    "room__number",
    "checked_in_at",
    "person__name",
    "person__sex",
    "person__doc_number",
    "person__phone",
    "person__area_id",
    "person__household__building__name",
    "person__household__unit",
    "person__household__room",
    "status",
    "checked_out_at",
    "measure__planned_end",
    "note",
)


def household_address(building, unit, room):
    """楼号单元房间号 as the offices write it ("3号楼2单元502"); the import reads it back. A bare
    number gets 号楼 so the building and the unit never run together ("3" + "2单元")."""
    if not building:
        return ""
    if building.isdigit():
        building = f"{building}号楼"
    unit = f"{unit}单元" if unit else ""
    return f"{building}{unit}{room or ''}"


class AreaNames:
    """The district, street and community above an area, read once per area (a ledger's rows
    share a handful of grids and sites, so a cache beats a join of four area tables per row)."""

    def __init__(self):
        self.areas = {}

    def _area(self, pk):
        if pk not in self.areas:
            self.areas[pk] = Area.objects.filter(pk=pk).values("level", "name", "parent_id").first()
        return self.areas[pk]

    def above(self, pk):
        """{level: name} of the area and its ancestors."""
        names = {}
        while pk is not None:
            area = self._area(pk)
            if area is None:
                break
            names[area["level"]] = area["name"]
            pk = area["parent_id"]
        return names


def release_date(status, checked_out_at, planned_end):
    """解除隔离日期: the day the person left; while still in, the planned end of the centralized
    step the stay carries out (none without a measure). A person taken to hospital was not
    released: no date (备注 says 转院就医; a return is a row of its own with its planned end)."""
    if status == Stay.Status.HOSPITAL:
        return ""
    if checked_out_at is not None and status not in Stay.ACTIVE:
        return timezone.localtime(checked_out_at).strftime("%Y-%m-%d")
    if status in Stay.ACTIVE and planned_end is not None:
        return planned_end.isoformat()
    return ""


def ledger_note(status, checked_out_at, note):
    """备注 as the offices write it; a stay ended by a hospital transfer says so, with the day."""
    if status != Stay.Status.HOSPITAL:
        return note
    day = timezone.localtime(checked_out_at).strftime("%Y-%m-%d") if checked_out_at else ""
    return "；".join(part for part in (f"{day} 转院就医".strip(), note) if part)


@register_export
class IsolationStayExport(Export):
    """隔离点台账: one row per stay."""

    name = "isolation-stays"
    title = "隔离点台账"
    model = Stay
    filterset_class = StayFilterSet
    personal = True
    # The same right as the person and antigen exports: full ID numbers and phones are a person's.
    reveal_perm = "people.reveal_person"
    headers = HEADERS
    text_columns = frozenset({6, 7})  # 身份证, 联系方式: text, or Excel rounds an 18-digit number

    def rows(self, queryset):
        doc = (lambda v: v or "") if self.unmasked else (lambda v: mask_document(v) if v else "")
        phone = (
            (lambda v: display_phone(v) if v else "")
            if self.unmasked
            else (lambda v: mask_phone(v) if v else "")
        )
        # Names as the antigen export shows them: in full to a role that may view persons.
        full_names = self.unmasked or self.user.has_scoped_perm("people.view_person")
        name = (lambda v: v or "") if full_names else mask_name
        areas = AreaNames()
        for row in (
            queryset.order_by("site__name", "site_id", "room__number", "allocated_at", "id")
            .values_list(*FIELDS)
            .iterator(chunk_size=5000)
        ):
            (site_area, site, room, checked_in, p_name, sex, number, p_phone, p_area) = row[:9]
            (building, unit, h_room, status, checked_out, planned_end, note) = row[9:]
            above = areas.above(p_area)
            yield [
                areas.above(site_area).get(Level.DISTRICT, ""),
                site,
                room,
                # Empty while the person is on their way: an allocation is not an arrival.
                timezone.localtime(checked_in).strftime("%Y-%m-%d %H:%M") if checked_in else "",
                name(p_name),
                EXPORT_LABELS["sex"].get(sex, ""),
                doc(number),
                phone(p_phone),
                above.get(Level.STREET, ""),
                above.get(Level.COMMUNITY, ""),
                household_address(building, unit, h_room),
                release_date(status, checked_out, planned_end),
                ledger_note(status, checked_out, note),
            ]


FEE_HEADERS = [
    "隔离点",
    "房间号",
    "姓名",
    "身份证",
    "入住时间",
    "离开时间",
    "晚数",
    "日费用标准",
    "费用",
    "付费方",
    "付费单位",
]
PAYER_LABELS = {"government": "政府", "self": "个人", "employer": "单位"}


@register_export
class IsolationFeeExport(Export):
    """隔离费用: one row per stay that began (an allocation nobody came to costs nothing), nights
    counted as a hotel counts them (isolation.services.nights), at the site's daily rate."""

    name = "isolation-fees"
    title = "隔离费用"
    model = Stay
    filterset_class = StayFilterSet
    personal = True
    reveal_perm = "people.reveal_person"
    headers = FEE_HEADERS
    text_columns = frozenset({3})

    def rows(self, queryset):
        from epigrid.isolation.services import fee, nights

        doc = (lambda v: v or "") if self.unmasked else (lambda v: mask_document(v) if v else "")
        full_names = self.unmasked or self.user.has_scoped_perm("people.view_person")
        name = (lambda v: v or "") if full_names else mask_name
        now = timezone.now()
        for row in (
            queryset.filter(checked_in_at__isnull=False)
            .order_by("site__name", "site_id", "checked_in_at", "id")
            .values_list(
                "site__name",
                "room__number",
                "person__name",
                "person__doc_number",
                "checked_in_at",
                "checked_out_at",
                "site__daily_rate",
                "payer",
                "employer",
            )
            .iterator(chunk_size=5000)
        ):
            site, room, p_name, number, checked_in, checked_out, rate, payer, employer = row
            n = nights(checked_in, checked_out, now)
            amount = fee(n, rate)
            yield [
                site,
                room,
                name(p_name),
                doc(number),
                timezone.localtime(checked_in).strftime("%Y-%m-%d %H:%M"),
                timezone.localtime(checked_out).strftime("%Y-%m-%d %H:%M") if checked_out else "",
                n,
                float(rate) if rate is not None else "",
                float(amount) if amount is not None else "",
                PAYER_LABELS.get(payer, payer),
                employer,
            ]


WASTE_HEADERS = [
    "隔离点",
    "交接时间",
    "袋数",
    "重量(kg)",
    "收运单位",
    "收运人",
    "移交人",
    "移交人签字时间",
    "收运人签字时间",
    "备注",
]


@register_export
class WasteHandoverExport(Export):
    """医疗废物交接登记: one row per handover, both signatures as who and when."""

    name = "isolation-waste"
    title = "医疗废物交接登记"
    model = WasteHandover
    filterset_class = WasteHandoverFilterSet
    headers = WASTE_HEADERS

    def rows(self, queryset):
        def at(value):
            return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""

        for h in queryset.select_related("site", "handed_over_by").order_by("site__name", "handed_over_at"):
            by = h.handed_over_by
            yield [
                h.site.name,
                at(h.handed_over_at),
                h.bags,
                float(h.weight_kg),
                h.company,
                h.collector_name,
                (by.get_full_name() or by.username) if by else "",
                at(h.staff_signed_at),
                at(h.collector_signed_at),
                h.note,
            ]
