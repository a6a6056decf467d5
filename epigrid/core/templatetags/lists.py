"""Template tags and filters of the shared list page (core/object_list.html) and of the one table
template every list renders with (django_tables2/bootstrap5-responsive.html)."""

from django import template
from django.template.base import Variable, render_value_in_context
from django.template.defaultfilters import striptags
from django.templatetags.l10n import localize, unlocalize
from django.utils.safestring import SafeData, mark_safe

register = template.Library()

# Where the per-table plan of the cells is kept (one table object per page).
PLAN_ATTR = "_epigrid_cell_plan"
# A callable cell is resolved as a template variable would be ({{ cell }} calls it).
_CELL = Variable("epigrid_table_cell")


@register.filter
def folded_filters_in_use(form):
    """How many filters after the first (the search, which a phone keeps in view) the bound filter
    form has a value for; an unticked box or an empty choice is not one. The list page opens its
    folded filters when this is not zero."""
    return sum(1 for field in form.visible_fields()[1:] if field.data not in (None, "", [], False))


@register.simple_tag(takes_context=True)
def table_cells(context, row):
    """The row's <td> cells, as the table template wrote them one by one:

        <td {{ column.attrs.td.as_html }} data-label="{{ column.header|striptags }}">{{ cell }}</td>

    (the cell through |localize or |unlocalize when the column says so). A column's label and its
    cell attributes are the same on every row, so they are worked out once per table (kept on the
    table) rather than once per cell; only a column whose td attributes hold callables, which
    django-tables2 calls with each row's record and value, has its attributes computed per cell."""
    plan = _plan(row.table, context)
    parts = []
    for column, cell in row.items():  # items() sets the column's current record and value
        td_attrs, label, localized = plan[column.name]
        if td_attrs is None:
            td_attrs = column.attrs["td"].as_html()
        if callable(cell):
            with context.push({"epigrid_table_cell": cell}):
                cell = _CELL.resolve(context)
        if localized is not None:
            cell = localize(cell) if localized else unlocalize(cell)
        parts.append(f'<td {td_attrs} data-label="{label}">{render_value_in_context(cell, context)}</td>')
    return mark_safe("".join(parts))


def _plan(table, context):
    plan = getattr(table, PLAN_ATTR, None)
    if plan is None or plan[0] != context.autoescape:
        plan = (context.autoescape, build_plan(table, context))
        setattr(table, PLAN_ATTR, plan)
    return plan[1]


def build_plan(table, context):
    """{column name: (td attributes as HTML, or None to compute them per cell; the data-label as
    HTML; the column's localize)} for the table's columns."""
    plan = {}
    for column in table.columns.iterall():
        plan[column.name] = (
            None if _td_attrs_vary(table, column) else column.attrs["td"].as_html(),
            _label(column.header, context),
            column.localize,
        )
    return plan


def _td_attrs_vary(table, column):
    """Whether the column's td attributes hold a callable (at any depth): the same choice of
    source as BoundColumn.attrs, the table's attrs overridden by the column's, td else cell."""
    attrs = dict(table.attrs)
    attrs.update(dict(column.column.attrs))
    return _has_callable(attrs.get("td", attrs.get("cell", {})))


def _has_callable(attrs):
    return any(callable(v) or (isinstance(v, dict) and _has_callable(v)) for v in attrs.values())


def _label(header, context):
    """{{ column.header|striptags }}: a safe header stays unescaped once stripped."""
    label = striptags(header)
    if isinstance(header, SafeData):
        label = mark_safe(label)
    return render_value_in_context(label, context)
