"""ISO 4217 codes and their exponents: how many minor units make one unit of each currency.

Shared because every service that shows or checks an amount needs the same answer (orders
validates prices, notifications formats amounts in emails). A small, explicit table of the active
codes instead of a dependency: the list changes about once a year. Imports nothing, so pure
domain code may use it.
"""
from __future__ import annotations

# Exponents that are not 2. Every other code in CURRENCY_EXPONENTS has 2.
_EXPONENT_0 = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_EXPONENT_3 = "BHD IQD JOD KWD LYD OMR TND"
_EXPONENT_4 = "CLF UYW"
_EXPONENT_2 = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD "
    "CAD CDF CHE CHF CHW CNY COP COU CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL "
    "GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD "
    "LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN "
    "PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL "
    "THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG ZWL"
)

CURRENCY_EXPONENTS: dict[str, int] = {
    **{code: 2 for code in _EXPONENT_2.split()},
    **{code: 0 for code in _EXPONENT_0.split()},
    **{code: 3 for code in _EXPONENT_3.split()},
    **{code: 4 for code in _EXPONENT_4.split()},
}


def is_currency(code: object) -> bool:
    return isinstance(code, str) and code in CURRENCY_EXPONENTS


def exponent(currency: str) -> int:
    """Minor-unit digits of `currency` (KeyError for a code that is not ISO 4217)."""
    return CURRENCY_EXPONENTS[currency]


def format_amount(amount: int, currency: str) -> str:
    """4900 EUR → '49.00 EUR'; 4900 JPY → '4900 JPY' (for pages and emails, never for math)."""
    exp = exponent(currency)
    if exp == 0:
        return f"{amount} {currency}"
    sign = "-" if amount < 0 else ""
    whole, frac = divmod(abs(amount), 10**exp)
    return f"{sign}{whole}.{frac:0{exp}d} {currency}"
