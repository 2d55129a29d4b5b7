from django import forms

from notifications.selectors import Channels, PreferenceRow


class PreferencesForm(forms.Form):
    """Two checkboxes per category the person hears of: in-app and email."""

    def __init__(self, *args, rows: list[PreferenceRow], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.rows = rows
        for row in rows:
            self.fields[f"{row.category}__in_app"] = forms.BooleanField(
                label=f"{row.label}: in the app", required=False, initial=row.channels.in_app)
            self.fields[f"{row.category}__email"] = forms.BooleanField(
                label=f"{row.label}: by email", required=False, initial=row.channels.email)

    def table(self) -> list[tuple[PreferenceRow, forms.BoundField, forms.BoundField]]:
        return [(row, self[f"{row.category}__in_app"], self[f"{row.category}__email"]) for row in self.rows]

    def choices(self) -> dict[str, Channels]:
        return {row.category: Channels(in_app=self.cleaned_data[f"{row.category}__in_app"],
                                       email=self.cleaned_data[f"{row.category}__email"]) for row in self.rows}
