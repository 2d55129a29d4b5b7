"""The Domains page's form: the hostname as typed; domain_claim alone decides whether it may be claimed."""

from django import forms


class DomainAddForm(forms.Form):
    hostname = forms.CharField(max_length=253, label="Domain", strip=True,
                               widget=forms.TextInput(attrs={"placeholder": "portal.example.com",
                                                             "autocomplete": "off", "spellcheck": "false"}),
                               help_text="A subdomain you own (portal.example.com), or an apex (example.com).")
