"""A content template's form: the input fields it declares (ContentTemplate.fields, JSON written by ops), checked
when ops save a template, and the one validator of what a tenant fills in, used by the content page and the API
alike. Pure functions: no database.

A field is {name, label, type, required, choices, max_length, help}; `type` is one of:
- text: one line; textarea: free text; both with max_length (default 300 and 5,000);
- choice: one of `choices`, a list of [value, label] pairs; the prompt gets the label;
- number: a decimal number, optionally within min and max;
- csv: pasted or uploaded data, parsed with the csv module (comma, semicolon, tab or pipe separated), at most
  CSV_MAX_BYTES, CSV_MAX_ROWS rows and CSV_MAX_COLUMNS columns; the prompt gets it re-written as plain CSV.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from config.errors import DomainError

FIELD_TYPES = ("text", "textarea", "choice", "number", "csv")
DEFAULT_MAX_LENGTH = {"text": 300, "textarea": 5_000}
MAX_LENGTH_CEILING = 20_000
CSV_MAX_BYTES = 100_000
CSV_MAX_ROWS = 1_000
CSV_MAX_COLUMNS = 40
CSV_DELIMITERS = ",;\t|"
NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]{0,39})\}")


class ContentInputsInvalid(DomainError):
    """What a tenant filled in does not fit the template: details.fields.inputs maps each field to its errors,
    as the API's serializer errors are shaped."""

    code = "invalid_request"
    status = 400

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("Some inputs are not valid.", details={"fields": {"inputs": errors}})
        self.errors = errors


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    type: str
    required: bool = True
    choices: tuple[tuple[str, str], ...] = ()
    max_length: int | None = None
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    help: str = ""

    def choice_label(self, value: str) -> str:
        return dict(self.choices).get(value, value)


def field_specs_parse(raw: Any) -> list[FieldSpec]:
    """The template's declared fields, or ValueError with a sentence for ops saying what is wrong."""
    if not isinstance(raw, list) or not raw:
        raise ValueError("Fields must be a non-empty list of field objects.")
    specs, seen = [], set()
    for index, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise ValueError(f"Field {index} is not an object.")
        unknown = set(item) - {"name", "label", "type", "required", "choices", "max_length", "min", "max", "help"}
        if unknown:
            raise ValueError(f"Field {index} has unknown keys: {', '.join(sorted(unknown))}.")
        name, kind = item.get("name"), item.get("type")
        if not isinstance(name, str) or not NAME.match(name):
            raise ValueError(f"Field {index}: name must be lower-case letters, digits and _ (a letter first).")
        if name in seen:
            raise ValueError(f"Field {name} is declared twice.")
        seen.add(name)
        if kind not in FIELD_TYPES:
            raise ValueError(f"Field {name}: type must be one of {', '.join(FIELD_TYPES)}.")
        specs.append(_spec_build(name=name, kind=kind, item=item))
    return specs


def _spec_build(*, name: str, kind: str, item: dict[str, Any]) -> FieldSpec:
    choices: tuple[tuple[str, str], ...] = ()
    if kind == "choice":
        raw = item.get("choices")
        if (not isinstance(raw, list) or not raw or not all(
                isinstance(pair, list) and len(pair) == 2 and all(isinstance(part, str) and part for part in pair)
                for pair in raw)):
            raise ValueError(f"Field {name}: choices must be a non-empty list of [value, label] pairs.")
        choices = tuple((value, label) for value, label in raw)
    max_length = item.get("max_length", DEFAULT_MAX_LENGTH.get(kind))
    if kind in DEFAULT_MAX_LENGTH and (not isinstance(max_length, int) or not 1 <= max_length <= MAX_LENGTH_CEILING):
        raise ValueError(f"Field {name}: max_length must be a whole number from 1 to {MAX_LENGTH_CEILING}.")
    bounds = [item.get(key) for key in ("min", "max")]
    if any(bound is not None and (isinstance(bound, bool) or not isinstance(bound, (int, float, str)))
           for bound in bounds):
        raise ValueError(f"Field {name}: min and max must be numbers.")
    try:
        min_value, max_value = (Decimal(str(bound)) if bound is not None else None for bound in bounds)
    except InvalidOperation as error:
        raise ValueError(f"Field {name}: min and max must be numbers.") from error
    return FieldSpec(name=name, label=str(item.get("label") or name.replace("_", " ").capitalize())[:120],
                     type=kind, required=bool(item.get("required", True)), choices=choices,
                     max_length=max_length if kind in DEFAULT_MAX_LENGTH else None,
                     min_value=min_value, max_value=max_value, help=str(item.get("help", ""))[:500])


