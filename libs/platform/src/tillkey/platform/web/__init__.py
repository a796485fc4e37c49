"""What the customer-facing HTML pages of every service share: one look (CSS and the small
script), language choice and translation, security headers, and the cross-site form check.

The services serve these assets themselves (no CDN, no external fonts): a customer's browser
talks to us and, for the card only, to the gateway.
"""
from tillkey.platform.web.assets import asset_url, assets_blueprint
from tillkey.platform.web.i18n import SUPPORTED_LOCALES, Translator, language_of, negotiate_locale
from tillkey.platform.web.security import cross_site_post, page_headers

__all__ = ["SUPPORTED_LOCALES", "Translator", "asset_url", "assets_blueprint", "cross_site_post",
           "language_of", "negotiate_locale", "page_headers"]
