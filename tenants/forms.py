from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from accounts.models import User
from tenants.exceptions import SlugInvalid
from tenants.models import Tenant
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
