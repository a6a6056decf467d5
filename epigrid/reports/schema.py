"""Report forms as data (decision 0029): the field list of a `ReportForm` is a JSON list, checked
here before it is saved (the administrator's page, the shipped files, the API), and submitted
values are cleaned against it. Pure functions: no database, so the same rules serve the page, the
API and the management command.

A field: {"key": "new_arrivals", "label": {"zh": "新增返回人员", "en": "New arrivals"},
"type": "int" | "decimal" | "text" | "bool" | "choice", "required": bool, "min": n, "max": n,
"choices": [values] (choice only), "live": "<name in reports.live>", "event": bool}.
`event` marks a count of what happened in the period: a zero report sets it to 0."""

import re
from decimal import Decimal, InvalidOperation

from django.utils.translation import get_language
from django.utils.translation import gettext as _

TYPES = ("int", "decimal", "text", "bool", "choice")
NUMERIC = ("int", "decimal")
KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
KNOWN = {"key", "label", "type", "required", "min", "max", "choices", "live", "event", "help"}
TEXT_MAX = 2000
MAX_FIELDS = 60


def label(field_or_text, language=None):
    """The label in the page's language: zh for Chinese, en otherwise (either as fallback)."""
    text = field_or_text.get("label", field_or_text) if "key" in field_or_text else field_or_text
    if isinstance(text, str):
        return text
    language = (language or get_language() or "zh-hans").lower()
    first, second = ("zh", "en") if language.startswith("zh") else ("en", "zh")
    return text.get(first) or text.get(second) or ""


def validate_fields(fields, live_names=()):
    """Errors of a field list, each naming the field by its position and key; [] when valid."""
    if not isinstance(fields, list) or not fields:
        return [_("The field list must be a non-empty JSON list.")]
    if len(fields) > MAX_FIELDS:
        return [_("A form has at most %(n)d fields.") % {"n": MAX_FIELDS}]
    errors, seen = [], set()
    for index, field in enumerate(fields, start=1):
        errors.extend(_field_errors(index, field, seen, live_names))
    return errors


def _field_errors(index, field, seen, live_names):
    if not isinstance(field, dict):
        return [_("Field %(n)d: must be an object with key, label and type.") % {"n": index}]
    key = field.get("key")
    where = _("Field %(n)d (%(key)s)") % {"n": index, "key": key or "?"}
    errors = []
    if not isinstance(key, str) or not KEY.match(key):
        errors.append(
            _("%(where)s: the key must be lower-case letters, digits and _, starting with a letter.")
            % {"where": where}
        )
    elif key in seen:
        errors.append(_("%(where)s: the key is used twice.") % {"where": where})
    seen.add(key)
    unknown = sorted(set(field) - KNOWN)
    if unknown:
        errors.append(
            _("%(where)s: unknown attributes %(names)s.") % {"where": where, "names": ", ".join(unknown)}
        )
    lab = field.get("label")
    if not (isinstance(lab, dict) and isinstance(lab.get("zh"), str) and lab["zh"].strip()):
        errors.append(_("%(where)s: the label needs a Chinese text (label.zh).") % {"where": where})
    kind = field.get("type")
    if kind not in TYPES:
        errors.append(
            _("%(where)s: the type must be one of %(types)s.") % {"where": where, "types": ", ".join(TYPES)}
        )
        return errors
    if not isinstance(field.get("required", False), bool) or not isinstance(field.get("event", False), bool):
        errors.append(_("%(where)s: required and event are true or false.") % {"where": where})
    errors.extend(_bounds_errors(where, field, kind))
    if kind == "choice":
        choices = field.get("choices")
        if not (isinstance(choices, list) and choices and all(isinstance(c, str) and c for c in choices)):
            errors.append(_("%(where)s: a choice field needs a list of choices.") % {"where": where})
        elif len(set(choices)) != len(choices):
            errors.append(_("%(where)s: a choice is listed twice.") % {"where": where})
    elif "choices" in field:
        errors.append(_("%(where)s: only a choice field has choices.") % {"where": where})
    if field.get("event") and kind not in NUMERIC:
        errors.append(_("%(where)s: only a number can be an event count.") % {"where": where})
    live = field.get("live")
    if live is not None:
        if kind not in (*NUMERIC, "bool"):
            errors.append(
                _("%(where)s: only a number or a yes/no can have a live figure.") % {"where": where}
            )
        elif live not in live_names:
            errors.append(
                _("%(where)s: there is no live figure named “%(live)s”.") % {"where": where, "live": live}
            )
    return errors


def _bounds_errors(where, field, kind):
    bounds = {b: field[b] for b in ("min", "max") if b in field}
    if not bounds:
        return []
    if kind not in NUMERIC:
        return [_("%(where)s: only a number has min and max.") % {"where": where}]
    for value in bounds.values():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return [_("%(where)s: min and max must be numbers.") % {"where": where}]
        if kind == "int" and value != int(value):
            return [_("%(where)s: a whole-number field has whole-number bounds.") % {"where": where}]
    if "min" in bounds and "max" in bounds and bounds["min"] > bounds["max"]:
        return [_("%(where)s: min is above max.") % {"where": where}]
    return []


def clean_value(field, raw):
    """(value, error): the typed value in its JSON form (int, str of a decimal, str, bool), or
    None when empty; an error message when the value does not fit the field."""
    kind = field["type"]
    if kind == "bool":
        value = raw in (True, "true", "on", "1", 1, "yes")
        if field.get("required") and not value:
            return value, _("This must be confirmed.")
        return value, None
    text = "" if raw is None else str(raw).strip()
    if text == "":
        return None, (_("This field is required.") if field.get("required") else None)
    if kind == "text":
        if len(text) > TEXT_MAX:
            return text, _("At most %(n)d characters.") % {"n": TEXT_MAX}
        return text, None
    if kind == "choice":
        if text not in field.get("choices", []):
            return text, _("Pick one of the listed choices.")
        return text, None
    return _clean_number(field, text)


def _clean_number(field, text):
    try:
        number = Decimal(text.replace(",", "").replace("，", ""))
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        return text, _("Enter a number.")
    if field["type"] == "int":
        if number != number.to_integral_value():
            return text, _("Enter a whole number.")
        number = int(number)
    elif number.as_tuple().exponent < -2:
        return text, _("At most two decimal places.")
    if "min" in field and number < Decimal(str(field["min"])):
        return text, _("At least %(n)s.") % {"n": field["min"]}
    if "max" in field and number > Decimal(str(field["max"])):
        return text, _("At most %(n)s.") % {"n": field["max"]}
    return (number if field["type"] == "int" else str(number)), None


def same(field, typed, live):
    """Whether the typed value agrees with the live figure: a yes/no field with a live count says
    "none happened" (true) exactly when the count is 0."""
    if live is None:
        return True
    if field["type"] == "bool":
        return bool(typed) == (live == 0)
    if typed is None:
        return False
    return Decimal(str(typed)) == Decimal(str(live))
