import functools
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from pypinyin import Style, lazy_pinyin

from epigrid.core import identity
from epigrid.core.changelog import ChangeLoggedModel
from epigrid.core.scoping import RestrictedQuerySet
from epigrid.people.search import CodePointPrefix


class DocumentType(models.TextChoices):
    RESIDENT_ID = "111", _("Resident ID card")
    PASSPORT = "400", _("Passport")
    HK_MACAU_PASS = "516", _("Mainland travel permit for HK/Macau residents")
    TAIWAN_PASS = "511", _("Mainland travel permit for Taiwan residents")
    RESIDENCE_PERMIT_HK_MACAU = "551", _("Residence permit (HK/Macau)")
    RESIDENCE_PERMIT_TAIWAN = "552", _("Residence permit (Taiwan)")
    OTHER = "999", _("Other document")


class ResidenceType(models.TextChoices):
    REGISTERED = "registered", _("Registered resident")
    MIGRANT = "migrant", _("Migrant")
    FOREIGN = "foreign", _("From abroad")


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")
    UNKNOWN = "U", _("Unknown")


class Tag(models.Model):
    """A vulnerable-group tag (elderly living alone, disabled, ...), seeded by migration."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["id"]

    def __str__(self):
        return self.name


class Person(ChangeLoggedModel):
    doc_type = models.CharField(
        _("document type"), max_length=3, choices=DocumentType.choices, default=DocumentType.RESIDENT_ID
    )
    doc_number = models.CharField(_("document number"), max_length=32)
    # Reversed number, indexed, so "last four characters of the ID" is a prefix search.
    doc_number_rev = models.CharField(max_length=32, editable=False)
    name = models.CharField(_("full name"), max_length=64)
    # The lists' order: the name in pinyin (people.models.name_key), so 张三 sits among the Z's
    # instead of after every Latin name, as code-point order would put it (decision 0017).
    name_key = models.CharField(max_length=255, editable=False, default="")
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    residence_type = models.CharField(
        _("residence type"), max_length=16, choices=ResidenceType.choices, default=ResidenceType.REGISTERED
    )
    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="persons", verbose_name=_("area")
    )
    household = models.ForeignKey(
        "areas.Household",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("household"),
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="persons", verbose_name=_("vulnerable tags"))
    notes = models.TextField(_("notes"), blank=True)
    # The personal QR code's version (people.codes): revoking a code bumps it.
    code_version = models.PositiveIntegerField(_("personal code version"), default=1, editable=False)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_records",
        verbose_name=_("merged into"),
        editable=False,
    )

    scope_lookup = "area__path"
    objects = RestrictedQuerySet.as_manager()
    autocomplete_lookups = ("name__prefix",)
    personal_fields = ("doc_number", "doc_number_rev", "phone")

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        ordering = ["name_key", "id"]
        constraints = [
            # Number first: its index also serves searches by the number alone (people.search).
            models.UniqueConstraint(fields=["doc_number", "doc_type"], name="person_document_unique")
        ]
        # One index per way of looking a person up: every index costs each write (an import of
        # 100,000 residents pays about a second per index), so none is doubled.
        indexes = [
            models.Index(fields=["name_key", "id"], name="person_name_key"),  # the lists' order
            models.Index(fields=["phone"], name="person_phone"),
            # Residents per grid (coverage of a testing round, the area tree's counts) as an
            # index-only count: merged duplicates are not residents.
            models.Index(fields=["area"], name="person_area_live", condition=models.Q(merged_into__isnull=True)),
        ]
        # Prefixes of the name and of the reversed number (the `prefix` lookup, people.search)
        # have indexes that migration 0005 makes per database, so they are not declared here:
        # on PostgreSQL on (column COLLATE "C"), on SQLite on the column.
        permissions = [
            ("reveal_person", "Can reveal full personal data"),
            ("merge_person", "Can merge duplicates"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("people:person_detail", args=[self.pk])

    def autocomplete_label(self):
        return f"{self.name} {self.masked_doc_number}"

    @property
    def masked_doc_number(self):
        return identity.mask_document(self.doc_number)

    @property
    def masked_phone(self):
        return identity.mask_phone(self.phone)

    @property
    def birth_year(self):
        """The only birth detail lists, pages, the API and masked exports show: with the masked
        number, a full birth date would narrow a resident ID to a few candidates (decision 0015)."""
        return self.birth_date.year if self.birth_date else None

    @property
    def display_phone(self):
        return identity.display_phone(self.phone)

    @property
    def is_merged(self):
        return self.merged_into_id is not None

    def clean(self):
        super().clean()
        errors = {}
        if self.doc_number:
            try:
                self.doc_number = identity.normalise_document(self.doc_type, self.doc_number)
            except ValidationError as exc:
                errors["doc_number"] = exc.messages
        if self.phone:
            try:
                self.phone = identity.normalise_phone(self.phone)
            except ValidationError as exc:
                errors["phone"] = exc.messages
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        self.fill_derived_fields()
        super().save(*args, **kwargs)

    def fill_derived_fields(self):
        """Values that follow from others; bulk writers call this too."""
        self.doc_number_rev = self.doc_number[::-1]
        self.name_key = name_key(self.name)
        if self.doc_type == DocumentType.RESIDENT_ID and len(self.doc_number) == 18:
            self.sex, self.birth_date = identity.resident_id_facts(self.doc_number)
        if self.household_id:
            self.area_id = self.household.area_id


_LETTERS_AND_DIGITS = re.compile(r"[^0-9a-z]+")


@functools.lru_cache(maxsize=200_000)
def name_key(name):
    """The name as pinyin syllables in plain letters joined by "0" (which sorts before any
    letter, so 西安 xi0an comes before 先 xian), Latin names lower-cased without accents, all
    within [0-9a-z] so the database's collation cannot reorder it. Names repeat a lot; cached."""
    syllables = []
    for part in lazy_pinyin(unicodedata.normalize("NFKC", name or ""), style=Style.NORMAL):
        plain = unicodedata.normalize("NFKD", part).encode("ascii", "ignore").decode().lower()
        syllables += [w for w in _LETTERS_AND_DIGITS.split(plain) if w]
        if not plain.strip() and part.strip():
            syllables.append(part.strip().lower())  # a script pinyin cannot spell: kept as is
    return "0".join(syllables)[:255]


# name__prefix, doc_number_rev__prefix: a prefix as an index range in code-point order.
Person._meta.get_field("name").register_lookup(CodePointPrefix)
Person._meta.get_field("doc_number_rev").register_lookup(CodePointPrefix)
