"""The checkout page `/checkout/{cart_id}` (docs/architecture.md §2.1): server-rendered, works without JavaScript.

One form holds the whole page, so whatever the customer typed comes back with every post (a
quantity change, a coupon, a failed Continue) and is shown again: nothing typed is lost. Each
button names its action; the view only turns the form into the existing cart and checkout
commands. The cart id in the path is the secret that opens the cart; posts must also come from
our own page (browser-reported origin) and carry the page's form token.
"""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, redirect, request
from markupsafe import Markup
from marshmallow import ValidationError

from tillkey.contracts import PAYMENT_METHODS
from tillkey.orders.entrypoints import schemas as s
from tillkey.orders.entrypoints.common import run, settings
from tillkey.orders.entrypoints.page_support import (
    countries,
    country_from_browser,
    error_page,
    language_links,
    own_urls,
    page_locale,
    render_page,
    translator,
)
from tillkey.orders.service_layer.carts import GetCheckoutPage, UpdateCart, UpdateCartLine
from tillkey.orders.service_layer.checkout import Checkout, CustomerInput, GetPaymentUrl
from tillkey.platform.credentials import make_form_token, verify_form_token
from tillkey.platform.problems import ApiError, flatten_errors
from tillkey.platform.rate_limits import client_address, path_value, rate_limited
from tillkey.platform.web import cross_site_post

bp = Blueprint("checkout_page", __name__, template_folder="templates")

CUSTOMER_FIELDS = ("email", "first_name", "last_name", "country", "company", "vat_id")
CONSENTS = ("terms", "personal_data")
METHOD_NOTES = {"card": "Pay now with Visa, Mastercard or another card.",
                "bank_transfer": "Get our bank details; your order is delivered when the money arrives."}
# What the customer reads for a field the API would reject; the API's wording is for developers.
FIELD_MESSAGES = {
    "email": "Enter a valid email address, like name@example.com.",
    "first_name": "Enter your first name.",
    "last_name": "Enter your last name.",
    "country": "Select your country.",
    "company": "The company name is too long (200 characters at most).",
    "vat_id": "The VAT ID is too long (32 characters at most).",
    "payment_method": "Choose a payment method.",
    "terms": "Please accept the terms of sale to continue.",
    "personal_data": "Please agree to the processing of your personal data to continue.",
    "quantity": "Enter a quantity from 1 to 1000.",
}
# The cart's refusals by code, in the customer's words (translated like every other text).
CODE_MESSAGES = {
    "coupon_unknown": "This coupon code does not exist.",
    "coupon_inactive": "This coupon is no longer active.",
    "coupon_expired": "This coupon has expired.",
    "coupon_exhausted": "This coupon has been used up.",
    "coupon_currency": "This coupon cannot be used in this currency.",
    "coupon_unusable": "The coupon can no longer be used. Remove it to continue.",
}


