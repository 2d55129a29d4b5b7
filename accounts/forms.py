from django.contrib.auth.forms import BaseUserCreationForm, UserChangeForm

from accounts.models import User


class OpsUserCreationForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class OpsUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"
