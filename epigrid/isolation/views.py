"""Isolation pages (/isolation/): sites with their availability, a site's rooms by floor and its
current stays with the moves (allocate, check in, check out, transfer, to hospital and back,
clean), rooms, stays.

Every write goes through isolation.services; a refusal comes back as a message on the page. Reads
go through `restrict`: out of scope → 404, in scope without the move's right → 403."""

from itertools import groupby

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from epigrid.audit.services import log_print
from epigrid.control.models import TestRecord
from epigrid.core.pdf import pdf_response
from epigrid.core.scoping import may
from epigrid.core.views import ObjectDetailView, ObjectEditView, ObjectListView, TransitionView, safe_next
from epigrid.isolation import services
from epigrid.isolation.filtersets import RoomFilterSet, SiteFilterSet, StayFilterSet
from epigrid.isolation.forms import (
    AllocateForm,
    BackFromHospitalForm,
    RoomForm,
    SiteForm,
    TransferForm,
    WasteHandoverForm,
)
from epigrid.isolation.models import Reading, Room, Site, Stay, WasteHandover
from epigrid.isolation.tables import RoomTable, SiteTable, StayTable, room_badge
from epigrid.people.models import Person

STAY_MOVES = ("check-in", "check-out", "transfer", "to-hospital", "back-from-hospital")


def _error(request, exc):
    messages.error(request, " ".join(getattr(exc, "messages", None) or [str(exc)]))


def _free_rooms(user, site=None):
    rooms = Room.objects.restrict(user, perm=services.ALLOCATE).filter(
        status=Room.Status.FREE, site__is_active=True
    )
    if site is not None:
        rooms = rooms.filter(site=site)
    return rooms.select_related("site").order_by("site__name", "floor", "number")


def _back_form(user, data=None):
    """The room a person comes back from hospital to: any free room the user allocates, as for a
    transfer (the site they left may be full by now)."""
    form = BackFromHospitalForm(data, rooms=_free_rooms(user))
    form.fields["room"].label_from_instance = lambda r: f"{r.site.name} {r.number}（{r.floor}F）"
    return form


def _allocate_form(request, site, data=None):
    user = request.user
    stays = (
        Stay.objects.restrict(user, "view")
        .filter(site=site, status__in=Stay.ACTIVE, companion_of__isnull=True)
        .select_related("person", "room")
    )
    # A companion goes into the room of the person they accompany, which is not free.
    rooms = (
        Room.objects.restrict(user, perm=services.ALLOCATE)
        .filter(site=site)
        .exclude(status__in=(Room.Status.CLEANING, Room.Status.OUT_OF_SERVICE))
    )
    persons = Person.objects.restrict(user, "view").filter(merged_into__isnull=True)
    form = AllocateForm(data, rooms=rooms.select_related("site"), stays=stays, persons=persons)
    form.fields["room"].label_from_instance = lambda r: f"{r.number}（{r.floor}F · {r.get_status_display()}）"
    form.fields["companion_of"].label_from_instance = lambda s: f"{s.person.name} · {s.room.number}"
    return form


# Sites


