"""Changes and alerts of the daily supply-and-price report 保供稳价 (decision 0035), as pure
functions over the report's values dicts: no database, so the submission path, the sweep, the
pages and the tests compute them the same way.

A report's values hold three fields per catalogue item: `<code>_supply` (quantity on sale that
day, in the item's unit), `<code>_price` (yuan per unit) and `<code>_stock_days` (days of sales
the outlet's stock and reserves cover). A missing or empty field means "not reported", never 0.

- change against yesterday: today's price over the outlet's own price of the day before;
- change against the baseline: today's price over the baseline of the item in the outlet's area
  (the nearest area up the tree that has one, e.g. the mean of a reference period);
- a spike: a rise of at least the item's threshold percent against either; a fall is reported
  as a change but raises no alert (the seeds' 稳价 worry is gouging, not discounts);
- short stock: stock below the item's minimum days."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

PARTS = ("supply", "price", "stock_days")
DAY_SPIKE = "day_spike"
BASELINE_SPIKE = "baseline_spike"
SHORT_STOCK = "short_stock"
KINDS = (DAY_SPIKE, BASELINE_SPIKE, SHORT_STOCK)
TENTH = Decimal("0.1")


def field_key(code, part):
    return f"{code}_{part}"


def _decimal(value):
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def item_values(values, codes):
    """{code: {"supply", "price", "stock_days"}} (Decimals or None) of the items reported in
    `values`; an item with none of its three fields is left out."""
    values = values or {}
    out = {}
    for code in codes:
        parts = {part: _decimal(values.get(field_key(code, part))) for part in PARTS}
        if any(v is not None for v in parts.values()):
            out[code] = parts
    return out


def percent_change(value, reference):
    """(value − reference) ÷ reference in percent, one decimal; None without both or a 0 reference."""
    if value is None or reference is None or reference <= 0:
        return None
    return ((value - reference) * 100 / reference).quantize(TENTH, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Change:
    code: str
    price: Decimal | None
    yesterday: Decimal | None
    baseline: Decimal | None
    day_pct: Decimal | None
    baseline_pct: Decimal | None
    supply: Decimal | None
    stock_days: Decimal | None


def changes(today, yesterday, baselines, codes):
    """{code: Change} for every item reported today. `today`/`yesterday` are report values dicts
    (yesterday may be None: no report), `baselines` {code: Decimal price}."""
    now = item_values(today, codes)
    before = item_values(yesterday, codes)
    out = {}
    for code, parts in now.items():
        price = parts["price"]
        prev = before.get(code, {}).get("price")
        base = _decimal(baselines.get(code))
        out[code] = Change(
            code=code,
            price=price,
            yesterday=prev,
            baseline=base,
            day_pct=percent_change(price, prev),
            baseline_pct=percent_change(price, base),
            supply=parts["supply"],
            stock_days=parts["stock_days"],
        )
    return out


@dataclass(frozen=True)
class Alert:
    code: str
    kind: str
    value: Decimal
    reference: Decimal | None
    change_pct: Decimal | None


def alerts(found_changes, thresholds):
    """The alerts the changes raise. `thresholds` {code: (spike percent, minimum stock days)};
    an item without thresholds raises nothing. Ordered by item, then kind."""
    out = []
    for code in sorted(found_changes):
        if code not in thresholds:
            continue
        spike, minimum = (_decimal(t) for t in thresholds[code])
        c = found_changes[code]
        if spike is not None and c.day_pct is not None and c.day_pct >= spike:
            out.append(Alert(code, DAY_SPIKE, c.price, c.yesterday, c.day_pct))
        if spike is not None and c.baseline_pct is not None and c.baseline_pct >= spike:
            out.append(Alert(code, BASELINE_SPIKE, c.price, c.baseline, c.baseline_pct))
        if minimum is not None and c.stock_days is not None and c.stock_days < minimum:
            out.append(Alert(code, SHORT_STOCK, c.stock_days, minimum, None))
    return out


def mean(numbers):
    """The mean of the non-None numbers, two decimals; None for none."""
    present = [n for n in numbers if n is not None]
    if not present:
        return None
    return (sum(present) / len(present)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def trend(rows, code):
    """Per day, the mean, lowest and highest price of `code` and how many outlets reported it, from
    [(day, values)] (several outlets a day): [(day, mean, low, high, n)] in day order."""
    by_day = {}
    for day, values in rows:
        price = item_values(values, [code]).get(code, {}).get("price")
        if price is not None:
            by_day.setdefault(day, []).append(price)
    return [
        (day, mean(prices), min(prices), max(prices), len(prices)) for day, prices in sorted(by_day.items())
    ]
