"""How values read on the pages: thousands separators, money with two decimals and its currency, times in UTC."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from backoffice.definitions import LIBRARY
from backoffice.definitions.contract_reader import load_contract
from backoffice.services.display import figure, number, shown, when

SCHEMA = {"type": "object", "properties": {
    "amount": {"type": "number"}, "currency": {"type": "string", "format": "currency"},
    "submitted_at": {"type": "string", "format": "date-time"}, "count": {"type": "integer"},
    "ratio": {"type": "number"},
    "items": {"type": "array", "items": {"type": "object", "properties": {
        "quantity": {"type": "integer"}, "unit_price": {"type": "number"}}}}}}


def test_money_has_two_decimals_thousands_separators_and_the_records_currency():
    data = {"amount": 24500.0, "currency": "EUR", "count": 12000, "ratio": 1234.5,
            "items": [{"quantity": 3, "unit_price": 1500}]}
    assert shown(data, SCHEMA) == {"amount": "24,500.00 EUR", "currency": "EUR", "count": "12,000",
                                   "ratio": "1,234.5", "items": [{"quantity": "3", "unit_price": "1,500.00 EUR"}]}
    assert shown({"amount": 24500.0}, SCHEMA) == {"amount": "24,500.00"}  # no currency in the data: none made up


def test_date_times_read_in_utc_to_the_minute_and_other_values_stay():
    assert shown({"submitted_at": "2026-11-18T09:45:12+01:00"}, SCHEMA) == {"submitted_at": "2026-11-18 08:45 UTC"}
    # Without a schema, an ISO text with a time is a time; a date or any other text is left alone.
    assert shown({"at": "2026-11-18T08:45:00Z", "on": "2026-11-18", "note": "ok", "paid": True, "po": None}) == {
        "at": "2026-11-18 08:45 UTC", "on": "2026-11-18", "note": "ok", "paid": True, "po": None}
    assert when(datetime(2026, 11, 18, 9, 45, tzinfo=timezone(timedelta(hours=1)))) == "2026-11-18 08:45 UTC"
    assert number(0.125) == "0.125" and number(1e6, whole=True) == "1,000,000"


def test_a_card_figure_is_the_first_amount_with_its_currency():
    assert figure({"request_id": "PR-000001", "amount": 24500.0, "currency": "EUR"}, SCHEMA) == "24,500.00 EUR"
    assert figure({"request_id": "PR-000001"}, SCHEMA) == ""


def test_the_purchase_request_contract_reads_as_the_pages_show_it():
    schema = load_contract(LIBRARY / "contracts" / "purchase-request.v1.yaml").json_schema()
    data = {"request_id": "PR-000042", "submitted_at": "2026-11-18T08:45:00Z", "currency": "EUR", "amount": 24500.0,
            "items": [{"description": "Laptops", "quantity": 10, "unit_price": 2450.0}]}
    assert shown(data, schema) == {
        "request_id": "PR-000042", "submitted_at": "2026-11-18 08:45 UTC", "currency": "EUR", "amount": "24,500.00 EUR",
        "items": [{"description": "Laptops", "quantity": "10", "unit_price": "2,450.00 EUR"}]}
