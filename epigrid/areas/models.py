import re
import unicodedata

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from epigrid.core.changelog import ChangeLoggedModel
from epigrid.core.scoping import RestrictedQuerySet


class Level(models.IntegerChoices):
    CITY = 1, _("City")
    DISTRICT = 2, _("District/county")
    STREET = 3, _("Street/town")
    COMMUNITY = 4, _("Community/village")
    GRID = 5, _("Grid")


# Code shape per level and how a child's code continues its parent's
# (docs/decisions/0004-area-codes.md).
CODE_PATTERNS = {
    Level.CITY: r"\d{6}",
    Level.DISTRICT: r"\d{6}",
    Level.STREET: r"\d{12}",
    Level.COMMUNITY: r"\d{12}",
    Level.GRID: r"\d{12}\d{1,4}",
}
PARENT_PREFIX = {Level.DISTRICT: 4, Level.STREET: 6, Level.COMMUNITY: 9, Level.GRID: 12}

PATH_SEPARATOR = "/"


# -- building names (decision 0018) -------------------------------------------------------------
_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_NUMBER = re.compile(f"[{''.join(_CN_DIGITS)}{''.join(_CN_UNITS)}]+")
_DIGITS = re.compile(r"\d+")
# One suffix is dropped from the end: "1号楼", "1#楼", "1栋", "1幢", "1号", "1#", "A座" (and "3楼"
# after a digit or a letter; "教学楼" keeps its 楼).
_BUILDING_SUFFIX = re.compile(r"(?<=.)(?:号楼|#楼|栋楼|栋|幢|号|#|座|(?<=[0-9a-z])楼)$")
BUILDING_KEY_LENGTH = 100


def _chinese_number(run):
    """一 → 1, 十二 → 12, 二十一 → 21, 一百零五 → 105; digits alone read one by one (一〇一 → 101)."""
    if not any(c in _CN_UNITS for c in run):
        return "".join(str(_CN_DIGITS[c]) for c in run)
    total, digit = 0, None
    for c in run:
        if c in _CN_DIGITS:
            digit = _CN_DIGITS[c]
        else:
            total += (1 if digit is None else digit) * _CN_UNITS[c]
            digit = None
    return str(total + (digit or 0))


def normalise_building_name(name):
    """The key that says two building names are the same building: "1", "01", "1号楼", "一号楼",
    "第一栋", "1栋", "1幢", "1#" → "1"; "A座" → "a"; "新5号楼" → "新5" (decision 0018). Only for
    matching: the building keeps the name it was given."""
    key = "".join(unicodedata.normalize("NFKC", str(name or "")).split()).lower()
    key = _CN_NUMBER.sub(lambda m: _chinese_number(m.group()), key)
    key = _DIGITS.sub(lambda m: str(int(m.group())), key)
    if key.startswith("第") and key[1:2].isdigit():
        key = key[1:]
    return _BUILDING_SUFFIX.sub("", key)[:BUILDING_KEY_LENGTH]


