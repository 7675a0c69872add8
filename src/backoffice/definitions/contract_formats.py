"""Text formats a contract can demand (email, uri, date, date-time, uuid, iban, currency).

Checked by our own code and handed to jsonschema as one FormatChecker, so no optional
jsonschema extra is needed and every check is the one we document.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from urllib.parse import urlsplit

from jsonschema import FormatChecker

_CURRENCIES = frozenset("""
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD
CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP
GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP
LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN
PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS
TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD
XCG XDR XOF XPD XPF XPT XSU XUA YER ZAR ZMW ZWG ZWL
""".split())  # ISO 4217 codes in use; XTS (testing) and XXX (no currency) are left out on purpose
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
FORMATS = FormatChecker(formats=())


def _text_format(name: str):
    # Formats constrain strings only; another type is the `type` keyword's violation, not a second one.
    def register(check):
        FORMATS.checks(name)(lambda value: not isinstance(value, str) or check(value))
        return check
    return register


@_text_format("email")
def _is_email(value: str) -> bool:
    return bool(_EMAIL.fullmatch(value))


@_text_format("uri")
def _is_uri(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return bool(_SCHEME.fullmatch(parts.scheme)) and bool(parts.netloc or parts.path) and value.isprintable() \
        and not any(char.isspace() for char in value)


@_text_format("date")
def _is_date(value: str) -> bool:
    try:
        return bool(_DATE.fullmatch(value)) and bool(date.fromisoformat(value))
    except ValueError:
        return False


@_text_format("date-time")
def _is_date_time(value: str) -> bool:
    try:
        return bool(_DATE_TIME.fullmatch(value)) and bool(datetime.fromisoformat(value.upper()))
    except ValueError:
        return False


@_text_format("uuid")
def _is_uuid(value: str) -> bool:
    return bool(_UUID.fullmatch(value)) and bool(uuid.UUID(value))


@_text_format("iban")
def _is_iban(value: str) -> bool:
    if not _IBAN.fullmatch(value):
        return False
    # ISO 13616: move the country and check digits to the end, letters to numbers (A=10), then mod 97 is 1.
    return int("".join(str(int(char, 36)) for char in value[4:] + value[:4])) % 97 == 1


@_text_format("currency")
def _is_currency(value: str) -> bool:
    return value in _CURRENCIES
