"""Every shipped protocol's plan for every category (numbers from ../shared/domain.md)."""

import datetime
import json
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from epigrid.control import plans

PROTOCOLS = {
    p.stem: json.loads(p.read_text()) for p in (Path(plans.__file__).parent / "protocols").glob("*.json")
}
D = datetime.date(2022, 7, 1)


def days(n):
    return D + datetime.timedelta(days=n)


def summary(code, category, anchor=D):
    return [
        (s.measure, s.start, s.end, [(t - anchor).days for t in s.test_dates], s.temps_per_day)
        for s in plans.plan(PROTOCOLS[code], category, anchor)
    ]


def test_it_ships_the_three_protocols():
    assert set(PROTOCOLS) == {"v8", "v9", "twenty"}


@pytest.mark.parametrize("code", ["v8", "v9", "twenty"])
def test_it_ships_valid_rules(code):
    plans.validate_rules(PROTOCOLS[code])


@pytest.mark.parametrize("code", ["v8", "v9", "twenty"])
def test_it_covers_every_category(code):
    assert set(PROTOCOLS[code]["categories"]) == set(plans.CATEGORIES)


def test_it_plans_a_v9_close_contact_as_7_days_centralized_then_3_days_home_monitoring():
    assert summary("v9", "close_contact") == [
        ("centralized", days(1), days(7), [1, 2, 3, 5, 7], 2),
        ("home_monitoring", days(8), days(10), [10], 2),
    ]


def test_it_plans_a_v9_secondary_contact_as_7_days_home_isolation():
    assert summary("v9", "secondary_contact") == [("home_isolation", days(1), days(7), [1, 4, 7], 2)]


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("high_risk_arrival", [("centralized", days(1), days(7), [1, 2, 3, 5, 7], 2)]),
        ("medium_risk_arrival", [("home_isolation", days(1), days(7), [1, 4, 7], 2)]),
        ("low_risk_arrival", [("daily_monitoring", days(1), days(3), [1, 2], 1)]),
        (
            "inbound",
            [
                ("centralized", days(1), days(7), [1, 2, 3, 5, 7], 2),
                ("home_monitoring", days(8), days(10), [10], 2),
            ],
        ),
        ("confirmed", [("home_monitoring", days(1), days(7), [3, 7], 2)]),
        ("suspected", [("centralized", days(1), None, [1], 2)]),
        ("fever", [("home_monitoring", days(1), days(3), [1], 2)]),
        ("spacetime_companion", [("daily_monitoring", days(1), days(3), [1, 2], 1)]),
        ("risk_occupation", [("daily_monitoring", days(1), days(7), [1, 7], 1)]),
        ("other", [("daily_monitoring", days(1), days(7), [1], 1)]),
    ],
)
def test_it_plans_every_v9_category(category, expected):
    assert summary("v9", category) == expected


def test_it_plans_a_twenty_measures_close_contact_as_5_plus_3():
    assert summary("twenty", "close_contact") == [
        ("centralized", days(1), days(5), [1, 2, 3, 5], 2),
        ("home_isolation", days(6), days(8), [6, 8], 2),
    ]


def test_it_no_longer_traces_secondary_contacts_under_the_twenty_measures():
    assert not plans.is_traced(PROTOCOLS["twenty"], "secondary_contact")
    assert summary("twenty", "secondary_contact") == []


def test_it_plans_a_high_risk_departure_under_the_twenty_measures_as_7_days_home():
    assert summary("twenty", "high_risk_arrival") == [("home_isolation", days(1), days(7), [1, 3, 5, 7], 2)]


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("confirmed", [("home_monitoring", days(1), days(7), [3, 7], 2)]),
        ("suspected", [("centralized", days(1), None, [1], 2)]),
        ("fever", [("home_monitoring", days(1), days(3), [1], 2)]),
        ("medium_risk_arrival", []),
        ("low_risk_arrival", [("daily_monitoring", days(1), days(3), [1, 2], 1)]),
        (
            "inbound",
            [
                ("centralized", days(1), days(5), [1, 2, 3, 5], 2),
                ("home_isolation", days(6), days(8), [6, 8], 2),
            ],
        ),
        ("spacetime_companion", [("daily_monitoring", days(1), days(3), [1, 2], 1)]),
        ("risk_occupation", [("daily_monitoring", days(1), days(7), [1, 7], 1)]),
        ("other", [("daily_monitoring", days(1), days(7), [1], 1)]),
    ],
)
def test_it_plans_every_twenty_measures_category(category, expected):
    assert summary("twenty", category) == expected


def test_it_plans_a_v8_close_contact_as_14_plus_7():
    assert summary("v8", "close_contact") == [
        ("centralized", days(1), days(14), [1, 4, 7, 14], 2),
        ("home_monitoring", days(15), days(21), [16, 21], 2),
    ]


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("confirmed", [("home_monitoring", days(1), days(14), [2, 7, 14], 2)]),
        ("suspected", [("centralized", days(1), None, [1], 2)]),
        ("fever", [("home_monitoring", days(1), days(3), [1], 2)]),
        ("secondary_contact", [("home_isolation", days(1), days(7), [1, 4, 7], 2)]),
        ("high_risk_arrival", [("centralized", days(1), days(14), [1, 4, 7, 14], 2)]),
        ("medium_risk_arrival", [("home_isolation", days(1), days(14), [1, 7, 14], 2)]),
        ("low_risk_arrival", [("daily_monitoring", days(1), days(14), [1], 1)]),
        (
            "inbound",
            [
                ("centralized", days(1), days(14), [1, 4, 7, 14], 2),
                ("home_monitoring", days(15), days(21), [16, 21], 2),
            ],
        ),
        ("spacetime_companion", [("daily_monitoring", days(1), days(3), [1, 3], 1)]),
        ("risk_occupation", [("daily_monitoring", days(1), days(7), [1, 7], 1)]),
        ("other", [("daily_monitoring", days(1), days(7), [1], 1)]),
    ],
)
def test_it_plans_every_v8_category(category, expected):
    assert summary("v8", category) == expected


def test_it_counts_the_anchor_as_day_one_when_the_protocol_says_so():
    rules = {**PROTOCOLS["v9"], "day_one_offset": 0}
    assert plans.plan(rules, "close_contact", D)[0].end == days(6)


@pytest.mark.parametrize(
    ("code", "level", "expected"),
    [
        ("v9", "high", ("medium", days(8))),
        ("v9", "medium", ("low", days(4))),
        ("v9", "low", (None, None)),
        ("twenty", "high", ("low", days(6))),
        ("v8", "sealed", ("controlled", days(15))),
    ],
)
def test_it_computes_the_day_a_zone_may_be_downgraded(code, level, expected):
    assert plans.downgrade_date(PROTOCOLS[code], level, D) == expected


def test_it_refuses_rules_with_impossible_steps():
    rules = json.loads(json.dumps(PROTOCOLS["v9"]))
    rules["categories"]["close_contact"]["chain"][0]["tests"] = [1, 9]
    rules["categories"]["fever"]["chain"][0]["measure"] = "vacation"
    with pytest.raises(ValidationError) as exc:
        plans.validate_rules(rules)
    assert len(exc.value.messages) == 2
