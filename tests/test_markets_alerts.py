"""The change and alert computation of the daily supply-and-price report, as pure functions
(markets.alerts): changes against yesterday and the baseline, spikes, short stock, trends."""

from decimal import Decimal as D

from epigrid.markets import alerts as calc

CODES = ["pork", "eggs", "veg"]
THRESHOLDS = {"pork": (D("10"), D("3")), "eggs": (D("10"), D("3")), "veg": (D("15"), D("2"))}


def v(**items):
    out = {}
    for code, (supply, price, stock) in items.items():
        out.update({f"{code}_supply": supply, f"{code}_price": price, f"{code}_stock_days": stock})
    return out


def test_it_reads_only_the_items_reported():
    found = calc.item_values(
        {"pork_price": "14.5", "pork_stock_days": 3, "eggs_price": None, "notes": "x"}, CODES
    )
    assert found == {"pork": {"supply": None, "price": D("14.5"), "stock_days": D("3")}}


def test_it_treats_an_unreadable_value_as_not_reported():
    assert calc.item_values({"pork_price": "abc", "pork_supply": True}, CODES) == {}


def test_it_computes_the_change_against_yesterday_and_the_baseline():
    c = calc.changes(v(pork=(500, "16.50", 5)), v(pork=(520, "15.00", 6)), {"pork": D("13.20")}, CODES)[
        "pork"
    ]
    assert c.day_pct == D("10.0")
    assert c.baseline_pct == D("25.0")
    assert (c.price, c.yesterday, c.baseline) == (D("16.50"), D("15.00"), D("13.20"))


def test_it_has_no_change_without_yesterday_or_baseline():
    c = calc.changes(v(pork=(500, "16.50", 5)), None, {}, CODES)["pork"]
    assert c.day_pct is None and c.baseline_pct is None


def test_it_raises_a_spike_against_yesterday_at_the_threshold():
    found = calc.alerts(calc.changes(v(pork=(1, "11", 9)), v(pork=(1, "10", 9)), {}, CODES), THRESHOLDS)
    assert [(a.code, a.kind, a.change_pct) for a in found] == [("pork", calc.DAY_SPIKE, D("10.0"))]


def test_it_raises_nothing_just_below_the_threshold():
    found = calc.alerts(calc.changes(v(pork=(1, "10.99", 9)), v(pork=(1, "10", 9)), {}, CODES), THRESHOLDS)
    assert found == []


def test_it_raises_a_spike_against_the_baseline_though_yesterday_was_as_high():
    found = calc.alerts(
        calc.changes(v(pork=(1, "15", 9)), v(pork=(1, "15", 9)), {"pork": D("12")}, CODES), THRESHOLDS
    )
    assert [(a.kind, a.reference, a.change_pct) for a in found] == [(calc.BASELINE_SPIKE, D("12"), D("25.0"))]


def test_a_fall_raises_no_alert():
    found = calc.alerts(
        calc.changes(v(pork=(1, "8", 9)), v(pork=(1, "12", 9)), {"pork": D("12")}, CODES), THRESHOLDS
    )
    assert found == []


def test_it_raises_short_stock_below_the_minimum_days():
    found = calc.alerts(calc.changes(v(pork=(1, "10", "2.5"), veg=(1, "3", 2)), None, {}, CODES), THRESHOLDS)
    assert [(a.code, a.kind, a.value, a.reference) for a in found] == [
        ("pork", calc.SHORT_STOCK, D("2.5"), D("3"))
    ]


def test_each_item_has_its_own_threshold():
    changes = calc.changes(
        v(pork=(1, "11.2", 9), veg=(1, "3.4", 9)), v(pork=(1, "10", 9), veg=(1, "3", 9)), {}, CODES
    )
    assert [(a.code, a.kind) for a in calc.alerts(changes, THRESHOLDS)] == [("pork", calc.DAY_SPIKE)]


def test_an_item_without_thresholds_raises_nothing():
    changes = calc.changes(v(pork=(1, "20", 0)), v(pork=(1, "10", 9)), {}, CODES)
    assert calc.alerts(changes, {}) == []


def test_the_trend_is_the_mean_low_and_high_per_day():
    rows = [
        ("d1", v(pork=(1, "10", 9))),
        ("d1", v(pork=(1, "12", 9))),
        ("d2", v(pork=(1, "11", 9))),
        ("d2", {}),
    ]
    assert calc.trend(rows, "pork") == [
        ("d1", D("11.00"), D("10"), D("12"), 2),
        ("d2", D("11.00"), D("11"), D("11"), 1),
    ]


def test_percent_change_needs_a_positive_reference():
    assert calc.percent_change(D("5"), D("0")) is None
    assert calc.percent_change(None, D("5")) is None
    assert calc.percent_change(D("4"), D("5")) == D("-20.0")
