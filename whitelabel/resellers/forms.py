"""The reseller pages' forms: the price list (one amount per plan, interval and currency; blank withdraws the
price) and the agency's invoicing details. Validation beyond the field's shape is the services' (pages show their
refusals under the field)."""

from __future__ import annotations

from django import forms

from config.money import money_round
from whitelabel.models import ResellerSettings
from whitelabel.resellers.selectors import PriceListRow


class PriceListForm(forms.Form):
    def __init__(self, *args, rows: list[PriceListRow], **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        for row in rows:
            self.fields[row.key] = forms.DecimalField(
                required=False, min_value=0, max_digits=14, decimal_places=4,
                label=f"{row.plan.name} ({row.interval_label.lower()}, {row.currency})",
                initial=money_round(row.your_price).amount if row.your_price else None)

    def entries(self) -> list[dict]:
        """The rows whose value changed, as reseller_prices_set entries (None withdraws a price)."""
        changed = []
        for row in self.rows:
            value = self.cleaned_data.get(row.key)
            current = row.your_price.amount if row.your_price else None
            if value != current:
                changed.append({"plan": row.plan.code, "interval": row.interval, "currency": row.currency,
                                "amount": value, "key": row.key})
        return changed


class InvoicingDetailsForm(forms.Form):
    """The agency's ResellerSettings (a plain form: reseller_settings_save alone decides what is valid)."""

    legal_name = forms.CharField(required=False, max_length=200, help_text="Blank: your workspace's name.")
    address = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    email = forms.EmailField(required=False)
    tax_id = forms.CharField(required=False, max_length=50, label="Tax ID")
    tax_name = forms.CharField(required=False, max_length=60, initial="Tax")
    tax_percentage = forms.DecimalField(required=False, max_digits=7, decimal_places=4, label="Tax rate (%)",
                                        help_text="Blank: no tax line.")
    number_prefix = forms.CharField(max_length=10, label="Invoice number prefix",
                                    help_text="Your numbers read PREFIX-2026-0001.")
    payment_terms_days = forms.IntegerField(initial=14, label="Payment terms (days)")
    payment_instructions = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                           help_text="How your clients pay you (bank details, a link).")

    @classmethod
    def initial_for(cls, settings: ResellerSettings | None, *, prefix: str) -> dict:
        if settings is None:
            return {"number_prefix": prefix}
        return {name: getattr(settings, name) for name in cls.base_fields}