class SiteListView(ObjectListView):
    model = Site
    table_class = SiteTable
    filterset_class = SiteFilterSet
    add_url_name = "isolation:site_add"
    template_name = "isolation/site_list.html"

    def get_queryset(self):
        # Fevers today per site: the command centre sees where a person needs the doctor.
        return services.with_tests_due(
            services.with_fevers(services.with_availability(super().get_queryset().select_related("area")))
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["total"] = services.availability(self.request.user)["total"]
        return ctx


class SiteDetailView(ObjectDetailView):
    model = Site
    template_name = "isolation/site_detail.html"

    def get_queryset(self):
        return services.with_availability(super().get_queryset().select_related("area"))

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        site, user = self.object, self.request.user
        stays = list(
            Stay.objects.restrict(user, "view")
            .filter(site=site, status__in=Stay.ACTIVE)
            .select_related("person", "room")
            .order_by("room__floor", "room__number", "pk")
        )
        by_room = {}
        for stay in stays:
            by_room.setdefault(stay.room_id, []).append(stay)
        fevers = services.fever_stays(stays)
        tests = services.todays_tests(stays)
        for stay in stays:
            stay.fever = stay.pk in fevers
            stay.test_due = stay.pk in tests
            stay.test = tests.get(stay.pk)
        # Persons taken to hospital from this site and not back yet: the site takes them back.
        hospital = list(
            services.in_hospital(Stay.objects.restrict(user, "view").filter(site=site))
            .select_related("person", "room")
            .order_by("-checked_out_at", "-pk")
        )
        rooms = list(site.rooms.order_by("floor", "number"))
        for room in rooms:
            room.current = by_room.get(room.pk, [])
            room.badge = room_badge(room)
            room.fever = any(s.fever for s in room.current)
        ctx.update(
            {
                "available": services.available(site),
                "floors": [(floor, list(rs)) for floor, rs in groupby(rooms, key=lambda r: r.floor)],
                "room_counts": _room_counts(rooms),
                "stays": stays,
                "in_hospital": hospital,
                "staff": list(site.staff.order_by("username")),
                # The stay's and room's rights, asked of the site: its scope and binding are theirs.
                "can_allocate": site.is_active and may(user, site, perm=services.ALLOCATE),
                "can_move": may(user, site, perm=services.MOVE_STAY),
                "can_clean": may(user, site, perm=services.CHANGE_ROOM),
                "can_record": may(user, site, perm=services.RECORD_READING),
                "tests_today": [s for s in stays if s.test_due],
                "test_results": _test_buttons(),
                "fees": services.fees_by_payer(site, Stay.objects.restrict(user, "view")),
            }
        )
        if ctx["can_allocate"]:
            ctx["allocate_form"] = _allocate_form(self.request, site)
        if hospital and ctx["can_move"]:
            ctx["back_form"] = _back_form(user)
        return ctx


def _room_counts(rooms):
    counts = dict.fromkeys(Room.Status.values, 0)
    for room in rooms:
        counts[room.status] += 1
    return [(value, label, counts[value]) for value, label in Room.Status.choices]


class SiteEditView(ObjectEditView):
    model = Site
    form_class = SiteForm


@login_required
@require_POST
def allocate(request, pk):
    site = get_object_or_404(Site.objects.restrict(request.user, "view"), pk=pk)
    form = _allocate_form(request, site, request.POST)
    if not form.is_valid():
        if not request.user.has_scoped_perm(services.ALLOCATE):
            raise PermissionDenied
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(site.get_absolute_url())
    data = form.cleaned_data
    try:
        stay = services.allocate(
            request.user, data["person"], data["room"], companion_of=data["companion_of"], note=data["note"]
        )
    except ValidationError as exc:
        _error(request, exc)
    else:
        messages.success(
            request, _("%(name)s: room %(room)s.") % {"name": stay.person.name, "room": stay.room.number}
        )
    return redirect(site.get_absolute_url())


# Rooms


class RoomListView(ObjectListView):
    model = Room
    table_class = RoomTable
    filterset_class = RoomFilterSet
    add_url_name = "isolation:room_add"

    def get_queryset(self):
        return super().get_queryset().select_related("site")


class RoomDetailView(ObjectDetailView):
    model = Room
    template_name = "isolation/room_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("site")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        room, user = self.object, self.request.user
        ctx["badge"] = room_badge(room)
        ctx["stays"] = list(
            Stay.objects.restrict(user, "view")
            .filter(room=room)
            .select_related("person")
            .order_by("-allocated_at")[:20]
        )
        ctx["can_clean"] = room.status == Room.Status.CLEANING and may(user, room, perm=services.CHANGE_ROOM)
        ctx["can_service"] = may(user, room, perm=services.CHANGE_ROOM) and room.status in (
            Room.Status.FREE,
            Room.Status.CLEANING,
            Room.Status.OUT_OF_SERVICE,
        )
        return ctx


class RoomEditView(ObjectEditView):
    model = Room
    form_class = RoomForm

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        if not self.object:
            form.fields["site"].queryset = Site.objects.restrict(self.request.user, perm="isolation.add_room")
            form.fields["site"].initial = self.request.GET.get("site")
        return form


class IsolationMove(TransitionView):
    """A move on a site's room or stay, from its page or the site's (back=site)."""

    refusals = (ValidationError,)
    next_field = "back"
    next_urls = {"site": lambda obj: obj.site.get_absolute_url()}


class RoomMoveView(IsolationMove):
    """Cleaned, out of service, back in service."""

    model = Room
    related = ("site",)
    object_permission = services.CHANGE_ROOM

    def move(self, room, data):
        move = self.kwargs["move"]
        if move == "clean":
            services.mark_clean(self.request.user, room)
        elif move in ("out-of-service", "back-in-service"):
            note = (self.request.POST.get("note") or "")[:200]
            services.set_out_of_service(self.request.user, room, move == "out-of-service", note=note)
        else:
            raise Http404
        room.refresh_from_db()
        return room

    def get_success_message(self, room):
        return _("Room %(room)s: %(status)s.") % {"room": room.number, "status": room.get_status_display()}


# Stays


class StayListView(ObjectListView):
    model = Stay
    table_class = StayTable
    filterset_class = StayFilterSet
    # The isolation-point ledger 隔离点台账 (isolation.exports), with the list's filters.
    export_name = "isolation-stays"
    import_name = "isolation-stays"  # the same ledger back in (isolation.imports)

    def get_queryset(self):
        return super().get_queryset().select_related("person", "site", "room")


class StayDetailView(ObjectDetailView):
    model = Stay
    template_name = "isolation/stay_detail.html"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related(
                "person",
                "site",
                "room",
                "companion_of__person",
                "measure",
                "home_step",
                "home_received_by",
                "from_hospital__site",
                "from_hospital__room",
            )
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        stay, user = self.object, self.request.user
        may_move = stay.is_active and may(user, stay, perm=services.MOVE_STAY)
        ctx["may_move"] = may_move
        ctx["days"] = services.days_in(stay)
        ctx["companions"] = list(stay.companions.select_related("person", "room"))
        ctx["nights"] = services.nights(stay.checked_in_at, stay.checked_out_at)
        ctx["fee"] = services.fee(ctx["nights"], stay.site.daily_rate)
        ctx["payers"] = Stay.Payer.choices
        ctx["can_set_payer"] = may(user, stay, perm=services.CHANGE_PAYER)
        ctx["can_print_notice"] = _may_print_notice(stay)
        ctx["early"] = (
            stay.status == Stay.Status.CHECKED_IN
            and stay.measure is not None
            and stay.measure.status in services.OPEN_MEASURES
            and stay.measure.planned_end is not None
            and timezone.localdate() < stay.measure.planned_end
        )
        ctx["may_hospital"] = (
            stay.status == Stay.Status.CHECKED_IN and stay.measure_id is not None and may_move
        )
        # Still in hospital (not back, the step not ended meanwhile): the return is offered here.
        ctx["back_form"] = (
            _back_form(user)
            if services.in_hospital(Stay.objects.filter(pk=stay.pk)).exists()
            and may(user, stay, perm=services.MOVE_STAY)
            else None
        )
        ctx["return_stay"] = Stay.objects.filter(from_hospital=stay).select_related("room", "site").first()
        if may_move:
            rooms = _free_rooms(user).exclude(pk=stay.room_id)
            form = TransferForm(rooms=rooms)
            form.fields["room"].label_from_instance = lambda r: f"{r.site.name} {r.number}（{r.floor}F）"
            ctx["transfer_form"] = form
        return ctx


class StayMoveView(IsolationMove):
    """Check in, check out (home to the community's measure), transfer, to hospital and back."""

    model = Stay
    related = ("person", "room")
    object_permission = services.MOVE_STAY

    def post(self, request, *args, **kwargs):
        if kwargs["move"] not in STAY_MOVES:
            raise Http404
        return super().post(request, *args, **kwargs)

    def move(self, stay, data):
        move, user, post = self.kwargs["move"], self.request.user, self.request.POST
        note = (post.get("note") or "")[:200]
        if move == "check-in":
            services.check_in(user, stay)
        elif move == "check-out":
            stay = services.check_out(
                user, stay, note=note, early_reason=(post.get("early_reason") or "")[:200]
            )
            if stay.home_step_id:
                messages.info(
                    self.request,
                    _("%(name)s goes home to %(measure)s; the community is told to receive them.")
                    % {"name": stay.person.name, "measure": stay.home_step.get_kind_display()},
                )
        elif move == "to-hospital":
            stay = services.to_hospital(user, stay, note)
        elif move == "back-from-hospital":
            form = _back_form(user, post)
            if not form.is_valid():
                raise ValidationError(_("Choose a free room to come back to."))
            stay = services.back_from_hospital(user, stay, form.cleaned_data["room"], note=note)
        else:
            form = TransferForm(post, rooms=_free_rooms(user))
            if not form.is_valid():
                raise ValidationError(_("Choose a free room to transfer to."))
            stay = services.transfer(user, stay, form.cleaned_data["room"], note=note)
        stay.refresh_from_db()
        return stay

    def get_success_message(self, stay):
        return _("%(name)s: %(status)s.") % {"name": stay.person.name, "status": stay.get_status_display()}


# Today's checks: temperatures twice a day, on the staff's phone


def _test_buttons():
    # Sampled first: the swab is taken at the door, the result comes hours later.
    labels = {TestRecord.Result.PENDING: _("Sampled")}
    return [(value, labels.get(value, TestRecord.Result(value).label)) for value in services.TEST_RESULTS]


def _tests_today(floors, day):
    """The persons of the checks page with a protocol test today, floor by floor (two queries)."""
    stays = [stay for floor in floors for room in floor["rooms"] for stay in room["stays"]]
    tests = services.todays_tests(stays, day)
    due = [stay for stay in stays if stay.pk in tests]
    for stay in due:
        stay.test = tests[stay.pk]
    return due


def _slot(value, now):
    return value if value in Reading.Slot.values else services.slot_at(now)


@login_required
def site_checks(request, pk):
    """Today's checks of a site, floor by floor: each checked-in person of each room with one
    quick input, one save per floor (a plain form: it works without scripts on a weak signal).
    A floor is saved whole or not at all, so an error never leaves the staff guessing which
    persons were recorded; the typed values come back with the error next to the input."""
    site = get_object_or_404(Site.objects.restrict(request.user, "view"), pk=pk)
    can_record = may(request.user, site, perm=services.RECORD_READING)
    now = timezone.now()
    day = timezone.localdate(now)
    slot = _slot(request.POST.get("slot") or request.GET.get("slot"), now)
    floors = services.checks(request.user, site, day, slot)
    typed, errors, saved_floor = {}, {}, None
    if request.method == "POST":
        if not can_record:
            raise PermissionDenied
        saved_floor = _save_floor(request, site, floors, day, slot, typed, errors)
        if saved_floor is not None:
            url = reverse("isolation:checks", args=[site.pk])
            return redirect(f"{url}?slot={slot}#floor-{saved_floor}")
    for floor in floors:
        for room in floor["rooms"]:
            for stay in room["stays"]:
                stay.typed = typed.get(stay.pk, ("", ""))
                stay.error = errors.get(stay.pk)
    slots = [(value, label, value == slot) for value, label in Reading.Slot.choices]
    tests_today = _tests_today(floors, day)
    return render(
        request,
        "isolation/checks.html",
        {
            "site": site,
            "floors": floors,
            "day": day,
            "slot": slot,
            "slot_label": Reading.Slot(slot).label,
            "slots": slots,
            "can_record": can_record,
            "tests_today": tests_today,
            "test_results": _test_buttons(),
            "due": sum(f["due"] for f in floors),
            "done": sum(f["done"] for f in floors),
        },
    )


def _save_floor(request, site, floors, day, slot, typed, errors):
    """Record the typed temperatures of one floor; the floor's number when saved, None with
    `errors` filled (stay id → message) and `typed` keeping what was typed."""
    try:
        number = int(request.POST.get("floor", ""))
    except ValueError:
        raise Http404 from None
    floor = next((f for f in floors if f["floor"] == number), None)
    if floor is None:
        raise Http404
    stays = [stay for room in floor["rooms"] for stay in room["stays"]]
    entries = []
    for stay in stays:
        value = (request.POST.get(f"t-{stay.pk}") or "").strip()
        symptoms = (request.POST.get(f"s-{stay.pk}") or "").strip()
        typed[stay.pk] = (value, symptoms)
        if not value:
            continue  # not measured yet (asleep, in the bathroom): due until someone types it
        try:
            entries.append((stay, services.parse_temperature(value), symptoms))
        except ValidationError as exc:
            errors[stay.pk] = " ".join(exc.messages)
    if errors:
        messages.error(request, _("Nothing was saved: correct the temperatures marked below."))
        return None
    if not entries:
        messages.warning(request, _("Type at least one temperature."))
        return None
    fevers = []
    try:
        with transaction.atomic():
            for stay, temperature, symptoms in entries:
                reading, _created = services.record_reading(
                    request.user, stay, temperature, symptoms=symptoms, day=day, slot=slot
                )
                if reading.is_fever:
                    fevers.append(f"{stay.person.name} {reading.temperature} °C")
    except ValidationError as exc:
        _error(request, exc)
        return None
    messages.success(
        request,
        ngettext(
            "Floor %(floor)s: %(n)s temperature saved.",
            "Floor %(floor)s: %(n)s temperatures saved.",
            len(entries),
        )
        % {"floor": number, "n": len(entries)},
    )
    if fevers:
        messages.warning(
            request,
            _("Fever (%(from)s °C or more): %(who)s. Tell the site's doctor.")
            % {"from": services.FEVER_FROM, "who": "、".join(fevers)},
        )
    return number


# Release notice, hand-over home, tests, fees (decision 0024, addendum: release)


def _may_print_notice(stay):
    return (
        stay.status == Stay.Status.CHECKED_OUT
        and stay.measure is not None
        and stay.measure.status in ("completed", "released_early")
    )


@login_required
def stay_notice(request, pk):
    """解除集中隔离医学观察通知书 (isolation/pdf.py), for whoever sees the stay; each print is an
    export row in the audit log, on the stay's own record."""
    from epigrid.isolation.pdf import release_notice

    stay = get_object_or_404(
        Stay.objects.restrict(request.user, "view").select_related(
            "person", "site", "room", "measure__key_person", "home_step__key_person__area"
        ),
        pk=pk,
    )
    if not _may_print_notice(stay):
        messages.warning(request, _("The release notice can be printed once the person has left."))
        return redirect(stay)
    body = release_notice(stay)
    log_print(stay, "release_notice")
    return pdf_response(body, f"isolation-release-{stay.pk}.pdf")


class ReceiveHomeView(TransitionView):
    """The community or grid confirms the person is home (one tap, /control/today/)."""

    model = Stay

    def get_queryset(self):
        return services.homecomings(self.request.user).select_related("person")

    def move(self, stay, data):
        services.receive_home(self.request.user, stay)
        return stay

    def get_success_message(self, stay):
        return _("%(name)s is received at home.") % {"name": stay.person.name}

    def get_redirect_url(self, stay):
        return safe_next(self.request, reverse("control:today"))


class RecordTestView(TransitionView):
    """Today's protocol test of one person, from the site page or the phone checks page."""

    model = Stay
    related = ("person", "site")
    object_permission = services.RECORD_READING
    refusals = (ValidationError,)

    def move(self, stay, data):
        self.record = services.record_test(self.request.user, stay, self.request.POST.get("result", ""))
        return stay

    def get_success_message(self, stay):
        return _("%(name)s: test %(result)s.") % {
            "name": stay.person.name,
            "result": self.record.get_result_display(),
        }

    def get_redirect_url(self, stay):
        if self.request.POST.get("back") == "checks":
            return reverse("isolation:checks", args=[stay.site_id]) + "#tests"
        return stay.site.get_absolute_url() + "#tests"


class SetPayerView(TransitionView):
    model = Stay
    related = ("person",)
    object_permission = services.CHANGE_PAYER
    refusals = (ValidationError,)

    def move(self, stay, data):
        post = self.request.POST
        return services.set_payer(self.request.user, stay, post.get("payer", ""), post.get("employer", ""))

    def get_success_message(self, stay):
        return _("Payer: %(payer)s.") % {"payer": stay.get_payer_display()}


# Medical-waste handovers 医疗废物交接


@login_required
def site_waste(request, pk):
    """A site's medical-waste handovers, newest first, with the form to add one (phone first)."""
    site = get_object_or_404(Site.objects.restrict(request.user, "view"), pk=pk)
    can_record = may(request.user, site, perm=services.RECORD_WASTE)
    form = WasteHandoverForm(request.POST or None)
    if request.method == "POST":
        if not can_record:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.record_waste(request.user, site, **data)
            except ValidationError as exc:
                _error(request, exc)
            else:
                messages.success(
                    request,
                    _("Handover recorded: %(bags)s bags, %(kg)s kg. The collector signs below.")
                    % {"bags": data["bags"], "kg": data["weight_kg"]},
                )
                return redirect(reverse("isolation:site_waste", args=[site.pk]))
    handovers = list(
        WasteHandover.objects.restrict(request.user, "view")
        .filter(site=site)
        .select_related("handed_over_by")[:50]
    )
    return render(
        request,
        "isolation/waste.html",
        {
            "site": site,
            "form": form if can_record else None,
            "handovers": handovers,
            "can_sign": may(request.user, site, perm=services.SIGN_WASTE),
        },
    )


class WasteSignView(TransitionView):
    model = WasteHandover
    related = ("site",)
    object_permission = services.SIGN_WASTE

    def move(self, handover, data):
        return services.collector_signs(self.request.user, handover)

    def get_success_message(self, handover):
        return _("Signed by the collector %(name)s.") % {"name": handover.collector_name}

    def get_redirect_url(self, handover):
        return reverse("isolation:site_waste", args=[handover.site_id])
