"""The merchant home's numbers: revenue and orders per day over the last 30 days, and the bars that
draw them (server-rendered SVG: no script, no CDN)."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

DAYS = 30
COUNTED = ("paid", "refunded")        # orders that brought money (a refund is subtracted)


@dataclass(frozen=True)
class Day:
    day: date
    orders: int
    revenue: int            # minor units of the chart's currency, net of refunds


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int


def _day(value: str | None) -> date | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).date()


def main_currency(orders: list[dict[str, Any]]) -> str | None:
    """The currency most of the money came in: the revenue chart is in it (others are listed)."""
    totals: Counter[str] = Counter()
    for o in orders:
        if o.get("status") in COUNTED:
            totals[o["currency"]] += o["total"] - o.get("refunded_amount", 0)
    return totals.most_common(1)[0][0] if totals else None


def daily(orders: list[dict[str, Any]], today: date, currency: str | None, days: int = DAYS) -> list[Day]:
    """One Day per calendar day (UTC), oldest first: orders created that day, revenue paid that day."""
    first = today - timedelta(days=days - 1)
    created: Counter[date] = Counter()
    revenue: defaultdict[date, int] = defaultdict(int)
    for o in orders:
        made = _day(o.get("created_at"))
        if made and first <= made <= today:
            created[made] += 1
        paid = _day(o.get("paid_at"))
        if paid and first <= paid <= today and o.get("status") in COUNTED and o.get("currency") == currency:
            revenue[paid] += o["total"] - o.get("refunded_amount", 0)
    return [Day(d, created[d], revenue[d]) for d in (first + timedelta(days=i) for i in range(days))]


def bars(values: list[tuple[str, int]], width: float = 600, height: float = 160, gap: float = 2) -> list[Bar]:
    """Bars scaled to the largest value; a zero is a 1-unit line so each day still shows."""
    if not values:
        return []
    top = max(v for _, v in values) or 1
    step = width / len(values)
    result = []
    for i, (label, value) in enumerate(values):
        h = max(1.0, height * value / top) if value > 0 else 1.0
        result.append(Bar(round(i * step + gap / 2, 2), round(height - h, 2), round(step - gap, 2), round(h, 2),
                          label, value))
    return result
