"""What the customer's pages of this service share: their language, their frame, their headers."""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from urllib.parse import urlencode

from flask import render_template, request

from tillkey.orders.entrypoints.common import settings
from tillkey.orders.entrypoints.page_texts import TEXTS
from tillkey.platform.formatting import format_date, format_money
from tillkey.platform.web import SUPPORTED_LOCALES, Translator, asset_url, language_of, negotiate_locale, page_headers

LANGUAGE_NAMES = {"en": "English", "de": "Deutsch"}


def page_locale(*preferred: str | None) -> str:
    """The first supported explicit choice (the URL's `locale`, the cart's or the order's), else the
    browser's Accept-Language."""
    for choice in (request.args.get("locale"), *preferred):
        language = language_of(choice)
        if language:
            return language
    return negotiate_locale(None, request.headers.get("Accept-Language"))


def translator(locale: str) -> Translator:
    return Translator(locale, TEXTS)


def language_links(base_path: str, keep: dict[str, str] | None = None) -> list[tuple[str, str, str]]:
    return [(code, LANGUAGE_NAMES[code], f"{base_path}?{urlencode({**(keep or {}), 'locale': code})}")
            for code in SUPPORTED_LOCALES]


@cache
def _country_names() -> dict[str, dict[str, str]]:
    return json.loads((Path(__file__).parent / "country_names.json").read_text(encoding="utf-8"))


def countries(locale: str) -> list[tuple[str, str]]:
    """(code, name) sorted by the name as the customer reads it."""
    names = _country_names()
    return sorted(((code, n.get(locale) or n["en"]) for code, n in names.items()),
                  key=lambda item: item[1].casefold().translate(_FOLD))


_FOLD = str.maketrans("äöüåéèçôíñ", "aouaeecoin")   # so "Österreich" sorts under O, not after Z


def country_from_browser() -> str | None:
    """`de-AT` in Accept-Language: Austria is a good first guess for the country select."""
    for part in request.headers.get("Accept-Language", "").split(","):
        tag = part.split(";")[0].strip()
        if "-" in tag:
            region = tag.split("-")[-1].upper()
            if region in _country_names():
                return region
    return None


def render_page(template: str, locale: str, status: int = 200, *, form_targets: tuple[str, ...] | None = None,
                referrer: str = "no-referrer", **context):
    # money(amount, currency) and date(iso) as the customer's language writes them (CLDR).
    html = render_template(template, _=translator(locale), asset_url=asset_url,
                           money=lambda amount, currency: format_money(amount, currency, locale),
                           date=lambda value: format_date(value, locale), **context)
    return html, status, page_headers(form_targets=form_targets, referrer=referrer)


def own_urls() -> tuple[str, ...]:
    """The origins our own pages are served from (behind a proxy the public URL; directly, the host)."""
    return (settings().orders_public_url, request.host_url)


def error_page(exc):
    """A refused page request, as a page: the customer came with a browser, not an API client."""
    return render_page("error.html", page_locale(), exc.status, error_status=exc.status, detail=exc.detail,
                       errors=exc.errors or {})
