"""Panels an operation app adds to a foundation app's detail page (decision 0016).

The person and household pages must show control information (the open key-person entry, the
zone), but `people` and `areas` never import an operation app. So an operation app registers a
panel in its AppConfig.ready: a template and a function building its context. The foundation
view asks `for_object(request, obj)` and its template includes whatever came back; with no
operation app installed, the page simply has no panels.
"""

from collections import defaultdict

_registry = defaultdict(list)


def register(model_label, template_name, build):
    """On the detail page of `model_label` ("people.person"), include `template_name` with
    `panel` = build(request, obj): a dict, or None to show nothing (no right, nothing to say)."""
    if (template_name, build) not in _registry[model_label]:
        _registry[model_label].append((template_name, build))


def for_object(request, obj):
    """[{"template_name": ..., **context}] of the panels registered for obj's model."""
    return _build(obj._meta.label_lower, request, obj)


def _build(key, *args, **kwargs):
    panels = []
    for template_name, build in _registry[key]:
        context = build(*args, **kwargs)
        if context is not None:
            panels.append({"template_name": template_name, **context})
    return panels


# Sections an operation app adds to another app's page: today's work (/control/today/) heads with
# the urgent tasks of other modules (an antigen positive to test, a pooled-positive tube's persons
# to hold and retest), without control importing them. The same registry, keyed by page.
TODAY = "page:control.today"


def register_page(page, template_name, build):
    """On page `page` (e.g. TODAY), include `template_name` with `panel` = build(request, **context):
    a dict, or None to show nothing."""
    register(page, template_name, build)


def for_page(request, page, **context):
    """[{"template_name": ..., **panel}] of the sections registered for `page`."""
    return _build(page, request, **context)
