import phonenumbers
from django import forms

from .models import User


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = [
            "display_name",
            "business_name",
            "profession",
            "time_zone",
            "default_currency",
            "phone_region",
            "goals",
            "accomplishments",
            "interests",
            "networks",
            "skills",
        ]
        widgets = {
            f: forms.Textarea(attrs={"rows": 2})
            for f in ("goals", "accomplishments", "interests", "networks", "skills")
        }
        help_texts = {
            "goals": "What you want to achieve: the clients you are after, your next milestone.",
            "networks": "Groups, associations and circles you belong to.",
        }

    def clean_default_currency(self) -> str:
        code = self.cleaned_data["default_currency"].strip().upper()
        if len(code) != 3 or not code.isalpha():
            raise forms.ValidationError("Use a three-letter currency code such as USD or EUR.")
        return code

    def clean_phone_region(self) -> str:
        code = self.cleaned_data["phone_region"].strip().upper()
        if code not in phonenumbers.SUPPORTED_REGIONS:
            raise forms.ValidationError("Use a two-letter country code such as US, GB or DE.")
        return code
