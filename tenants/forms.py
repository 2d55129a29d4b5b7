from typing import Any

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from accounts.models import User
from tenants.exceptions import SlugInvalid
from tenants.models import ApiKey, Tenant
from tenants.selectors import slug_availability
from tenants.slugs import slug_validate


class SignupForm(forms.Form):
    name = forms.CharField(label="Workspace name", max_length=100)
    slug = forms.CharField(
        label="Workspace address", max_length=40,
        help_text="Lowercase letters, digits and hyphens; this becomes your-name.<domain>.",
    )
    type = forms.ChoiceField(label="I am", choices=Tenant.Type.choices, initial=Tenant.Type.BUSINESS)
    email = forms.EmailField(label="Your email")
    password = forms.CharField(label="Password", widget=forms.PasswordInput, strip=False)
    promotion_code = forms.CharField(label="Promotion code (optional)", max_length=100, required=False,
                                     help_text="If someone gave you a code, enter it here.")

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"].strip().lower()
        try:
            return slug_validate(slug)
        except SlugInvalid as error:
            raise ValidationError(error.message) from None

    def clean(self) -> dict:
        cleaned = super().clean()
        password, email = cleaned.get("password"), cleaned.get("email")
        if password:
            try:
                validate_password(password, user=User(email=email or ""))
            except ValidationError as error:
                self.add_error("password", error)
        return cleaned

    def slug_is_taken(self) -> bool:
        available, _ = slug_availability(self.cleaned_data["slug"])
        return not available


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100,
                           help_text="Say where the key is used, e.g. \u201cProduction server\u201d.")
    scopes = forms.MultipleChoiceField(label="Scopes", choices=ApiKey.Scope.choices,
                                       widget=forms.CheckboxSelectMultiple,
                                       error_messages={"required": "Choose at least one scope."})


class WorkspaceSettingsForm(forms.Form):
    name = forms.CharField(label="Workspace name", max_length=100)
    billing_email = forms.EmailField(label="Billing email", required=False,
                                     help_text="Invoices and payment notices go here.")
    require_mfa = forms.BooleanField(
        label="Require two-factor authentication for everyone", required=False,
        help_text="Everyone without it, you included, sets it up before they can use the workspace again.",
    )

    def __init__(self, *args, can_manage_security: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not can_manage_security:
            # Not offered at all, so a crafted POST can't switch it either.
            del self.fields["require_mfa"]

    def clean_billing_email(self) -> str:
        return self.cleaned_data["billing_email"].strip().lower()

    def changed_values(self, tenant: Tenant) -> dict[str, Any]:
        """Only what differs from the tenant, so the audit log records real changes."""
        return {field: value for field, value in self.cleaned_data.items() if getattr(tenant, field) != value}