class Area(ChangeLoggedModel):
    """A node of the area tree; `path` is the materialized path of codes used for subtree queries."""

    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent"),
    )
    path = models.CharField(_("path"), max_length=255, db_index=True, editable=False)

    scope_lookup = "path"
    objects = RestrictedQuerySet.as_manager()
    # The community's name finds its grids too: their labels carry it (full_label).
    autocomplete_lookups = ("name__contains", "code__startswith", "parent__name__contains")
    autocomplete_select_related = ("parent",)
    # Area names and codes are public: a hand-over may pick any community or grid.
    autocomplete_everywhere = True

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["path"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("areas:area_detail", args=[self.code])

    def full_label(self):
        """A grid with its community (小西湖新村社区·第一网格): every community has a 第一网格.
        Reads the parent: select_related("parent") where many are shown."""
        if self.level == Level.GRID and self.parent_id:
            return f"{self.parent.name}·{self.name}"
        return self.name

    def autocomplete_label(self):
        return f"{self.full_label()}（{self.code}）"

    def clean(self):
        super().clean()
        if self.level is None:
            return
        pattern = CODE_PATTERNS[self.level]
        if self.code and not re.fullmatch(pattern, self.code):
            raise ValidationError(
                {
                    "code": _("This code does not have the shape of a %(level)s code.")
                    % {"level": self.get_level_display()}
                }
            )
        if self.parent is None:
            if self.level not in (Level.CITY, Level.DISTRICT):
                raise ValidationError({"parent": _("Only a city or a district can be a root area.")})
            return
        if self.parent.level != self.level - 1:
            raise ValidationError({"level": _("An area must be exactly one level below its parent.")})
        if self.parent_id and self.pk and self.parent.path.startswith(self.path or "\0"):
            raise ValidationError({"parent": _("An area cannot be moved under itself.")})
        prefix = PARENT_PREFIX[self.level]
        if self.code and self.code[:prefix] != self.parent.code[:prefix]:
            raise ValidationError(
                {
                    "code": _("The code must begin with %(prefix)s, like its parent's.")
                    % {"prefix": self.parent.code[:prefix]}
                }
            )

    def compute_path(self):
        base = self.parent.path if self.parent_id else PATH_SEPARATOR
        return f"{base}{self.code}{PATH_SEPARATOR}"

    def save(self, *args, **kwargs):
        old_path = self.path
        self.path = self.compute_path()
        with transaction.atomic():
            super().save(*args, **kwargs)
            if old_path and old_path != self.path:
                self._move_descendants(old_path)

    def _move_descendants(self, old_path):
        descendants = list(Area.objects.filter(path__startswith=old_path).exclude(pk=self.pk))
        for area in descendants:
            area.path = self.path + area.path[len(old_path) :]
        Area.objects.bulk_update(descendants, ["path"])

    def subtree(self):
        return Area.objects.filter(path__startswith=self.path)

    def ancestors(self):
        codes = [c for c in self.path.split(PATH_SEPARATOR) if c][:-1]
        return sorted(Area.objects.filter(code__in=codes), key=lambda a: a.level)


class Building(ChangeLoggedModel):
    """A building 楼栋 in a grid; for rural households the house itself."""

    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="buildings", verbose_name=_("grid"))
    name = models.CharField(_("building"), max_length=64)
    # normalise_building_name(name): "1号楼" and "一栋" are one building (decision 0018).
    name_key = models.CharField(max_length=BUILDING_KEY_LENGTH, default="", editable=False)
    address = models.CharField(_("address"), max_length=200, blank=True)

    scope_lookup = "area__path"
    objects = RestrictedQuerySet.as_manager()
    # core.imports.bulk_insert fills name_key of the buildings it writes (imports, the demo).
    fill_derived_on_insert = True
    autocomplete_lookups = ("name__startswith", "area__name__contains")
    autocomplete_select_related = ("area",)

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        ordering = ["area__path", "name"]
        constraints = [models.UniqueConstraint(fields=["area", "name"], name="building_unique_in_area")]
        indexes = [models.Index(fields=["area", "name_key"], name="building_area_name_key")]

    def __str__(self):
        return f"{self.area.name} {self.name}"

    def get_absolute_url(self):
        return reverse("areas:building_detail", args=[self.pk])

    def clean(self):
        super().clean()
        if self.area_id and self.area.level != Level.GRID:
            raise ValidationError({"area": _("Buildings belong to a grid.")})
        if self.area_id and self.name:
            # "1栋" beside "1号楼" would be the same building twice (decision 0018).
            same = (
                Building.objects.filter(area_id=self.area_id, name_key=normalise_building_name(self.name))
                .exclude(pk=self.pk)
                .first()
            )
            if same is not None:
                raise ValidationError(
                    {"name": _("This grid already has this building as “%(name)s”.") % {"name": same.name}}
                )

    def fill_derived_fields(self):
        """Values that follow from others; bulk writers call this too (core.imports.bulk_insert)."""
        self.name_key = normalise_building_name(self.name)

    def save(self, *args, **kwargs):
        self.fill_derived_fields()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "name_key"}
        with transaction.atomic():
            super().save(*args, **kwargs)
            _follow_area(self.households.all(), self.area_id)


class Household(ChangeLoggedModel):
    """A household 户: building, unit and room inside a grid."""

    area = models.ForeignKey(
        Area, on_delete=models.PROTECT, related_name="households", verbose_name=_("grid"), editable=False
    )
    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, related_name="households", verbose_name=_("building")
    )
    unit = models.CharField(_("unit"), max_length=16, blank=True)
    room = models.CharField(_("room"), max_length=32)
    contact_person = models.ForeignKey(
        "people.Person",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("contact person"),
    )
    notes = models.TextField(_("notes"), blank=True)

    scope_lookup = "area__path"
    objects = RestrictedQuerySet.as_manager()
    autocomplete_lookups = ("building__name__startswith", "unit", "room__startswith", "area__name__contains")
    autocomplete_select_related = ("area", "building")

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["building__name", "unit", "room"]
        constraints = [
            models.UniqueConstraint(fields=["building", "unit", "room"], name="household_unique_address")
        ]

    def __str__(self):
        return self.address

    def get_absolute_url(self):
        return reverse("areas:household_detail", args=[self.pk])

    def autocomplete_label(self):
        return f"{self.area.name} {self.address}"

    @property
    def address(self):
        unit = f"{self.unit}单元" if self.unit and self.unit.isdigit() else self.unit
        return " ".join(part for part in (self.building.name, unit, self.room) if part)

    def save(self, *args, **kwargs):
        # The household's grid is always its building's grid: one place to count it.
        self.area_id = self.building.area_id
        with transaction.atomic():
            super().save(*args, **kwargs)
            _follow_area(self.members.all(), self.area_id)


def _follow_area(dependents, area_id):
    """Rows that live where their container lives (households in a building, members of a
    household) move with it, logged like any other change."""
    from epigrid.audit.services import log_bulk_update

    moved = list(dependents.exclude(area_id=area_id))
    for obj in moved:
        obj.area_id = area_id
    if moved:
        type(moved[0]).objects.bulk_update(moved, ["area"])
        log_bulk_update(moved)
        if isinstance(moved[0], Household):
            for household in moved:
                _follow_area(household.members.all(), area_id)
