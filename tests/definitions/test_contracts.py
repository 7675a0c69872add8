"""Data contracts: reading contract files (every mistake with its line and column) and validating payloads."""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from backoffice.definitions.contract_reader import load_contract, parse_contract
from backoffice.definitions.contracts import (Contract, FieldType, QualityKind, TextFormat, Version, ViolationKind,
                                              validate_batch)
from backoffice.errors import ContractFileError, InvalidContract, UserError

LIBRARY = Path(__file__).resolve().parents[2] / "src" / "backoffice" / "definitions" / "library" / "contracts"

INVOICE = {
    "name": "supplier-invoice",
    "version": "1.0.0",
    "description": "An invoice a supplier sends us.",
    "producer": "ap-capture",
    "consumers": ["three-way-match", "payments"],
    "freshness": "24h",
    "schema": {
        "invoice_id": {"type": "string", "required": True, "pattern": "^INV-[0-9]{6}$"},
        "supplier": {"type": "object", "required": True, "fields": {
            "id": {"type": "string", "required": True},
            "name": {"type": "string"},
            "email": {"type": "string", "format": "email"},
            "iban": {"type": "string", "format": "iban"},
        }},
        "invoice_date": {"type": "date", "required": True},
        "received_at": {"type": "datetime"},
        "currency": {"type": "string", "format": "currency", "required": True},
        "total": {"type": "number", "required": True, "minimum": 0, "maximum": 1000000},
        "status": {"type": "string", "enum": ["received", "matched", "paid"]},
        "paid": {"type": "boolean"},
        "note": {"type": "string", "nullable": True, "max_length": 10},
        "reference": {"type": "string", "min_length": 3},
        "attachment": {"type": "string", "format": "uri"},
        "tracking": {"type": "string", "format": "uuid"},
        "lines": {"type": "array", "min_items": 1, "max_items": 3, "items": {"type": "object", "fields": {
            "quantity": {"type": "integer", "required": True, "minimum": 1},
            "amount": {"type": "number", "required": True},
            "sku": {"type": "string"},
        }}},
    },
    "quality": [{"unique": "invoice_id"}, {"unique": ["supplier.id", "reference"]}, {"not_null": ["lines.sku"]}],
    "change": {"approvers": ["ap-process-owner"], "breaking_approvers": ["data-governance"], "notice": "30d"},
}

CONTRACT_HEAD = "name: demo\nversion: 1.0.0\ndescription: A demo.\nproducer: me\n"

GOOD = {
    "invoice_id": "INV-000001",
    "supplier": {"id": "SUP-1", "name": "Acme", "email": "ap@acme.example", "iban": "GB82WEST12345698765432"},
    "invoice_date": "2024-03-01",
    "received_at": "2024-03-01T09:30:00+01:00",
    "currency": "EUR",
    "total": 121.5,
    "status": "received",
    "paid": False,
    "note": None,
    "reference": "A-17",
    "attachment": "https://files.example/invoices/1.pdf",
    "tracking": "123e4567-e89b-12d3-a456-426614174000",
    "lines": [{"quantity": 2, "amount": 121.5, "sku": "P-1"}],
}


@pytest.fixture
def contract(tmp_path) -> Contract:
    path = tmp_path / "supplier-invoice.v1.yaml"
    path.write_text(yaml.safe_dump(INVOICE, sort_keys=False))
    return load_contract(path)


def with_changes(**changes) -> dict:
    payload = copy.deepcopy(GOOD)
    payload.update(changes)
    return payload


def problem_of(text: str, tmp_path: Path) -> ContractFileError:
    path = tmp_path / "contract.yaml"
    path.write_text(text)
    with pytest.raises(ContractFileError) as caught:
        load_contract(path)
    return caught.value


# --- reading a contract ---

def test_a_contract_file_gives_its_id_owners_and_fields(contract):
    assert contract.id == "supplier-invoice.v1" and contract.version == Version(1, 0, 0)
    assert contract.producer == "ap-capture" and contract.consumers == ("three-way-match", "payments")
    assert contract.freshness == timedelta(hours=24) and contract.change.notice == timedelta(days=30)
    assert contract.change.approvers == ("ap-process-owner",)
    assert contract.paths["supplier.iban"].format is TextFormat.IBAN
    assert contract.paths["lines[]"].type is FieldType.OBJECT and contract.paths["lines.quantity"].minimum == 1
    assert [rule.kind for rule in contract.quality] == [QualityKind.UNIQUE, QualityKind.UNIQUE, QualityKind.NOT_NULL]


