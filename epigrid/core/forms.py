from django import forms

from epigrid.core.widgets import CheckboxChoices


def style_form(form):
    """Bootstrap classes and phone keyboards on every widget, so templates stay generic."""
    for name, field in form.fields.items():
        _checkboxes_for_multiselect(field)
        widget = field.widget
        _input_hints(name, field)
        if isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
            continue
        if isinstance(widget, forms.CheckboxInput):
            css = "form-check-input"
        elif isinstance(widget, forms.Select):
            css = "form-select"
        else:
            css = "form-control"
        widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()
    return form


def _checkboxes_for_multiselect(field):
    """A plain multi-select of fixed choices becomes checkboxes (a phone's native multi-select is
    hard to use; model choices are left alone: their number is not bounded), and plain checkboxes
    get Bootstrap's markup with rows big enough to tap."""
    kind = type(field.widget)
    if kind is forms.SelectMultiple and isinstance(field, forms.ModelMultipleChoiceField):
        return
    if kind is not forms.SelectMultiple and kind is not forms.CheckboxSelectMultiple:
        return
    old = field.widget
    field.widget = CheckboxChoices(attrs=old.attrs)
    field.widget.choices = old.choices
    field.widget.is_required = old.is_required


def _input_hints(name, field):
    """The right keyboard on a phone: the dial pad for phone numbers, digits for numbers."""
    widget = field.widget
    if getattr(widget, "input_type", None) == "text" and "phone" in name:
        widget.input_type = "tel"
        widget.attrs.setdefault("inputmode", "tel")
        widget.attrs.setdefault("autocomplete", "tel")
    elif isinstance(widget, forms.NumberInput):
        # FloatField and DecimalField are IntegerFields too.
        whole = isinstance(field, forms.IntegerField) and not isinstance(
            field, forms.FloatField | forms.DecimalField
        )
        widget.attrs.setdefault("inputmode", "numeric" if whole else "decimal")


class StyledFormMixin:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_form(self)
