"""The protocol's tracing rules (its "tracing" section; decision 0025): pure functions, no database.
The look-back window and the deadlines are data of each protocol version, not code."""

import datetime

from epigrid.control import plans

CLASS_CATEGORY = {"close": "close_contact", "secondary": "secondary_contact"}


def _section(rules):
    section = rules.get("tracing")
    if section is None:
        raise KeyError("The protocol has no tracing section.")
    return section


def lookback_days(rules):
    return _section(rules)["lookback_days"]


def lookback_window(rules, onset, sampled_on, until=None):
    """(first day, last day) of the window in which contacts are traced: from N days before onset, or
    before the first positive sample when there are no symptoms, up to the day the case was isolated."""
    anchor = onset or sampled_on
    return anchor - datetime.timedelta(days=lookback_days(rules)), until or sampled_on


def deadline_hours(rules):
    return dict(_section(rules).get("deadline_hours", {}))


def category_of(contact_class):
    """The key-person category a confirmed contact is registered under (none for a general contact)."""
    return CLASS_CATEGORY.get(contact_class)


def is_traced(rules, contact_class):
    """Whether the protocol still manages this class of contact (二十条 stopped tracing secondary contacts)."""
    category = category_of(contact_class)
    return category is not None and plans.is_traced(rules, category)