def test_the_json_schema_is_valid_draft_2020_12(contract):
    schema = contract.json_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["invoice_id", "supplier", "invoice_date", "currency", "total"]
    assert schema["properties"]["invoice_date"] == {"type": "string", "format": "date"}
    assert schema["properties"]["note"]["type"] == ["string", "null"]
    assert schema["properties"]["lines"]["items"]["required"] == ["quantity", "amount"]


@pytest.mark.parametrize("name", sorted(path.name for path in LIBRARY.glob("*.yaml")))
def test_every_library_contract_is_valid(name):
    contract = load_contract(LIBRARY / name)
    assert name == f"{contract.id}.yaml"
    Draft202012Validator.check_schema(contract.json_schema())


def test_the_library_holds_the_supplier_invoice_contract():
    contract = load_contract(LIBRARY / "supplier-invoice.v1.yaml")
    assert {"invoice_id", "purchase_order", "lines.quantity", "lines.unit_price"} <= set(contract.paths)


def test_a_missing_contract_file_is_a_user_error(tmp_path):
    with pytest.raises(ContractFileError, match="no such file") as caught:
        load_contract(tmp_path / "missing.yaml")
    assert isinstance(caught.value, UserError) and caught.value.exit_code == 2


def test_yaml_syntax_error_names_line_and_column(tmp_path):
    error = problem_of("name: supplier-invoice\nschema:\n  id: {type: string\n", tmp_path)
    assert error.line == 4 and error.column == 1 and "not valid YAML" in str(error)
    assert str(error).startswith(f"{tmp_path / 'contract.yaml'}, line 4, column 1:")


def test_a_duplicate_key_names_its_line(tmp_path):
    error = problem_of("name: a\nname: b\n", tmp_path)
    assert error.line == 2 and "duplicate key" in error.problem


def test_an_unknown_key_suggests_the_closest(tmp_path):
    text = yaml.safe_dump(INVOICE, sort_keys=False).replace("producer:", "produser:")
    error = problem_of(text, tmp_path)
    assert isinstance(error, InvalidContract)  # the unknown key, and the missing producer
    unknown = error.problems[0]
    assert unknown.line == 4 and unknown.column == 1
    assert "unknown key 'produser' (did you mean 'producer'?)" in unknown.message
    assert "missing key 'producer'" in error.problems[1].message


def test_an_unknown_field_option_suggests_the_closest(tmp_path):
    error = problem_of(CONTRACT_HEAD + "schema:\n  id: {type: string, requried: true}\n", tmp_path)
    assert (error.line, error.column) == (6, 22) and error.key == "schema.id"
    assert "did you mean 'required'?" in error.message


def test_an_unknown_field_type_names_its_position(tmp_path):
    error = problem_of(CONTRACT_HEAD + "schema:\n  amount:\n    type: decimal\n", tmp_path)
    assert (error.line, error.column) == (7, 11) and "unknown type 'decimal'" in error.message
    assert "one of string, integer, number, boolean, date, datetime, object, array" in error.message


def test_a_misspelt_type_suggests_the_closest(tmp_path):
    error = problem_of(CONTRACT_HEAD + "schema:\n  amount: {type: intger}\n", tmp_path)
    assert "did you mean 'integer'?" in error.message


def test_an_unknown_format_names_its_position(tmp_path):
    error = problem_of(CONTRACT_HEAD + "schema:\n  email: {type: string, format: e-mail}\n", tmp_path)
    assert (error.line, error.column) == (6, 33) and "unknown format 'e-mail' (did you mean 'email'?)" in error.message


def test_an_option_that_does_not_fit_the_type_is_refused(tmp_path):
    error = problem_of(CONTRACT_HEAD + "schema:\n  count: {type: integer, pattern: '^[0-9]+$'}\n", tmp_path)
    assert error.line == 6 and "'pattern' does not apply to a integer field" in error.message


def test_a_wrong_value_type_names_its_position(tmp_path):
    error = problem_of(CONTRACT_HEAD + "schema:\n  total: {type: number, minimum: zero}\n", tmp_path)
    assert (error.line, error.column) == (6, 34) and "got 'zero'; expected a finite number" in error.message


