"""Daily-report pages (/reports/): the community secretary's page of today's reports (phone first:
one card a report, one tap to send), a report's page (live figures beside the inputs, the zero
report path, errors beside the inputs with the typed values kept), the roll-up street → district →
city with who has not reported, late reports and the sums, a unit's history, and the
administrator's report forms.

Writes go through reports.services. Reads go through `restrict`: a unit outside the user's scope
is 404, in scope without the right 403."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from epigrid.areas.models import Area
from epigrid.core.scoping import within
from epigrid.reports import live, schema, services
from epigrid.reports.forms import ReportFormForm
from epigrid.reports.models import ReportForm, Submission

VIEW = "reports.view_submission"
EDIT_FORMS = "reports.change_reportform"
HISTORY_DAYS = 14
LIST_SHOWN = 100


def _require(user, perm):
    if not user.has_scoped_perm(perm):
        raise PermissionDenied


def _in_scope(user, area, perm=VIEW):
    return within(area.path, user.scope_paths(perm))


@login_required
def home(request):
    if request.user.has_scoped_perm(services.SUBMIT):
        return redirect("reports:today")
    return redirect("reports:rollup")


# -- the community's page ---------------------------------------------------------------------


@login_required
def today(request):
    """Today's reports of the user's units, each with its deadline and state."""
    user = request.user
    _require(user, services.SUBMIT)
    day, now = timezone.localdate(), timezone.now()
    cards = []
    for form in ReportForm.objects.filter(active=True).order_by("kind", "code"):
        if form.sender_kind:
            cards.extend(_sender_cards(user, form, day, now))
            continue
        units = list(services.submitting_units(user, form)[:50])
        sent = {s.unit_id: s for s in Submission.objects.filter(form=form, day=day, unit__in=units)}
        for unit in units:
            row = sent.get(unit.pk)
            cards.append(
                {
                    "form": form,
                    "unit": unit,
                    "row": row,
                    "status": services.status_of(row, form, day, now),
                    "deadline": form.deadline(day),
                    "url": reverse("reports:fill", args=[form.code, unit.code, day.isoformat()]),
                    "history_url": reverse("reports:history", args=[form.code, unit.code]),
                }
            )
    return render(request, "reports/today.html", {"cards": cards, "day": day})


def _sender_cards(user, form, day, now):
    """Today's cards of a form sent by records: one per record the user may send it for."""
    found = list(services.submitting_senders(user, form, day)[:50])
    sent = {
        s.sender_id: s for s in Submission.objects.filter(form=form, day=day, sender_id__in=[r.pk for r in found])
    }
    return [
        {
            "form": form,
            "unit": r,
            "row": sent.get(r.pk),
            "status": services.status_of(sent.get(r.pk), form, day, now),
            "deadline": form.deadline(day),
            "url": reverse("reports:fill_sender", args=[form.code, r.pk, day.isoformat()]),
            "history_url": reverse("reports:history_sender", args=[form.code, r.pk]),
        }
        for r in found
    ]


def _field_rows(form, values, figures, explanations, errors, zero):
    rows = []
    for field in form.fields:
        key = field["key"]
        figure = figures.get(key)
        rows.append(
            {
                "field": field,
                "key": key,
                "label": schema.label(field),
                "value": values.get(key),
                "live": figure,
                "live_text": services._live_text(field, figure) if figure is not None else "",
                "explanation": explanations.get(key, ""),
                "error": errors.get(key, ""),
                "fixed": zero and field.get("event"),
                "differs": figure is not None and not schema.same(field, values.get(key), figure),
            }
        )
    return rows


def _prefill(form, row, figures):
    """A sent report shows what was sent; a new one starts from the live figures."""
    if row is not None:
        return dict(row.values), dict(row.explanations)
    values = {}
    for field in form.fields:
        key = field["key"]
        if key in figures:
            values[key] = (figures[key] == 0) if field["type"] == "bool" else figures[key]
    return values, {}


@login_required
def fill(request, code, unit_code, day):
    """A unit's report for a day: GET shows it (pre-filled), POST sends it."""
    user = request.user
    form = get_object_or_404(ReportForm, code=code, sender_kind="")
    unit = get_object_or_404(Area, code=unit_code, level=form.unit_level)
    day = parse_date(day)
    if day is None or not _in_scope(user, unit):
        raise Http404
    may_send = form.active and services.may_send_area(user, unit)
    row = Submission.objects.filter(form=form, unit=unit, day=day, sender_id__isnull=True).first()
    return _fill(request, form, unit, day, may_send, row, None)


def _sender_of(user, form, sender_id):
    """The record behind a sender form's page, if the user may see it and either follows the
    reports of its area or sends its reports (an enterprise's contact), else 404."""
    kind = form.senders
    sender = kind.visible(user).select_related(kind.area_field).filter(pk=sender_id).first()
    if sender is None:
        raise Http404
    if not (_in_scope(user, kind.area_of(sender)) or services.may_send_for(user, form, sender)):
        raise Http404
    return sender


