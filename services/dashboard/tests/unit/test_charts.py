from datetime import date

from tillkey.dashboard.domain.charts import bars, daily, main_currency

TODAY = date(2026, 3, 31)


def order(created, status="paid", total=1000, refunded=0, currency="EUR", paid=None):
    return {"created_at": f"{created}T10:00:00Z", "paid_at": f"{paid or created}T10:05:00Z" if status != "not_paid"
            else None, "status": status, "total": total, "refunded_amount": refunded, "currency": currency}


def test_each_of_the_30_days_counts_its_orders_and_its_net_revenue_in_one_currency():
    orders = [order("2026-03-31"), order("2026-03-31", refunded=400), order("2026-03-30", status="not_paid"),
              order("2026-03-02", total=700), order("2026-03-01"),                       # 3-01 is day 31: out
              order("2026-03-31", currency="USD", total=99999), order("2026-03-29", status="canceled")]
    days = daily(orders, TODAY, "EUR")
    assert len(days) == 30 and days[0].day == date(2026, 3, 2) and days[-1].day == TODAY
    assert (days[-1].orders, days[-1].revenue) == (3, 1600)
    assert (days[-2].orders, days[-2].revenue) == (1, 0)
    assert (days[0].orders, days[0].revenue) == (1, 700)
    assert sum(d.orders for d in days) == 6


def test_the_chart_currency_is_the_one_most_money_came_in():
    assert main_currency([order("2026-03-31", total=500), order("2026-03-30", currency="JPY", total=90000)]) == "JPY"
    assert main_currency([order("2026-03-31", status="not_paid")]) is None


def test_bars_scale_to_the_largest_and_a_zero_still_shows():
    drawn = bars([("a", 0), ("b", 50), ("c", 100)], width=300, height=100, gap=0)
    assert [(b.x, b.height, b.y) for b in drawn] == [(0, 1.0, 99.0), (100, 50.0, 50.0), (200, 100.0, 0.0)]
    assert bars([]) == []
