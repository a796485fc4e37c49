import pytest

from tillkey.dashboard.domain.money import InvalidPrice, from_minor_units, parse_currency, to_minor_units


@pytest.mark.parametrize("text, currency, minor", [("49.00", "EUR", 4900), ("49", "EUR", 4900), ("0.5", "EUR", 50),
                                                   ("7800", "JPY", 7800), ("1,299.99", "USD", 129999),
                                                   ("1.234", "BHD", 1234)])
def test_a_typed_price_becomes_minor_units_by_the_currencys_exponent(text, currency, minor):
    assert to_minor_units(text, currency) == minor
    assert to_minor_units(from_minor_units(minor, currency), currency) == minor


@pytest.mark.parametrize("text, currency", [("7.5", "JPY"), ("49.001", "EUR"), ("0", "EUR"), ("-1", "EUR"),
                                            ("abc", "EUR"), ("", "EUR"), ("NaN", "EUR"), ("Infinity", "EUR"),
                                            ("1e20", "EUR")])
def test_a_price_that_is_not_exact_or_not_positive_is_refused_never_rounded(text, currency):
    with pytest.raises(InvalidPrice):
        to_minor_units(text, currency)


def test_currency_codes_are_iso_4217_in_any_case():
    assert parse_currency(" eur ") == "EUR"
    for wrong in ("EURO", "XYZ", "", "€"):
        with pytest.raises(InvalidPrice):
            parse_currency(wrong)