def test_a_required_flag_that_is_not_a_boolean_is_refused(tmp_path):
    error = problem_of(CONTRACT_HEAD + "schema:\n  id: {type: string, required: yes}\n", tmp_path)
    assert "expected true or false" in error.message


def test_a_bad_version_is_refused(tmp_path):
    error = problem_of(CONTRACT_HEAD.replace("1.0.0", "1.0") + "schema:\n  id: {type: string}\n", tmp_path)
    assert (error.line, error.column) == (2, 10) and "MAJOR.MINOR.PATCH" in error.message


def test_a_name_that_is_not_kebab_case_is_refused(tmp_path):
    error = problem_of(CONTRACT_HEAD.replace("demo", "Supplier Invoice") + "schema:\n  id: {type: string}\n", tmp_path)
    assert error.line == 1 and "kebab-case" in error.message


def test_a_bad_duration_is_refused(tmp_path):
    error = problem_of(CONTRACT_HEAD + "freshness: daily\nschema:\n  id: {type: string}\n", tmp_path)
    assert (error.line, error.column) == (5, 12) and "a duration such as 30m, 24h, 2d or 1w" in error.message


def test_a_bad_pattern_is_refused(tmp_path):
    error = problem_of(CONTRACT_HEAD + "schema:\n  id: {type: string, pattern: '^(INV'}\n", tmp_path)
    assert error.line == 6 and "not a regular expression" in error.message


def test_an_enum_value_of_the_wrong_type_names_its_item(tmp_path):
    error = problem_of(CONTRACT_HEAD + "schema:\n  status:\n    type: string\n    enum: [open, 2, open]\n",
                       tmp_path)
    assert isinstance(error, InvalidContract)
    assert [(problem.line, problem.column) for problem in error.problems] == [(8, 18), (8, 21)]
    assert "expected a string value" in error.problems[0].message and "listed twice" in error.problems[1].message


def test_a_minimum_above_the_maximum_is_refused(tmp_path):
    error = problem_of(CONTRACT_HEAD + "schema:\n  total: {type: number, minimum: 10, maximum: 1}\n", tmp_path)
    assert "1 is below minimum 10" in error.message


def test_a_quality_rule_on_an_unknown_field_suggests_the_closest(tmp_path):
    error = problem_of(CONTRACT_HEAD + "schema:\n  invoice_id: {type: string}\nquality:\n  - unique: invoice\n",
                       tmp_path)
    assert (error.line, error.column) == (8, 13)
    assert "no field 'invoice' in the schema (did you mean 'invoice_id'?)" in error.message


def test_unique_inside_an_array_is_refused(tmp_path):
    text = CONTRACT_HEAD + ("schema:\n  lines:\n    type: array\n"
                            "    items: {type: object, fields: {sku: {type: string}}}\n"
                            "quality:\n  - unique: lines.sku\n")
    assert "inside an array" in problem_of(text, tmp_path).message


def test_a_field_written_as_a_bare_type_shows_the_expected_shape(tmp_path):
    error = problem_of(CONTRACT_HEAD + "schema:\n  amount: number\n", tmp_path)
    assert (error.line, error.column) == (6, 11) and "expected a field such as {type: string" in error.message


def test_a_limit_that_is_not_a_finite_number_is_refused(tmp_path):
    error = problem_of(CONTRACT_HEAD + "schema:\n  total: {type: number, maximum: .inf}\n", tmp_path)
    assert "expected a finite number" in error.message


def test_a_quality_rule_naming_no_field_is_refused(tmp_path):
    error = problem_of(CONTRACT_HEAD + "schema:\n  id: {type: string}\nquality:\n  - unique: []\n", tmp_path)
    assert error.line == 8 and "no field named" in error.message


def test_all_mistakes_are_reported_in_one_reading(tmp_path):
    error = problem_of("name: demo\nversion: one\nproducer: 7\nschema:\n  a: {type: strin}\n  b: {type: number, "
                       "minimum: x}\n", tmp_path)
    assert isinstance(error, InvalidContract)
    assert [problem.line for problem in error.problems] == [1, 2, 3, 5, 6]
    assert len(str(error).splitlines()) == 6


