"""Forms of reseller portals: the signup on the reseller's domain and the portal's landing text."""

from __future__ import annotations

from django import forms
from django.utils.html import format_html

from tenants.forms import SignupForm


class PortalSignupForm(SignupForm):
    """The public signup's form without what a reseller's client does not choose: the workspace is always a
    business client of the reseller, and promotion codes are Tollgate's, not the reseller's."""

    def __init__(self, *args, portal_hostname: str, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["type"]
        del self.fields["promotion_code"]
        # Shown as HTML by the fields template: the hostname is escaped.
        self.fields["slug"].help_text = format_html("Lowercase letters, digits and hyphens; your address becomes "
                                                    "your-name.{}.", portal_hostname)


class PortalLandingForm(forms.Form):
    landing_title = forms.CharField(label="Landing title", max_length=200, required=False,
                                    help_text="The heading of your portal's home page.")
    landing_text = forms.CharField(label="Landing text", required=False,
                                   widget=forms.Textarea(attrs={"rows": 5}),
                                   help_text="Plain text; blank lines start new paragraphs.")
