"""Supervision pages (/supervision/): the items list with its filters and export, "my items" for the
responsible person on a phone, an item's page with photos, history and the moves its reader may
make, the raise and assign forms, per-area and per-person on-time figures.

Every write goes through supervision.services; a refusal comes back as a message on the page.
Reads go through `restrict`: out of scope → 404, in scope without the right → 403."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from epigrid.areas.models import Area
from epigrid.audit.services import history
from epigrid.core.scoping import may_at
from epigrid.core.views import (
    ObjectDetailView,
    ObjectListView,
    TransitionView,
    get_scoped_or_404,
    refusal_text,
)
from epigrid.supervision import services
from epigrid.supervision.filtersets import ItemFilterSet
from epigrid.supervision.forms import AssignForm, NoteForm, PhotoForm, RaiseForm, ReasonForm, SubmitForm
from epigrid.supervision.models import Item, ItemPhoto
from epigrid.supervision.tables import ItemTable, deadline_badge, person_name, status_badge

EXPORT = "supervision-items"
S = Item.Status


class ItemListView(ObjectListView):
    model = Item
    table_class = ItemTable
    filterset_class = ItemFilterSet
    add_url_name = "supervision:item_add"
    export_name = EXPORT
    template_name = "supervision/item_list.html"

    def get_queryset(self):
        return super().get_queryset().select_related("area__parent", "responsible", "escalated_to")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        visible = Item.objects.restrict(user)
        ctx["overdue_count"] = visible.filter(services.overdue_q()).count()
        ctx["escalated_count"] = services.escalated_to_user(user).count()
        ctx["mine_count"] = visible.filter(responsible=user, status__in=Item.OPEN).count()
        ctx["can_add"] = user.has_scoped_perm(services.RAISE)
        return ctx


def _annotate(items, now):
    for item in items:
        item.badge = status_badge(item)
        item.deadline = deadline_badge(item, now)
    return items


@login_required
def mine(request):
    """The responsible person's open items, nearest deadline first: cards with big buttons."""
    if not request.user.has_scoped_perm(services.VIEW):
        raise PermissionDenied
    now = timezone.now()
    items = list(
        Item.objects.restrict(request.user)
        .filter(responsible=request.user, status__in=Item.OPEN)
        .select_related("area__parent", "escalated_to")
        .order_by("due_at", "pk")
    )
    done = (
        Item.objects.restrict(request.user)
        .filter(responsible=request.user, status=S.SIGNED_OFF)
        .order_by("-signed_off_at")[:10]
    )
    return render(
        request,
        "supervision/mine.html",
        {"items": _annotate(items, now), "done": _annotate(list(done), now), "submit_form": SubmitForm()},
    )


class ItemDetailView(ObjectDetailView):
    model = Item
    template_name = "supervision/item_detail.html"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related(
                "area__parent",
                "raised_in",
                "responsible",
                "raised_by",
                "signed_off_by",
                "escalated_to",
                "source_type",
            )
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        item, user = self.object, self.request.user
        _annotate([item], timezone.now())
        is_responsible = item.responsible_id == user.pk and services.may_be_responsible(user, item.area)
        may_decide = (
            item.status == S.SUBMITTED
            and user.pk != item.responsible_id
            and services.may_sign_off(user, item)
        )
        labels = dict(S.choices)
        ctx.update(
            {
                "item": item,
                "photos": list(item.photos.order_by("created_at", "pk")),
                "history_rows": [
                    {
                        "time": h.time,
                        "user": h.user_name,
                        "source": labels.get(h.source, h.source),
                        "target": labels.get(h.target, h.target),
                        "note": h.note,
                        "moved": h.source != h.target,
                    }
                    for h in history(item).order_by("time", "pk")
                ],
                "may_start": is_responsible and item.status == S.ASSIGNED,
                "may_submit": is_responsible and item.status == S.RECTIFYING,
                "may_decide": may_decide,
                "may_cancel": item.is_open and services.may_cancel(user, item),
                "may_assign": item.status in (S.NEW, S.ASSIGNED, S.RECTIFYING)
                and (may_at(user, services.RAISE, item.area) or services.may_sign_off(user, item)),
                "may_add_problem_photo": item.is_open and may_at(user, services.RAISE, item.area),
                "submit_form": SubmitForm(),
                "note_form": NoteForm(),
                "reason_form": ReasonForm(),
                "responsible_name": person_name(item.responsible),
            }
        )
        return ctx


class RaiseView(LoginRequiredMixin, View):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.has_scoped_perm(services.RAISE):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        return self._render(RaiseForm(user=request.user))

    def post(self, request):
        form = RaiseForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                item = services.raise_item(
                    user=request.user,
                    area=data["area"],
                    title=data["title"],
                    category=data["category"],
                    found_by=data["found_by"],
                    description=data["description"],
                    responsible=data["responsible"],
                    deadline=data["due_at"],
                    photos=data["photos"],
                )
            except (ValidationError, PermissionDenied) as exc:
                form.add_error(None, refusal_text(exc))
            else:
                messages.success(request, _("Raised %(item)s.") % {"item": item})
                return redirect(item.get_absolute_url())
        return self._render(form)

    def _render(self, form):
        return render(
            self.request, "supervision/item_form.html", {"form": form, "title": _("Raise a supervision item")}
        )