def test_an_empty_file_is_refused(tmp_path):
    assert "the file is empty" in problem_of("# nothing yet\n", tmp_path).message


def test_a_contract_that_is_a_list_is_refused(tmp_path):
    error = problem_of("- name: demo\n", tmp_path)
    assert "expected a mapping of keys to values" in error.message


def test_parse_contract_reads_text():
    contract = parse_contract(CONTRACT_HEAD + "schema:\n  id: {type: string}\n", path="inline.yaml")
    assert contract.id == "demo.v1" and contract.source == Path("inline.yaml")


# --- validating payloads: one test per kind of violation ---

def test_a_conforming_payload_has_no_violations(contract):
    assert contract.validate(GOOD) == []


def kinds(violations) -> list[tuple[str, ViolationKind]]:
    return [(violation.path, violation.kind) for violation in violations]


def test_a_missing_required_field_is_named_by_its_path(contract):
    payload = with_changes(supplier={"name": "Acme"})
    del payload["currency"]
    violations = contract.validate(payload)
    assert kinds(violations) == [("$.supplier.id", ViolationKind.REQUIRED), ("$.currency", ViolationKind.REQUIRED)]
    assert str(violations[0]) == "$.supplier.id: expected this required field"


def test_a_value_of_the_wrong_type(contract):
    (violation,) = contract.validate(with_changes(total="121.50"))
    assert (violation.path, violation.kind, violation.value) == ("$.total", ViolationKind.TYPE, "121.50")
    assert str(violation) == '$.total: expected a number, got "121.50"'


def test_null_where_null_is_not_allowed_and_allowed_where_nullable(contract):
    assert kinds(contract.validate(with_changes(status=None))) == [("$.status", ViolationKind.TYPE)]
    assert contract.validate(with_changes(note=None)) == []


def test_a_value_outside_the_allowed_list(contract):
    (violation,) = contract.validate(with_changes(status="pending"))
    assert violation.kind is ViolationKind.ENUM
    assert violation.message == 'expected one of "received", "matched", "paid"'


@pytest.mark.parametrize(("field", "value", "kind"), [
    ("total", -1, ViolationKind.MINIMUM),
    ("total", 1000000.01, ViolationKind.MAXIMUM),
    ("reference", "AB", ViolationKind.MIN_LENGTH),
    ("note", "far too long", ViolationKind.MAX_LENGTH),
    ("invoice_id", "INV-1", ViolationKind.PATTERN),
    ("lines", [], ViolationKind.MIN_ITEMS),
    ("lines", [{"quantity": 1, "amount": 1, "sku": "x"}] * 4, ViolationKind.MAX_ITEMS),
])
def test_a_value_beyond_a_limit(contract, field, value, kind):
    (violation,) = contract.validate(with_changes(**{field: value}))
    assert (violation.path, violation.kind, violation.value) == (f"$.{field}", kind, value)


@pytest.mark.parametrize(("field", "bad"), [
    ("invoice_date", "2024-02-30"), ("invoice_date", "01/03/2024"),
    ("received_at", "2024-03-01T09:30:00"), ("received_at", "2024-03-01"),
    ("currency", "EURO"), ("currency", "eur"), ("currency", "XXX"),
    ("attachment", "not a uri"), ("tracking", "1234"),
])
def test_a_value_in_the_wrong_format(contract, field, bad):
    (violation,) = contract.validate(with_changes(**{field: bad}))
    assert (violation.path, violation.kind, violation.value) == (f"$.{field}", ViolationKind.FORMAT, bad)


@pytest.mark.parametrize(("field", "bad"), [
    ("email", "ap@acme"), ("email", "ap acme@x.org"),
    ("iban", "GB82WEST12345698765431"), ("iban", "GB82 WEST 1234 5698 7654 32"),
])
def test_a_nested_value_in_the_wrong_format(contract, field, bad):
    (violation,) = contract.validate(with_changes(supplier={"id": "SUP-1", field: bad}))
    assert (violation.path, violation.kind) == (f"$.supplier.{field}", ViolationKind.FORMAT)


def test_valid_formats_pass(contract):
    payload = with_changes(received_at="2024-03-01T08:30:00.123Z", currency="JPY", attachment="urn:isbn:0451450523",
                           supplier={"id": "S", "iban": "DE89370400440532013000", "email": "a.b+c@d.example.org"})
    assert contract.validate(payload) == []