@login_required
def fill_sender(request, code, sender_id, day):
    """A record's report for a day (an enterprise's, an outlet's): the same page as a unit's."""
    user = request.user
    form = get_object_or_404(ReportForm, code=code, sender_kind__gt="")
    sender = _sender_of(user, form, sender_id)
    day = parse_date(day)
    if day is None:
        raise Http404
    may_send = form.active and services.may_send_for(user, form, sender)
    row = Submission.objects.filter(form=form, sender_id=sender.pk, day=day).first()
    return _fill(request, form, form.senders.area_of(sender), day, may_send, row, sender)


def _fill(request, form, unit, day, may_send, row, sender):
    user = request.user
    zero = form.kind == ReportForm.Kind.ZERO or (
        form.allows_zero and (request.GET.get("zero") == "1" or request.POST.get("zero") == "1")
    )
    errors = {}
    if request.method == "POST":
        if not may_send:
            raise PermissionDenied
        values = {f["key"]: request.POST.get(f["key"]) for f in form.fields}
        explanations = {f["key"]: request.POST.get(f"explain_{f['key']}", "") for f in form.fields}
        try:
            services.submit(
                user,
                form,
                unit,
                day,
                values,
                explanations,
                zero=zero,
                note=request.POST.get("note", ""),
                sender=sender,
            )
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
            errors = {k: " ".join(v) if isinstance(v, list) else v for k, v in errors.items()}
            figures = services.live_figures(form, unit, day, sender)
        else:
            messages.success(
                request, _("Report sent: %(form)s, %(unit)s.") % {"form": form.name, "unit": sender or unit.name}
            )
            return redirect(request.POST.get("next") or reverse("reports:today"))
    else:
        figures = services.live_figures(form, unit, day, sender) if may_send else (row.live if row else {})
        values, explanations = _prefill(form, row, figures)
    if zero and request.method != "POST":
        values.update({f["key"]: 0 for f in form.fields if f.get("event")})
    context = {
        "form": form,
        "unit": unit,
        "sender": sender,
        "day": day,
        "row": row,
        "zero": zero,
        "may_send": may_send,
        "deadline": form.deadline(day),
        "status": services.status_of(row, form, day),
        "rows": _field_rows(form, values, figures, explanations, errors, zero),
        "general_errors": errors.get("__all__", ""),
        "note": request.POST.get("note", row.note if row else ""),
        "history_url": (
            reverse("reports:history_sender", args=[form.code, sender.pk])
            if sender
            else reverse("reports:history", args=[form.code, unit.code])
        ),
    }
    return render(request, "reports/fill.html", context, status=400 if errors else 200)


# -- roll-up ----------------------------------------------------------------------------------


def _top_area(user):
    paths = user.scope_paths(VIEW)
    if paths is None:
        return Area.objects.filter(parent__isnull=True).order_by("path").first()
    return Area.objects.filter(path__in=paths).order_by("level", "path").first()


def _rollup_params(request):
    user = request.user
    _require(user, VIEW)
    forms = list(ReportForm.objects.filter(active=True).order_by("kind", "code"))
    form = next((f for f in forms if f.code == request.GET.get("form")), forms[0] if forms else None)
    if form is None:
        raise Http404
    day = parse_date(request.GET.get("day", "")) or timezone.localdate()
    code = request.GET.get("area")
    area = get_object_or_404(Area, code=code) if code else _top_area(user)
    if area is None or not _in_scope(user, area):
        raise Http404
    return forms, form, day, area


@login_required
def rollup_page(request):
    forms, form, day, area = _rollup_params(request)
    rows = services.rollup(form, day, area)
    numeric = [f for f in form.fields if f["type"] in schema.NUMERIC]
    labels = [schema.label(f) for f in numeric]
    for row in rows:
        row["sum_cells"] = list(zip(labels, [row["sums"][f["key"]] for f in numeric], strict=True))
        row["drill"] = row["area"] != area and (bool(form.sender_kind) or row["area"].level < form.unit_level)
    total = services.totals(rows, form)
    late = (
        Submission.objects.restrict(request.user)
        .filter(form=form, day=day, late=True, unit__path__startswith=area.path)
        .select_related("unit__parent")
        .order_by("first_submitted_at")[:LIST_SHOWN]
    )
    late = list(late)
    missing = services.missing_units(form, day, area, limit=LIST_SHOWN, viewer=request.user)
    crumbs = list(Area.objects.filter(path__in=_ancestors(area.path)).order_by("level"))
    crumbs = [a for a in crumbs if _in_scope(request.user, a)]
    query = f"form={form.code}&day={day.isoformat()}&area={area.code}"
    return render(
        request,
        "reports/rollup.html",
        {
            "forms": forms,
            "form": form,
            "day": day,
            "area": area,
            "crumbs": crumbs,
            "rows": rows,
            "total": total,
            "total_sums": list(zip(labels, [total["sums"][f["key"]] for f in numeric], strict=True)),
            "numeric": labels,
            # A city's lists are long: the first ones here, every unit in the export.
            "missing": _unit_links(form, day, [m["area"] for m in missing], "history", missing),
            "missing_count": total["missing"],
            "late": _unit_links(form, day, [s.unit for s in late], "fill", late),
            "late_count": total["late"],
            "deadline": form.deadline(day),
            "export_query": query,
            "prev_day": day - datetime.timedelta(days=1),
            "next_day": day + datetime.timedelta(days=1),
        },
    )


