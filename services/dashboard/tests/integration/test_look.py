"""The dashboard's frame: the navigation marks the section shown, the stylesheet it relies on is
served, and lists of things are tables whose money cells are right-aligned (docs/dashboard.md)."""
from __future__ import annotations

import re

import pytest

from .conftest import create_user, sign_in

pytestmark = pytest.mark.integration

PRODUCT = {"product_id": "prod_1", "name": "Pro", "prices": {"EUR": 4900}, "default_currency": "EUR",
           "active": True, "checkout_url": "http://shop/buy/prod_1"}


def current(html: str) -> list[str]:
    return re.findall(r'<a href="([^"]+)"[^>]*aria-current="page"', html)


@pytest.fixture
def client(app, api):
    api.answers[("orders", "GET", "/v1/products")] = {"data": [PRODUCT], "next_cursor": None}
    api.answers[("orders", "GET", "/v1/products/prod_1")] = PRODUCT
    api.answers[("orders", "GET", "/v1/coupons")] = {"data": [
        {"code": "TENOFF", "percent_off": None, "amount_off": {"EUR": 1000, "USD": 1100}, "redemptions": 2,
         "max_redemptions": 5, "expires_at": None, "product_ids": [], "active": True}], "next_cursor": None}
    client = app.test_client()
    create_user(client)
    sign_in(client)
    return client


@pytest.mark.parametrize(("path", "marked"), [
    ("/coupons", ["/coupons"]), ("/products", ["/products"]), ("/products/prod_1", ["/products"]),
    ("/users", ["/users"]),
])
def test_the_navigation_marks_the_section_shown_and_only_it(client, path, marked):
    resp = client.get(path)
    assert resp.status_code == 200
    assert current(resp.get_data(as_text=True)) == marked


def test_coupons_are_a_table_with_their_amounts_right_aligned_and_labelled_for_a_narrow_screen(client):
    html = client.get("/coupons").get_data(as_text=True)
    row = re.search(r'<tr data-code="TENOFF">(.*?)</tr>', html, re.S).group(1)
    discount = re.search(r'<td data-label="Discount" class="money">(.*?)</td>', row, re.S).group(1)
    assert "€10.00" in discount and "$11.00" in discount
    assert '<td data-label="Used" class="num">2 of 5</td>' in row


def test_the_stylesheet_the_pages_link_is_served_with_the_dashboards_rules(client):
    html = client.get("/coupons").get_data(as_text=True)
    href = re.search(r'<link rel="stylesheet" href="([^"]+)"', html).group(1)
    css = client.get(href)
    assert css.status_code == 200
    text = css.get_data(as_text=True)
    for rule in (".dash-nav a[aria-current=page]", ".data .money", "@media (max-width: 40rem)"):
        assert rule in text
