"""The content page's forms. A template's form is built from its declared fields, and validated by the one
validator the API uses too (creators.catalog.fields.inputs_clean): the form only shapes widgets and reads an
uploaded CSV file."""

from __future__ import annotations

from django import forms

from creators.catalog.fields import CSV_MAX_BYTES, ContentInputsInvalid, FieldSpec, inputs_clean
from creators.content.services import OUTPUT_MAX, TITLE_MAX

FILE_SUFFIX = "__file"


def _form_field(spec: FieldSpec) -> forms.Field:
    attrs = {"maxlength": spec.max_length} if spec.max_length else {}
    common = {"label": spec.label, "required": False, "help_text": spec.help, "strip": False}
    if spec.type == "choice":
        return forms.CharField(widget=forms.Select(choices=[("", "Choose…"), *spec.choices]), **common)
    if spec.type == "number":
        return forms.CharField(widget=forms.NumberInput(attrs={"step": "any"}), **common)
    if spec.type in ("textarea", "csv"):
        return forms.CharField(widget=forms.Textarea(attrs={**attrs, "rows": 8 if spec.type == "csv" else 5}),
                               **common)
    return forms.CharField(widget=forms.TextInput(attrs=attrs), **common)


class ContentInputsForm(forms.Form):
    """The template's fields (required ones marked by the validator, not the browser, so every error shows at
    once); a csv field also takes a file, which wins over pasted text."""

    def __init__(self, *args, specs: list[FieldSpec], **kwargs):
        super().__init__(*args, **kwargs)
        self.specs = specs
        for spec in specs:
            self.fields[spec.name] = _form_field(spec)
            if spec.type == "csv":
                self.fields[spec.name + FILE_SUFFIX] = forms.FileField(
                    label=f"{spec.label}: or upload a CSV file", required=False,
                    widget=forms.ClearableFileInput(attrs={"accept": ".csv,.tsv,.txt,text/csv"}))

    def clean(self):
        cleaned = super().clean()
        raw = {spec.name: cleaned.get(spec.name) or "" for spec in self.specs}
        for spec in self.specs:
            upload = cleaned.get(spec.name + FILE_SUFFIX) if spec.type == "csv" else None
            if upload:
                try:
                    raw[spec.name] = _upload_text(upload)
                except ValueError as error:
                    self.add_error(spec.name + FILE_SUFFIX, str(error))
                    return cleaned
        try:
            cleaned["inputs"] = inputs_clean(specs=self.specs, raw={k: v for k, v in raw.items() if v})
        except ContentInputsInvalid as error:
            for name, messages in error.errors.items():
                self.add_error(name if name in self.fields else None, messages)
        return cleaned


def _upload_text(upload) -> str:
    if upload.size > CSV_MAX_BYTES:
        raise ValueError(f"The file is larger than {CSV_MAX_BYTES // 1000} KB.")
    try:
        return upload.read(CSV_MAX_BYTES + 1).decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError("The file is not UTF-8 text; save it as CSV UTF-8.") from error


class DocumentEditForm(forms.Form):
    title = forms.CharField(max_length=TITLE_MAX)
    output = forms.CharField(label="Text (Markdown)", max_length=OUTPUT_MAX, required=False, strip=False,
                             widget=forms.Textarea(attrs={"rows": 24}))


class LibrarySearchForm(forms.Form):
    q = forms.CharField(label="Search", max_length=200, required=False)
