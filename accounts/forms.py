from collections.abc import Sequence

from django import forms
from django.contrib.auth.forms import BaseUserCreationForm, UserChangeForm
from django.contrib.auth.password_validation import password_validators_help_text_html, validate_password
from django.core.exceptions import ValidationError

from accounts.models import Role, User


class OpsUserCreationForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class OpsUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class InvitationCreateForm(forms.Form):
    email = forms.EmailField(label="Email address")
    role = forms.ChoiceField(label="Role")

    def __init__(self, *args, roles: Sequence[str], **kwargs):
        super().__init__(*args, **kwargs)
        # Only the roles the inviter may hand out (accounts.permissions decides which).
        self.fields["role"].choices = role_choices(roles)
        self.fields["role"].initial = Role.MEMBER if Role.MEMBER in roles else None


class MemberRoleChangeForm(forms.Form):
    """One per row of the team list; the member's id prefixes the field so every row's input is distinct."""

    role = forms.ChoiceField(label="Role")

    def __init__(self, *args, roles: Sequence[str], member: User, **kwargs):
        super().__init__(*args, prefix=f"member-{member.pk}", initial={"role": member.role}, **kwargs)
        self.fields["role"].choices = role_choices(roles)
        self.fields["role"].label = f"Role of {member.email}"


class InvitationAcceptForm(forms.Form):
    full_name = forms.CharField(label="Your name", max_length=150)
    password1 = forms.CharField(label="Password", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                strip=False, help_text=password_validators_help_text_html())
    password2 = forms.CharField(label="Password again",
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), strip=False)

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        # The similarity validator compares the password with the account it will protect.
        self.email = email

    def clean(self) -> dict:
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", "The two passwords don't match.")
        elif password1:
            try:
                validate_password(password1, user=User(email=self.email, full_name=cleaned.get("full_name", "")))
            except ValidationError as error:
                self.add_error("password1", error)
        return cleaned


def role_choices(roles: Sequence[str]) -> list[tuple[str, str]]:
    return [(role, Role(role).label) for role in roles]
