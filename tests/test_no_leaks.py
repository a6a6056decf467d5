"""Issue 7: a role without the reveal right never receives a full document number or phone.

The demo district is built, then every page and API endpoint each such demo role can open is
fetched (lists, detail and edit pages of a sample of every scoped model, every API list and a
detail of each) and every body is scanned for every full number and phone of the demo."""

import io
import re

import pytest
from django.apps import apps
from django.core.management import call_command
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from pypdf import PdfReader
from rest_framework.test import APIClient

from epigrid.accounts.roles import ROLES
from epigrid.api import router
from epigrid.people.models import Person
from tests.test_control_pdf import text_of

SAMPLES = 3  # objects of each scoped model a role sees, opened one by one
# Pages that hang off an object without being its own page or its edit page.
OBJECT_PAGES = {
    "testing.campaign": ("testing:coverage", "testing:missed"),
    # PDFs: scanned as their text (the bytes hold compressed streams of glyph codes).
    "enterprises.enterprise": ("enterprises:enterprise_permit",),
    "disinfection.terminal": ("disinfection:terminal_notice_before", "disinfection:terminal_notice_after"),
}
SKIP_PREFIXES = ("/admin/", "/api/docs", "/api/schema", "/static/", "/i18n/", "/accounts/logout")


def _no_arg_paths(resolver=None, prefix=""):
    """Every URL of the site that takes no argument (list pages, forms, the API root)."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        pattern = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if not entry.pattern.regex.groups:
                yield from _no_arg_paths(entry, pattern)
        elif isinstance(entry, URLPattern) and not entry.pattern.regex.groups and "<" not in pattern:
            path = "/" + pattern.lstrip("^").rstrip("$").replace("\\", "")
            if not path.startswith(SKIP_PREFIXES) and re.fullmatch(r"[\w/.-]*", path):
                yield path


def _object_paths(user):
    for model in apps.get_models():
        if not hasattr(model, "scope_lookup") or not hasattr(model, "get_absolute_url"):
            continue
        for obj in model.objects.restrict(user, "view").order_by("pk")[:SAMPLES]:
            yield obj.get_absolute_url()
            meta = obj._meta
            for name in OBJECT_PAGES.get(meta.label_lower, ()):
                yield reverse(name, args=[obj.pk])
            try:
                edit = reverse(f"{meta.app_label}:{meta.model_name}_edit", args=[obj.pk])
            except NoReverseMatch:  # no edit page
                continue
            yield edit


def _api_paths(user):
    for prefix, viewset, _basename in router.registry:
        if "(?P" in prefix:
            continue
        yield f"/api/v1/{prefix}/"
        model = viewset.queryset.model if getattr(viewset, "queryset", None) is not None else None
        if model is not None and hasattr(model, "scope_lookup"):
            for pk in (
                model.objects.restrict(user, "view").order_by("pk").values_list("pk", flat=True)[:SAMPLES]
            ):
                yield f"/api/v1/{prefix}/{pk}/"


def _routed_api_paths(user):
    """Endpoints routed beside the router that hang off another resource: a tube's persons, a
    person's latest result (lab results)."""
    from epigrid.results.models import TubeResult

    barcodes = TubeResult.objects.order_by("-result", "pk").values_list("tube__barcode", flat=True)
    for barcode in barcodes[:SAMPLES]:
        yield f"/api/v1/tubes/{barcode}/persons/"
    for pk in Person.objects.restrict(user, "view").order_by("pk").values_list("pk", flat=True)[:SAMPLES]:
        yield f"/api/v1/persons/{pk}/latest-result/"


def _secrets():
    numbers, phones = set(), set()
    for number, phone in Person.objects.values_list("doc_number", "phone"):
        if len(number) >= 6:
            numbers.add(number)
        if phone:
            phones.add(phone)
            phones.add(phone.removeprefix("+86"))
    return numbers, phones


def _body(response):
    """What a reader sees of an answer: a PDF's text as a viewer extracts it (whitespace dropped,
    so a number spaced out on the page is still found), else the body as text."""
    if response.get("Content-Type", "").startswith("application/pdf"):
        return text_of(PdfReader(io.BytesIO(response.content)))
    return response.content.decode(errors="replace")


def _leaks(body, numbers, phones):
    found = [n for n in numbers if n in body]
    found += [p for p in phones if p in body]
    return found


@pytest.mark.django_db(transaction=False)
def test_no_page_or_endpoint_gives_a_role_without_reveal_a_full_number_or_phone():
    call_command("demo", residents=300, seed=7, stdout=io.StringIO())
    numbers, phones = _secrets()
    assert numbers and phones, "the demo made no personal data: the scan would prove nothing"
    roles = [r for r, (_label, perms) in ROLES.items() if "people.reveal_person" not in perms]
    User = apps.get_model("accounts", "User")
    users = list(User.objects.filter(grants__role__in=roles).distinct())
    assert {g for u in users for g in u.roles} >= set(roles) - {"system_admin"}
    leaks, fetched, pdfs = [], 0, 0
    for user in users:
        page_client, api_client = Client(), APIClient()
        page_client.force_login(user)
        api_client.force_authenticate(user)
        paths = set(_no_arg_paths()) | set(_object_paths(user))
        for path in sorted(paths):
            response = page_client.get(path)
            fetched += 1
            if response.status_code == 200 and not getattr(response, "streaming", False):
                leaks += [(user.username, path, x) for x in _leaks(_body(response), numbers, phones)]
                pdfs += response.get("Content-Type", "").startswith("application/pdf")
        for path in sorted(set(_api_paths(user)) | set(_routed_api_paths(user))):
            response = api_client.get(path, {"page_size": 500})
            fetched += 1
            if response.status_code == 200:
                leaks += [
                    (user.username, path, x)
                    for x in _leaks(response.content.decode(errors="replace"), numbers, phones)
                ]
    assert fetched > 50
    assert pdfs, "no PDF was scanned: the permit and the notices went unchecked"
    assert not leaks, leaks[:20]
