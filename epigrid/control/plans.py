"""Turning a protocol's rules into a person's plan. Pure functions: no database, so every
shipped protocol's numbers are checked by fast tests (docs/decisions/0011-protocols-as-data.md).

A plan is a chain of steps (e.g. 7 days centralized isolation, then 3 days home health
monitoring). Day numbers count from the protocol's day one: with `day_one_offset` 1, day 1 is
the day after the anchor date (last exposure, arrival, discharge)."""

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MEASURES = ("centralized", "home_isolation", "home_monitoring", "daily_monitoring")
CATEGORIES = (
    "confirmed",
    "suspected",
    "fever",
    "close_contact",
    "secondary_contact",
    "high_risk_arrival",
    "medium_risk_arrival",
    "low_risk_arrival",
    "inbound",
    "spacetime_companion",
    "risk_occupation",
    "other",
)
ANCHORS = ("last_exposure", "arrival", "discharge", "identified")


@dataclass(frozen=True)
class Step:
    measure: str
    start: datetime.date  # first day of the step
    end: datetime.date | None  # last day (inclusive); None when open-ended (until ruled out)
    test_dates: tuple = ()
    temps_per_day: int = 2
    day_numbers: tuple = field(default=(), compare=False)


def plan(rules, category, anchor_date):
    """The chain of steps for `category` starting from `anchor_date` under `rules`."""
    spec = rules["categories"].get(category)
    if spec is None or spec.get("traced") is False or not spec["chain"]:
        return []
    offset = rules.get("day_one_offset", 1)
    day_one = anchor_date + datetime.timedelta(days=offset)
    steps = []
    for item in spec["chain"]:
        days = item.get("days")
        end = day_one + datetime.timedelta(days=days - 1) if days else None
        tests = tuple(day_one + datetime.timedelta(days=n - 1) for n in item.get("tests", ()))
        steps.append(
            Step(item["measure"], day_one, end, tests, item.get("temps", 2), tuple(item.get("tests", ())))
        )
        if end is None:
            break  # an open-ended step ends the chain: the rest is planned when it closes
        day_one = end + datetime.timedelta(days=1)
    return steps


def anchor_of(rules, category):
    spec = rules["categories"].get(category) or {}
    return spec.get("anchor", "identified")


def is_traced(rules, category):
    spec = rules["categories"].get(category)
    return bool(spec) and spec.get("traced", True) and bool(spec["chain"])


def downgrade_date(rules, level, last_case_date):
    """(next level, the first day the zone may be downgraded) after `last_case_date`, or
    (None, None) when the level is not downgraded by counting days."""
    rule = rules["zones"]["downgrade"].get(level) or {}
    days = rule.get("case_free_days")
    if not days or rule.get("to") is None:
        return None, None
    # N consecutive case-free days are the N days after the last case; the zone may change the day after.
    return rule["to"], last_case_date + datetime.timedelta(days=days + 1)


def case_free_days(last_case_date, today):
    return max(0, (today - last_case_date).days)


def validate_rules(rules):
    """Refuse a rule set that would make plans impossible, with messages an administrator can act on."""
    errors = []
    if not isinstance(rules, dict) or "categories" not in rules or "zones" not in rules:
        raise ValidationError(_("A protocol needs 'categories' and 'zones'."))
    if rules.get("day_one_offset", 1) not in (0, 1):
        errors.append(_("day_one_offset must be 0 (the anchor date is day 1) or 1 (the day after)."))
    for category, spec in rules["categories"].items():
        if category not in CATEGORIES:
            errors.append(_("Unknown category %(c)s.") % {"c": category})
            continue
        if spec.get("anchor", "identified") not in ANCHORS:
            errors.append(_("%(c)s: unknown anchor %(a)s.") % {"c": category, "a": spec.get("anchor")})
        for index, step in enumerate(spec.get("chain", []), start=1):
            errors.extend(_step_errors(category, index, step))
    errors.extend(_tracing_errors(rules.get("tracing")))
    levels = rules["zones"].get("levels") or []
    if rules["zones"].get("lift_at") not in (None, *levels):
        errors.append(_("lift_at must be one of the zone levels."))
    for level, rule in rules["zones"].get("downgrade", {}).items():
        if level not in levels or (rule.get("to") is not None and rule["to"] not in levels):
            errors.append(_("Zone level %(l)s: downgrade refers to an unknown level.") % {"l": level})
    if errors:
        raise ValidationError(errors)


DEADLINES = ("reported", "trajectory", "report", "close_controlled", "secondary_controlled")


def _tracing_errors(spec):
    """The optional tracing section: the look-back window and the deadlines (hours) of a case."""
    if spec is None:
        return []
    errors = []
    days = spec.get("lookback_days")
    if not isinstance(days, int) or not 0 <= days <= 30:
        errors.append(_("tracing: lookback_days must be a whole number of days from 0 to 30."))
    hours = spec.get("deadline_hours", {})
    for key, value in hours.items():
        if key not in DEADLINES:
            errors.append(_("tracing: unknown deadline %(d)s.") % {"d": key})
        elif not isinstance(value, (int, float)) or value <= 0:
            errors.append(_("tracing: the deadline %(d)s must be a positive number of hours.") % {"d": key})
    return errors


def _step_errors(category, index, step):
    where = {"c": category, "i": index}
    errors = []
    if step.get("measure") not in MEASURES:
        errors.append(_("%(c)s step %(i)d: unknown measure.") % where)
    days = step.get("days")
    if days is not None and (not isinstance(days, int) or days < 1):
        errors.append(_("%(c)s step %(i)d: days must be a positive whole number or empty.") % where)
    tests = step.get("tests", [])
    if any(not isinstance(n, int) or n < 1 or (days and n > days) for n in tests):
        errors.append(_("%(c)s step %(i)d: test days must fall within the step.") % where)
    if step.get("temps", 2) not in (0, 1, 2, 3):
        errors.append(_("%(c)s step %(i)d: temperature checks per day must be 0 to 3.") % where)
    return errors