class AssignView(LoginRequiredMixin, View):
    """Assign (or hand to someone else) and set the deadline: the item's edit page."""

    def _item(self, request, pk):
        item = get_scoped_or_404(Item, request.user, pk)
        if not (may_at(request.user, services.RAISE, item.area) or services.may_sign_off(request.user, item)):
            raise PermissionDenied
        return item

    def get(self, request, pk):
        item = self._item(request, pk)
        initial = {"responsible": item.responsible_id, "due_at": timezone.localtime(item.due_at)}
        return self._render(item, AssignForm(initial=initial, user=request.user))

    def post(self, request, pk):
        item = self._item(request, pk)
        form = AssignForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                item = services.assign(
                    request.user, item, form.cleaned_data["responsible"], due_at=form.cleaned_data["due_at"]
                )
            except (ValidationError, PermissionDenied) as exc:
                form.add_error(None, refusal_text(exc))
            else:
                messages.success(request, _("Saved %(object)s.") % {"object": item})
                return redirect(item.get_absolute_url())
        return self._render(item, form)

    def _render(self, item, form):
        return render(
            self.request, "supervision/item_form.html", {"form": form, "item": item, "title": _("Assign")}
        )


class ItemMove(TransitionView):
    """A move of an item from its page or "my items" (next=mine)."""

    model = Item
    label_errors = True
    context_object_name = "item"
    next_urls = {"mine": "supervision:mine"}


class StartView(ItemMove):
    permission = services.WORK
    form_class = NoteForm
    success_message = gettext_lazy("%(item)s: rectifying.")

    def move(self, item, data):
        return services.start(self.request.user, item)


class SubmitView(ItemMove):
    permission = services.WORK
    form_class = SubmitForm
    success_message = gettext_lazy("%(item)s: submitted for sign-off.")

    def move(self, item, data):
        return services.submit(self.request.user, item, data["note"], data["photos"])


class SignOffView(ItemMove):
    permission = services.SIGN_OFF
    form_class = NoteForm
    success_message = gettext_lazy("%(item)s: signed off.")

    def move(self, item, data):
        return services.sign_off(self.request.user, item, data["note"])


class SendBackView(ItemMove):
    permission = services.SIGN_OFF
    form_class = ReasonForm
    success_message = gettext_lazy("%(item)s: sent back.")

    def move(self, item, data):
        return services.send_back(self.request.user, item, data["reason"])


class CancelView(ItemMove):
    permission = services.VIEW  # who raised it or may sign it off: the service decides
    form_class = ReasonForm
    success_message = gettext_lazy("%(item)s: cancelled.")

    def move(self, item, data):
        return services.cancel(self.request.user, item, data["reason"])


class AddPhotosView(ItemMove):
    form_class = PhotoForm
    success_message = gettext_lazy("%(item)s: photos added.")

    def post(self, request, *args, **kwargs):
        if request.POST.get("kind") not in ItemPhoto.Kind.values:
            raise Http404
        return super().post(request, *args, **kwargs)

    def move(self, item, data):
        services.add_photos(self.request.user, item, data["photos"], self.request.POST["kind"])
        return item


class PhotoView(LoginRequiredMixin, View):
    """A photo, to whoever may see its item: never a public media URL."""

    def get(self, request, pk):
        # A photo is read with its item's right: whoever sees the item sees its photos.
        photo = get_object_or_404(ItemPhoto.objects.restrict(request.user, perm=services.VIEW), pk=pk)
        if not photo.image:
            raise Http404
        content_type = "image/png" if photo.image.name.endswith(".png") else "image/jpeg"
        try:
            response = FileResponse(photo.image.open("rb"), content_type=content_type)
        except FileNotFoundError:
            raise Http404 from None
        response["Cache-Control"] = "private, no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response


@login_required
def stats(request):
    """On-time figures per child area of the chosen area, and per responsible person."""
    user = request.user
    if not user.has_scoped_perm(services.VIEW):
        raise PermissionDenied
    filterset = ItemFilterSet(request.GET, queryset=Item.objects.restrict(user), request=request)
    queryset = filterset.qs if filterset.is_valid() else Item.objects.none()
    root = filterset.form.cleaned_data.get("area") if filterset.is_valid() else None
    if root is None:
        root = _top_area(user)
    now = timezone.now()
    by_area = services.stats_by_area(queryset, root, now) if root else []
    by_person = services.stats_by_person(queryset, now)
    for row in by_area:
        row["query"] = f"area={row['area'].code}"
    return render(
        request,
        "supervision/stats.html",
        {
            "root": root,
            "by_area": by_area,
            "area_total": services.totals(by_area),
            "by_person": by_person,
            "person_name": person_name,
            "filter": filterset,
        },
    )


def _top_area(user):
    """The highest area the user sees items in (the district for its commander)."""
    paths = user.scope_paths(services.VIEW)
    areas = Area.objects.filter(parent__isnull=True) if paths is None else Area.objects.filter(path__in=paths)
    return areas.order_by("level", "path").first()
