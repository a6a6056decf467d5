"""The API's grouped router answers every URL as DRF's DefaultRouter would (core.routers)."""

import pytest
from django.urls import Resolver404, URLResolver, resolve, reverse
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils.regex_helper import normalize
from rest_framework.routers import DefaultRouter

from epigrid.api import router

SAMPLES = {"pk": "7", "format": "json", "ledger": "residents", "name": "persons", "barcode": "6201000001"}


def _urls(patterns, prefix=""):
    """(url, expected name) for each route of a flat list of patterns."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _urls(pattern.url_patterns, prefix + pattern.pattern.regex.pattern.lstrip("^"))
            continue
        if isinstance(pattern.pattern, RoutePattern):  # the API root's: below
            continue
        for template, params in normalize(prefix + pattern.pattern.regex.pattern.lstrip("^")):
            yield template % {p: SAMPLES.get(p, "7") for p in params}, pattern.name


def _default_router():
    plain = DefaultRouter()
    for prefix, viewset, basename in router.registry:
        plain.register(prefix, viewset, basename=basename)
    return URLResolver(RegexPattern(r"^/api/v1/"), plain.urls)


def test_every_route_of_the_default_router_resolves_the_same():
    plain = _default_router()
    seen = 0
    for url, _name in _urls(_default_router().url_patterns):
        expected = plain.resolve("/api/v1/" + url)
        found = resolve("/api/v1/" + url)
        assert (found.url_name, found.kwargs, found.func.cls) == (
            expected.url_name,
            expected.kwargs,
            expected.func.cls,
        ), url
        seen += 1
    assert seen > 500  # every resource's list, detail, actions and their format suffixes


@pytest.mark.parametrize(
    ("url", "name", "kwargs"),
    [
        ("/api/v1/passages/batch/", "passage-batch", {}),
        ("/api/v1/passages.json", "passage-list", {"format": "json"}),
        ("/api/v1/passes/12/", "householdpass-detail", {"pk": "12"}),
        ("/api/v1/pass-uses/scan/", "passuse-scan", {}),
        ("/api/v1/imports/residents/", "import-list", {"ledger": "residents"}),
        ("/api/v1/", "api-root", {}),
    ],
)
def test_names_and_urls_go_both_ways(url, name, kwargs):
    match = resolve(url)
    assert (match.url_name, match.kwargs) == (name, kwargs)
    assert reverse(name, kwargs=kwargs) == url


@pytest.mark.parametrize("url", ["/api/v1/passes-x/", "/api/v1/passagesx/batch/", "/api/v1/p/"])
def test_a_prefix_is_a_whole_word(url):
    with pytest.raises(Resolver404):
        resolve(url)
