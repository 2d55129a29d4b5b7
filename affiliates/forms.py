from django import forms


class AffiliateApplicationForm(forms.Form):
    name = forms.CharField(label="Your name", max_length=150)
    email = forms.EmailField(label="Email")
    website = forms.URLField(label="Website or channel", required=False, assume_scheme="https")
    promotion = forms.CharField(label="How will you promote Tollgate?", max_length=2000, widget=forms.Textarea)
    # A honeypot: hidden from people (CSS and aria-hidden, no tab stop), filled in by form-filling bots.
    company_url = forms.CharField(required=False, label="Leave this empty")

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def is_bot(self) -> bool:
        return bool(self.data.get("company_url", "").strip())
