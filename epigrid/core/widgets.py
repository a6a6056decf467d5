"""A select for large, scoped choice sets (a district has hundreds of thousands of households):
it renders only the selected option and fetches matches from /options/<model>/ through htmx."""

from django import forms
from django.urls import reverse


class AutocompleteSelect(forms.Select):
    template_name = "core/widgets/autocomplete.html"

    def __init__(self, model_label, attrs=None, everywhere=False):
        super().__init__(attrs)
        self.model_label = model_label
        # Offer choices outside the user's areas (only models with autocomplete_everywhere).
        self.everywhere = everywhere

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        key = self.choices.field.to_field_name or "pk"
        url = f"{reverse('options', args=[self.model_label])}?key={key}"
        context["widget"]["options_url"] = url + ("&everywhere=1" if self.everywhere else "")
        return context

    def optgroups(self, name, value, attrs=None):
        # Only the chosen values are rendered; iterating the whole queryset is what we avoid.
        selected = [v for v in value if v not in ("", None)]
        options = [self.create_option(name, "", self.choices.field.empty_label or "", not selected, 0)]
        if selected:
            field = self.choices.field
            key = field.to_field_name or "pk"
            for index, obj in enumerate(field.queryset.filter(**{f"{key}__in": selected}), start=1):
                options.append(
                    self.create_option(name, str(getattr(obj, key)), option_label(obj), True, index)
                )
        return [(None, options, 0)]


def option_label(obj):
    return obj.autocomplete_label() if hasattr(obj, "autocomplete_label") else str(obj)


class CheckboxChoices(forms.CheckboxSelectMultiple):
    """Checkboxes in Bootstrap's form-check markup, in a grid: a phone's native multi-select is
    hard to use. `style_form` puts it in place of every plain SelectMultiple of fixed choices."""

    template_name = "core/widgets/checkbox_choices.html"
    option_template_name = "core/widgets/checkbox_choice.html"