class PageError(Exception):
    """Field → message: shown next to the fields, the form as typed."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


@bp.get("/checkout/<cart_id>")
def show(cart_id):
    cart = run(GetCheckoutPage(cart_id))
    locale = page_locale(cart.get("locale"))
    if cart["status"] != "open" and cart["order_id"]:
        return redirect(_payment_url(cart["order_id"], locale), code=303)
    form = {"email": cart.get("email") or "", "country": country_from_browser() or ""}
    return _render(cart, locale, form, {})


@bp.post("/checkout/<cart_id>")
@rate_limited(("per_address", client_address), ("checkouts_per_cart", path_value("cart_id")),
              counts=lambda _: request.form.get("action") == "checkout")  # not "update quantity"
def submit(cart_id):
    if cross_site_post(request.headers, own_urls()):
        raise ApiError(403, "This form was sent from another site.", code="forbidden")
    cart = run(GetCheckoutPage(cart_id))
    locale = page_locale(request.form.get("locale"), cart.get("locale"))
    if not verify_form_token(settings().platform_secret, cart_id, request.form.get("form_token", "")):
        raise ApiError(403, translator(locale)("This page has expired. Go back, reload it and try again."),
                       code="forbidden")
    if cart["status"] != "open" and cart["order_id"]:
        return redirect(_payment_url(cart["order_id"], locale), code=303)
    form = {k: v.strip() for k, v in request.form.items() if k not in ("form_token", "action")}
    action = request.form.get("action", "update")
    t = translator(locale)
    try:
        if action == "checkout":
            placed = _checkout(cart, form, locale)
            return redirect(f"{placed['payment_url']}&locale={quote(locale)}", code=303)
        cart, notice = _change_cart(cart, form, action)
        # The cart changed: show what it is now, not the numbers the customer typed before.
        form = {k: v for k, v in form.items() if not k.startswith("qty.")}
        return _render(cart, locale, form, {}, notice=t(notice) if notice else None)
    except PageError as exc:
        cart = run(GetCheckoutPage(cart_id))
        if cart["status"] != "open" and cart["order_id"]:
            return redirect(_payment_url(cart["order_id"], locale), code=303)
        return _render(cart, locale, form, {k: t(v) for k, v in exc.errors.items()}, status=422)


def _change_cart(cart: dict, form: dict, action: str) -> tuple[dict, str | None]:
    cart_id = cart["cart_id"]
    if action.startswith("remove:"):
        line_id = action.split(":", 1)[1]
        if any(line["line_id"] == line_id for line in cart["lines"]):   # twice (a reload) is no error
            _cart_command(UpdateCartLine(cart_id, line_id, 0), "qty." + line_id)
        return run(GetCheckoutPage(cart_id)), "The product was removed."
    if action == "remove_coupon":
        _cart_command(UpdateCart(cart_id, coupon=None), "coupon")
        return run(GetCheckoutPage(cart_id)), "The coupon was removed."
    notice = None
    changed = _apply_quantities(cart, form)
    code = form.get("coupon", "")
    if action == "apply_coupon" and not code:
        raise PageError({"coupon": "Enter a coupon code."})
    if code and code.casefold() != (cart.get("coupon") or "").casefold():
        _cart_command(UpdateCart(cart_id, coupon=code), "coupon")
        form.pop("coupon", None)
        notice = "The coupon was applied."
    elif changed:
        notice = "Your cart was updated."
    return run(GetCheckoutPage(cart_id)), notice


def _apply_quantities(cart: dict, form: dict) -> bool:
    """Every quantity field that differs from the cart; all are checked before any is saved."""
    wanted, errors = {}, {}
    for line in cart["lines"]:
        name = "qty." + line["line_id"]
        raw = form.get(name)
        if raw is None or raw == str(line["quantity"]):
            continue
        # isdecimal, not isdigit: "²" is a digit that int() refuses (a 500 before).
        if not raw.isdecimal() or not 1 <= int(raw) <= 1000:
            errors[name] = FIELD_MESSAGES["quantity"]
        else:
            wanted[line["line_id"]] = int(raw)
    if errors:
        raise PageError(errors)
    for line_id, quantity in wanted.items():
        _cart_command(UpdateCartLine(cart["cart_id"], line_id, quantity), "qty." + line_id)
    return bool(wanted)


def _cart_command(command, field: str):
    try:
        return run(command)
    except ApiError as exc:
        if exc.status == 409:   # checked out meanwhile (another tab): the caller redirects
            raise PageError({}) from None
        if exc.status in (404, 422):
            raise PageError({field: CODE_MESSAGES.get(exc.code, exc.detail)}) from None
        raise


def _checkout(cart: dict, form: dict, locale: str) -> dict:
    """Check every field first (nothing changes on a typo), then the quantities, then the order."""
    body = {
        "customer": {**{k: form.get(k, "") for k in CUSTOMER_FIELDS[:4]},
                     **{k: form.get(k) or None for k in CUSTOMER_FIELDS[4:]}, "locale": locale},
        "payment_method": form.get("payment_method", ""),
        "consents": {name: form.get(name) == "yes" for name in CONSENTS},
    }
    try:
        data = s.CheckoutIn().load(body)
    except ValidationError as exc:
        raise PageError({_form_field(path): FIELD_MESSAGES.get(_form_field(path), " ".join(messages))
                         for path, messages in flatten_errors(exc.messages).items()}) from None
    _apply_quantities(cart, form)
    consents = data["consents"]
    try:
        return run(Checkout(cart["cart_id"], CustomerInput(**data["customer"]), data["payment_method"],
                              terms_accepted=consents["terms"], personal_data_accepted=consents["personal_data"]))
    except ApiError as exc:
        if exc.status == 409:
            raise PageError({}) from None
        if exc.status != 422:
            raise
        fields_ = [_form_field(f) for f in (exc.errors or {})] or ["_cart"]
        raise PageError({f: CODE_MESSAGES.get(exc.code) or FIELD_MESSAGES.get(f, exc.detail)
                         for f in fields_}) from None


def _form_field(path: str) -> str:
    """`customer.email` → `email`, `consents.terms` → `terms`: the form's names."""
    return path.split(".", 1)[1] if path.startswith(("customer.", "consents.")) else path


def _payment_url(order_id: str, locale: str) -> str:
    """Payments' page for the order, told the language the customer chose here."""
    return f"{run(GetPaymentUrl(order_id))}&locale={quote(locale)}"


def _link(url: str, text: str) -> Markup:
    """A new tab: the customer reads the terms without losing what they typed here."""
    return Markup('<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>').format(url, text)


def _consents(cart: dict, t) -> list[tuple[str, str]]:
    """The two consent labels, each linking to the merchant's page when it has set one. Our own
    wording is trusted markup; the merchant's name and URLs are escaped by Markup.format."""
    merchant = cart.get("merchant_name") or t("the seller")
    terms_url, privacy_url = cart.get("merchant_terms_url"), cart.get("merchant_privacy_url")
    terms = (Markup(t("I accept the {terms} of {merchant}.")).format(terms=_link(terms_url, t("terms of sale")),
                                                                    merchant=merchant)
             if terms_url else t("I accept the terms of sale of {merchant}.", merchant=merchant))
    personal = (Markup(t("I agree that my personal data is processed to carry out this order, as the {privacy} "
                         "describes.")).format(privacy=_link(privacy_url, t("privacy notice")))
                if privacy_url else t("I agree that my personal data is processed to carry out this order."))
    return [("terms", terms), ("personal_data", personal)]


def _render(cart: dict, locale: str, form: dict, errors: dict[str, str], status: int = 200,
            notice: str | None = None):
    t = translator(locale)
    consents = _consents(cart, t)
    anchors = {name: f"qty-{name[4:]}" for name in errors if name.startswith("qty.")}
    anchors["_cart"] = "lines"
    return render_page(
        "checkout.html", locale, status, form_targets=(settings().payments_public_url,), referrer="same-origin",
        cart=cart, form=form, errors=errors, anchors=anchors, notice=notice, merchant_name=cart.get("merchant_name"),
        countries=countries(locale), methods=PAYMENT_METHODS, method_notes=METHOD_NOTES, consents=consents,
        form_token=make_form_token(settings().platform_secret, cart["cart_id"]),
        action_url=f"/checkout/{cart['cart_id']}", lang_links=language_links(f"/checkout/{cart['cart_id']}"))


@bp.errorhandler(ApiError)
def _error_page(exc: ApiError):
    return error_page(exc)
