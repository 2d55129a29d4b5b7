from django import forms


class SenderDomainForm(forms.Form):
    domain = forms.CharField(max_length=253, label="Sending domain",
                             help_text="The domain of your sender address, e.g. mail.example.com.")
