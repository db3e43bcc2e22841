from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    def populate_username(self, request, user) -> None:
        # There is no username field; e-mail identifies the user.
        return None

    def clean_email(self, email: str) -> str:
        return super().clean_email(email).strip().lower()

    def validation_error(self, code, *args):
        if code == "too_many_login_attempts":
            from academy.security import security_event

            security_event("rate_limited", scope="login_failed")
        return super().validation_error(code, *args)
