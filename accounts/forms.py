import phonenumbers
from allauth.core import ratelimit
from allauth.mfa.base.forms import AuthenticateForm
from allauth.mfa.utils import is_mfa_enabled
from django import forms

from referralcrm.widgets import FastSelect

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
            # ~600 time zones: Django's template-rendered Select took most of the page.
            "time_zone": FastSelect,
            **{
                f: forms.Textarea(attrs={"rows": 2})
                for f in ("goals", "accomplishments", "interests", "networks", "skills")
            },
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


class DeleteAccountForm(forms.Form):
    """Confirm deleting the account: the current password, and a two-factor code when the
    user has two-factor authentication (a recovery code works too).

    Attempts are rate limited per account (allauth's "login_failed" limit: a few tries, then
    a wait), so the page can't be used to guess the password or the code.
    """

    password = forms.CharField(
        label="Your current password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = forms.CharField(
        label="Code from your authenticator app (or a recovery code)",
        max_length=64,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )

    def __init__(self, data=None, *, user: User, request, **kwargs):
        super().__init__(data, **kwargs)
        self.user, self.request = user, request
        self.needs_code = is_mfa_enabled(user)
        if not self.needs_code:
            del self.fields["code"]

    def clean(self):
        data = super().clean()
        if not ratelimit.consume(
            self.request, action="login_failed", key=f"delete-account:{self.user.pk}"
        ):
            raise forms.ValidationError(
                "Too many attempts. Nothing was deleted: wait a few minutes and try again."
            )
        password = data.get("password")
        if password is not None and not self.user.check_password(password):
            self.add_error("password", "That is not your current password. Nothing was deleted.")
            return data
        if self.needs_code and data.get("code"):
            self._check_code(data["code"])
        return data

    def _check_code(self, code: str) -> None:
        """allauth's own check: a TOTP code not used before, or an unused recovery code
        (then spent); rate limited per user as at log-in."""
        check = AuthenticateForm(data={"code": code}, user=self.user)
        if not check.is_valid():
            self.add_error("code", check.errors["code"])
