"""A template's declared fields and the one validator of what a tenant fills in (page and API alike)."""

import pytest

from creators.catalog.fields import (
    CSV_MAX_ROWS,
    ContentInputsInvalid,
    csv_clean,
    field_specs_parse,
    inputs_clean,
    prompt_placeholders_check,
    prompt_render,
)
from creators.catalog.models import ContentTemplate

SPECS = field_specs_parse([
    {"name": "topic", "type": "text", "max_length": 10},
    {"name": "tone", "type": "choice", "choices": [["warm", "Warm"], ["dry", "Dry"]]},
    {"name": "notes", "type": "textarea", "required": False},
    {"name": "price", "type": "number", "required": False, "min": 0, "max": 1000},
    {"name": "data", "type": "csv", "required": False},
])


def errors_of(raw) -> dict:
    with pytest.raises(ContentInputsInvalid) as caught:
        inputs_clean(specs=SPECS, raw=raw)
    return caught.value.errors


def test_valid_inputs_are_cleaned_to_strings():
    cleaned = inputs_clean(specs=SPECS, raw={"topic": "  Bread ", "tone": "warm", "price": 12.50, "notes": ""})

    assert cleaned == {"topic": "Bread", "tone": "warm", "price": "12.5"}


def test_every_missing_required_field_is_reported_at_once():
    assert errors_of({}) == {"topic": ["This field is required."], "tone": ["This field is required."]}


def test_a_value_over_its_max_length_is_refused():
    assert errors_of({"topic": "x" * 11, "tone": "warm"}) == {"topic": ["At most 10 characters (this has 11)."]}


def test_a_choice_outside_the_declared_ones_is_refused():
    assert errors_of({"topic": "Bread", "tone": "angry"}) == {"tone": ["Choose one of: warm, dry."]}


def test_an_unknown_field_is_refused():
    assert errors_of({"topic": "Bread", "tone": "warm", "extra": "x"}) == {"extra": ["Unknown field."]}


@pytest.mark.parametrize("value", [True, "abc", "NaN", "1e400", 2000, -1, {"a": 1}])
def test_a_number_field_refuses_what_is_not_a_number_in_range(value):
    assert set(errors_of({"topic": "Bread", "tone": "warm", "price": value})) == {"price"}


@pytest.mark.parametrize("value", [5, ["a"], {"a": "b"}, "a\x00b"])
def test_a_text_field_refuses_non_text_and_nul(value):
    assert set(errors_of({"topic": value, "tone": "warm"})) == {"topic"}


def test_inputs_that_are_not_an_object_are_refused():
    assert errors_of(["topic"]) == {"non_field_errors": ["Send the inputs as an object of field names to values."]}


@pytest.mark.parametrize(("pasted", "expected"), [
    ("month,revenue\nJan,100\nFeb,120", "month,revenue\nJan,100\nFeb,120"),
    ("month;revenue\r\nJan;100\r\nFeb;120\r\n", "month,revenue\nJan,100\nFeb,120"),
    ("month\trevenue\nJan\t100", "month,revenue\nJan,100"),
    ('name,notes\n"Smith, J","said ""hi"""', 'name,notes\n"Smith, J","said ""hi"""'),
    ("one column\nvalue", "one column\nvalue"),
])
def test_csv_is_parsed_with_its_separator_and_rewritten_as_plain_csv(pasted, expected):
    assert csv_clean(pasted) == expected


def test_csv_over_the_row_limit_is_refused():
    with pytest.raises(ValueError, match="rows"):
        csv_clean("a,b\n" + "1,2\n" * CSV_MAX_ROWS)


def test_csv_over_the_size_limit_is_refused():
    with pytest.raises(ValueError, match="larger than"):
        csv_clean("a,b\n" + "x" * 100_001)


def test_csv_with_too_many_columns_is_refused():
    with pytest.raises(ValueError, match="columns"):
        csv_clean(",".join(str(n) for n in range(41)))


@pytest.mark.parametrize(("raw", "message"), [
    ([], "non-empty list"),
    ([{"name": "Topic", "type": "text"}], "lower-case"),
    ([{"name": "a", "type": "text"}, {"name": "a", "type": "text"}], "twice"),
    ([{"name": "a", "type": "date"}], "type must be"),
    ([{"name": "a", "type": "choice", "choices": ["x"]}], "pairs"),
    ([{"name": "a", "type": "text", "max_length": 0}], "max_length"),
    ([{"name": "a", "type": "text", "colour": "red"}], "unknown keys"),
])
def test_a_malformed_field_declaration_is_refused_with_a_reason(raw, message):
    with pytest.raises(ValueError, match=message):
        field_specs_parse(raw)


def test_a_prompt_naming_an_undeclared_field_is_refused():
    with pytest.raises(ValueError, match="topc"):
        prompt_placeholders_check(specs=SPECS, texts=["Write about {topc}."])


def test_the_prompt_gets_choice_labels_and_keeps_other_braces_and_input_braces_as_they_are():
    text = prompt_render(text='Topic: {topic}; tone: {tone}; notes: {notes}; JSON {"a": 1}; {unknown}',
                         specs=SPECS, inputs={"topic": "{tone}", "tone": "dry"})

    assert text == 'Topic: {tone}; tone: Dry; notes: (not given); JSON {"a": 1}; {unknown}'


@pytest.mark.django_db
def test_every_seeded_template_declares_valid_fields_and_prompts():
    templates = list(ContentTemplate.objects.filter(is_active=True))

    assert {template.key for template in templates} == {
        "marketing-copy", "product-description", "course-material", "technical-documentation",
        "investor-materials", "report"}
    for template in templates:
        specs = field_specs_parse(template.fields)
        prompt_placeholders_check(specs=specs, texts=[template.prompt, template.system_prompt])
