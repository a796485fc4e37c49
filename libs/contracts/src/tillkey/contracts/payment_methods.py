"""The payment methods every service agrees on (orders validates checkout against this list)."""

PAYMENT_METHODS = (
    {"method": "card", "kind": "online", "name": "Credit or debit card"},
    {"method": "bank_transfer", "kind": "offline", "name": "Bank transfer"},
)

PAYMENT_METHOD_CODES = tuple(m["method"] for m in PAYMENT_METHODS)