def test_a_violation_inside_an_array_names_the_item(contract):
    payload = with_changes(lines=[{"quantity": 1, "amount": 1, "sku": "a"}, {"quantity": 0, "amount": 2, "sku": "b"},
                                  {"amount": 3, "sku": "c"}])
    violations = contract.validate(payload)
    assert kinds(violations) == [("$.lines[1].quantity", ViolationKind.MINIMUM),
                                 ("$.lines[2].quantity", ViolationKind.REQUIRED)]


def test_not_null_refuses_null_blank_and_absent_values(contract):
    payload = with_changes(lines=[{"quantity": 1, "amount": 1, "sku": " "}, {"quantity": 1, "amount": 1}])
    violations = contract.validate(payload)
    assert kinds(violations) == [("$.lines[0].sku", ViolationKind.NOT_NULL), ("$.lines[1].sku", ViolationKind.NOT_NULL)]
    assert str(violations[1]) == "$.lines[1].sku: expected a value (not null, not blank)"


def test_a_null_the_schema_refuses_is_reported_once(contract):
    payload = with_changes(lines=[{"quantity": 1, "amount": 1, "sku": None}])
    assert kinds(contract.validate(payload)) == [("$.lines[0].sku", ViolationKind.TYPE)]


def test_unknown_fields_are_refused_when_the_contract_says_so(tmp_path):
    strict = dict(INVOICE, additional_fields=False)
    path = tmp_path / "strict.yaml"
    path.write_text(yaml.safe_dump(strict, sort_keys=False))
    (violation,) = load_contract(path).validate(with_changes(totl=3))
    assert (violation.path, violation.kind) == ("$.totl", ViolationKind.UNKNOWN_FIELD)
    assert "did you mean 'total'?" in violation.message


def test_unknown_fields_pass_by_default(contract):
    assert contract.validate(with_changes(extra={"anything": 1})) == []


def test_a_payload_that_is_not_an_object(contract):
    assert kinds(contract.validate([1, 2])) == [("$", ViolationKind.TYPE)]


def test_violations_follow_the_order_of_the_payload(contract):
    payload = with_changes(total=-5, invoice_id="bad", currency="EURO")
    assert [violation.path for violation in contract.validate(payload)] == ["$.invoice_id", "$.currency", "$.total"]


def test_keys_that_are_not_identifiers_are_quoted_in_the_path(tmp_path):
    contract = parse_contract(CONTRACT_HEAD + "additional_fields: false\nschema:\n  id: {type: string}\n")
    (violation,) = contract.validate({"id": "1", "odd key": 1})
    assert violation.path == '$["odd key"]'


# --- batches ---

def test_a_repeated_unique_key_in_a_batch_points_at_the_first(contract):
    second = with_changes(reference="B-1")
    third = with_changes(invoice_id="INV-000003", reference="B-2")
    violations = validate_batch(contract, [GOOD, second, third])
    (violation,) = violations
    assert (violation.index, violation.duplicate_of, violation.kind) == (1, 0, ViolationKind.UNIQUE)
    assert (violation.path, violation.value) == ("$.invoice_id", "INV-000001")


def test_a_repeated_composite_key_in_a_batch(contract):
    other = with_changes(invoice_id="INV-000002")
    (violation,) = validate_batch(contract, [GOOD, other])
    assert violation.path == "$.supplier.id, $.reference" and violation.value == ["SUP-1", "A-17"]


def test_absent_keys_are_not_duplicates(contract):
    first, second = with_changes(), with_changes(invoice_id="INV-000002")
    del first["reference"], second["reference"]
    assert validate_batch(contract, [first, second]) == []


def test_a_batch_with_payloads_that_are_not_objects_reports_their_type(contract):
    violations = validate_batch(contract, [[], "text", GOOD])
    assert [(violation.index, violation.path, violation.kind) for violation in violations] == [
        (0, "$", ViolationKind.TYPE), (1, "$", ViolationKind.TYPE)]


def test_a_batch_reports_each_payloads_violations_with_its_index(contract):
    violations = validate_batch(contract, [GOOD, with_changes(invoice_id="INV-000002", reference="x12", total=-1)])
    assert [(violation.index, violation.path) for violation in violations] == [(1, "$.total")]
