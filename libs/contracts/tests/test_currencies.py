import pytest

from tillkey.contracts.currencies import exponent, format_amount, is_currency


@pytest.mark.parametrize("amount,currency,text", [(4900, "USD", "49.00 USD"), (5, "EUR", "0.05 EUR"),
                                                  (4900, "JPY", "4900 JPY"), (1234, "KWD", "1.234 KWD"),
                                                  (-150, "EUR", "-1.50 EUR")])
def test_format_amount_uses_the_currency_exponent(amount, currency, text):
    assert format_amount(amount, currency) == text


def test_unknown_codes():
    assert not is_currency("XXX") and not is_currency(None) and is_currency("EUR")
    with pytest.raises(KeyError):
        exponent("XXX")
