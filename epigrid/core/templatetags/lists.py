"""Template filters of the shared list page (core/object_list.html)."""

from django import template

register = template.Library()


@register.filter
def folded_filters_in_use(form):
    """How many filters after the first (the search, which a phone keeps in view) the bound filter
    form has a value for; an unticked box or an empty choice is not one. The list page opens its
    folded filters when this is not zero."""
    return sum(1 for field in form.visible_fields()[1:] if field.data not in (None, "", [], False))