def prompt_placeholders_check(*, specs: list[FieldSpec], texts: list[str]) -> None:
    """Every {placeholder} of the prompts names a declared field (ValueError otherwise), so a typo in a prompt
    is refused when ops save it rather than sent to the model as is."""
    names = {spec.name for spec in specs}
    unknown = sorted({name for text in texts for name in PLACEHOLDER.findall(text)} - names)
    if unknown:
        raise ValueError(f"The prompt names fields the form does not declare: {', '.join(unknown)}.")


def inputs_clean(*, specs: list[FieldSpec], raw: Any) -> dict[str, str]:
    """What a tenant filled in, cleaned: every value a string (choices as their value, numbers normalised, CSV
    re-written), optional fields left empty omitted. Raises ContentInputsInvalid with every field's errors."""
    if not isinstance(raw, dict):
        raise ContentInputsInvalid({"non_field_errors": ["Send the inputs as an object of field names to values."]})
    errors: dict[str, list[str]] = {name: ["Unknown field."] for name in sorted(set(raw) - {s.name for s in specs})}
    cleaned: dict[str, str] = {}
    for spec in specs:
        value = raw.get(spec.name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if spec.required:
                errors[spec.name] = ["This field is required."]
            continue
        try:
            cleaned[spec.name] = _value_clean(spec, value)
        except ValueError as error:
            errors[spec.name] = [str(error)]
    if errors:
        raise ContentInputsInvalid(errors)
    return cleaned


def _value_clean(spec: FieldSpec, value: Any) -> str:
    if spec.type == "number":
        return _number_clean(spec, value)
    if not isinstance(value, str):
        raise ValueError("Must be text.")
    if "\x00" in value:
        raise ValueError("Must not contain NUL characters.")
    if spec.type == "choice":
        if value not in dict(spec.choices):
            raise ValueError(f"Choose one of: {', '.join(value for value, _ in spec.choices)}.")
        return value
    if spec.type == "csv":
        return csv_clean(value)
    value = value.strip()
    if spec.max_length is not None and len(value) > spec.max_length:
        raise ValueError(f"At most {spec.max_length:,} characters (this has {len(value):,}).")
    return value


def _number_clean(spec: FieldSpec, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError("Must be a number.")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation as error:
        raise ValueError("Must be a number.") from error
    if not number.is_finite() or abs(number) >= Decimal(10) ** 15:
        raise ValueError("Must be a finite number below a quadrillion.")
    if spec.min_value is not None and number < spec.min_value:
        raise ValueError(f"Must be at least {spec.min_value}.")
    if spec.max_value is not None and number > spec.max_value:
        raise ValueError(f"Must be at most {spec.max_value}.")
    return format(number.normalize(), "f")


def csv_clean(text: str) -> str:
    """Pasted or uploaded tabular data as plain comma-separated CSV, or ValueError: too large, ragged beyond
    repair, or not tabular. The separator is sniffed among comma, semicolon, tab and pipe."""
    if len(text.encode()) > CSV_MAX_BYTES:
        raise ValueError(f"The data is larger than {CSV_MAX_BYTES // 1000} KB.")
    text = text.strip().replace("\r\n", "\n").replace("\r", "\n")
    try:
        dialect = csv.Sniffer().sniff(text[:5_000], delimiters=CSV_DELIMITERS)
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","  # one column, or commas the sniffer could not be sure of
    try:
        rows = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter, strict=True) if any(row)]
    except csv.Error as error:
        raise ValueError(f"The data could not be read as CSV: {error}.") from error
    if not rows:
        raise ValueError("The data has no rows.")
    if len(rows) > CSV_MAX_ROWS:
        raise ValueError(f"At most {CSV_MAX_ROWS:,} rows (this has {len(rows):,}).")
    width = max(len(row) for row in rows)
    if width > CSV_MAX_COLUMNS:
        raise ValueError(f"At most {CSV_MAX_COLUMNS} columns (this has {width}).")
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().rstrip("\n")


def prompt_render(*, text: str, specs: list[FieldSpec], inputs: dict[str, str]) -> str:
    """The prompt with each {field} replaced by the cleaned input (a choice by its label; an empty optional
    field by "(not given)"). Only declared names are replaced, in one pass: braces in the prompt or in the
    inputs (code, JSON) stay as they are, and an input is never read as a placeholder."""
    by_name = {spec.name: spec for spec in specs}

    def value(match: re.Match) -> str:
        spec = by_name.get(match.group(1))
        if spec is None:
            return match.group(0)
        given = inputs.get(spec.name, "")
        if not given:
            return "(not given)"
        return spec.choice_label(given) if spec.type == "choice" else given

    return PLACEHOLDER.sub(value, text)
