"""Headers for the customer's pages and the check that a form post came from our own page."""
from __future__ import annotations

from urllib.parse import urlsplit


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def page_headers(*, connect_to: tuple[str, ...] = (), form_targets: tuple[str, ...] | None = None,
                 referrer: str = "no-referrer") -> dict[str, str]:
    """No caching (the URL or the page holds a secret), our own assets only.

    `form_targets`: None, the page has no form; else the origins besides our own a form's redirect
    may lead to (browsers apply form-action to the redirect too). `referrer`: the URL holds the
    order token or the cart id, so none leaves for another origin; a page whose posts are checked
    by origin says `same-origin`, because under `no-referrer` older browsers send `Origin: null`
    with the page's own posts.
    """
    connect = " ".join(("'self'", *map(origin_of, connect_to)))
    forms = " ".join(("'self'", *map(origin_of, form_targets))) if form_targets is not None else "'none'"
    return {
        "Content-Type": "text/html; charset=utf-8",
        "Cache-Control": "no-store",
        "Referrer-Policy": referrer,
        "X-Content-Type-Options": "nosniff",
        "X-Robots-Tag": "noindex",
        "Content-Security-Policy": (f"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                                    f"connect-src {connect}; form-action {forms}; base-uri 'none'; "
                                    "frame-ancestors 'none'"),
    }


def cross_site_post(headers, own_urls: tuple[str, ...]) -> bool:
    """True when the browser tells us a post did not come from one of our own pages.

    `Sec-Fetch-Site` is set by the browser and cannot be forged by a page, so when present it
    decides; older browsers send `Origin`, and `Referer` is the last resort. A client that sends
    none of them is not a browser: there is no victim whose cookies could ride along.
    """
    own = {origin_of(url) for url in own_urls if url}
    fetch_site = headers.get("Sec-Fetch-Site")
    if fetch_site:
        return fetch_site.lower() not in ("same-origin", "none")
    origin = headers.get("Origin")
    if origin:
        return origin.lower() not in own      # includes "null": a sandboxed or opaque origin
    referer = headers.get("Referer")
    return bool(referer) and origin_of(referer) not in own
