"""The generic detail page's rows: each concrete field's label and shown value (no personal field
of these ledgers is personal data: phones live on outlets and persons, masked on their own pages)."""

from django import template

register = template.Library()


@register.filter
def field_rows(obj):
    rows = []
    for field in obj._meta.concrete_fields:
        if field.primary_key or field.name in getattr(obj, "personal_fields", ()):
            continue
        if field.choices:
            value = getattr(obj, f"get_{field.name}_display")()
        elif field.is_relation:
            related = getattr(obj, field.name)
            value = related.full_label() if hasattr(related, "full_label") else related
        else:
            value = getattr(obj, field.name)
        if isinstance(value, bool):
            value = "是" if value else "否"
        rows.append((field.verbose_name, value))
    return rows