def _unit_links(form, day, units, page, rows):
    """Label and link of each unit of a list (formatted here, not by {% url %} per row)."""
    if form.sender_kind:
        return _sender_links(form, day, units, page, rows)
    if page == "history":
        base = reverse("reports:history", args=[form.code, "UNIT"])
    else:
        base = reverse("reports:fill", args=[form.code, "UNIT", day.isoformat()])
    out = []
    for unit, row in zip(units, rows, strict=False):
        label = f"{unit.parent.name} · {unit.name}" if unit.parent_id else unit.name
        out.append({"label": label, "url": base.replace("UNIT", unit.code), "row": row})
    return out


def _sender_links(form, day, units, page, rows):
    """The same for a form sent by records: "area · record", to its history or its report."""
    ids = [r["sender"].pk if page == "history" else r.sender_id for r in rows]
    found = form.senders.model.objects.in_bulk(ids)
    out = []
    for unit, row, pk in zip(units, rows, ids, strict=False):
        url = (
            reverse("reports:history_sender", args=[form.code, pk])
            if page == "history"
            else reverse("reports:fill_sender", args=[form.code, pk, day.isoformat()])
        )
        out.append({"label": f"{unit.name} · {found.get(pk, pk)}", "url": url, "row": row})
    return out


def _ancestors(path):
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[:n]) + "/" for n in range(1, len(parts) + 1)]


@login_required
def history_page(request, code, unit_code):
    user = request.user
    _require(user, VIEW)
    form = get_object_or_404(ReportForm, code=code, sender_kind="")
    unit = get_object_or_404(Area, code=unit_code)
    if not _in_scope(user, unit):
        raise Http404
    return _history(request, form, unit, None)


@login_required
def history_sender(request, code, sender_id):
    form = get_object_or_404(ReportForm, code=code, sender_kind__gt="")
    sender = _sender_of(request.user, form, sender_id)
    return _history(request, form, form.senders.area_of(sender), sender)


def _history(request, form, unit, sender):
    try:
        days = min(max(int(request.GET.get("days", HISTORY_DAYS)), 1), 90)
    except ValueError:
        days = HISTORY_DAYS
    fields = [f for f in form.fields if f["type"] != "text"]
    entries = []
    for day, row, _deadline in services.history(form, unit, days, sender=sender):
        entries.append(
            {
                "day": day,
                "row": row,
                "status": services.status_of(row, form, day),
                "values": [row.values.get(f["key"]) if row else None for f in fields],
                "url": (
                    reverse("reports:fill_sender", args=[form.code, sender.pk, day.isoformat()])
                    if sender
                    else reverse("reports:fill", args=[form.code, unit.code, day.isoformat()])
                ),
            }
        )
    return render(
        request,
        "reports/history.html",
        {
            "form": form,
            "unit": unit,
            "sender": sender,
            "entries": entries,
            "labels": [schema.label(f) for f in fields],
            "days": days,
        },
    )


# -- report forms (system administrators) -----------------------------------------------------


@login_required
def reportform_list(request):
    _require(request.user, "reports.view_reportform")
    return render(
        request,
        "reports/reportform_list.html",
        {
            "forms": ReportForm.objects.all(),
            "may_edit": request.user.has_scoped_perm(EDIT_FORMS),
            "live_names": [(name, label) for name, (label, _fn) in sorted(live.REGISTRY.items())],
        },
    )


@login_required
def reportform_edit(request, pk=None):
    _require(request.user, EDIT_FORMS if pk else "reports.add_reportform")
    instance = get_object_or_404(ReportForm, pk=pk) if pk else ReportForm()
    form = ReportFormForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        saved.fields = form.cleaned_data["fields_json"]
        services.save_form(saved)
        messages.success(request, _("Report form saved: %(name)s.") % {"name": saved.name})
        return redirect("reports:reportform_list")
    return render(
        request,
        "reports/reportform_edit.html",
        {
            "form": form,
            "object": instance if pk else None,
            "live_names": [(name, label) for name, (label, _fn) in sorted(live.REGISTRY.items())],
        },
        status=400 if request.method == "POST" else 200,
    )
