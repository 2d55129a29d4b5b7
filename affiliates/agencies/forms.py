from django import forms
from django.core.exceptions import ValidationError

from accounts.models import Role
from affiliates.agencies.services import GRANTABLE_ROLES
from tenants.exceptions import SlugInvalid
from tenants.slugs import slug_validate


class ClientCreateForm(forms.Form):
    name = forms.CharField(label="Client's workspace name", max_length=100)
    slug = forms.CharField(label="Workspace address", max_length=40,
                           help_text="Lowercase letters, digits and hyphens; this becomes the client's host name.")
    owner_email = forms.EmailField(label="Client owner's email",
                                   help_text="They get an invitation to set their own password.")

    def clean_slug(self) -> str:
        try:
            return slug_validate(self.cleaned_data["slug"].strip().lower())
        except SlugInvalid as error:
            raise ValidationError(error.message) from None


class AgencyAccessForm(forms.Form):
    role = forms.ChoiceField(label="Their role in your workspace", initial=Role.ADMIN,
                             choices=[(role.value, role.label) for role in GRANTABLE_ROLES],
                             help_text="Admin: everything but billing, the team and API keys. Member: use the product.")
