# ruff: noqa: E501
"""Strings the verify page shows in both languages via {% bilingual %}.

Listed here with gettext_noop so that makemessages extracts them.
"""

from django.utils.translation import gettext_noop

BILINGUAL_LABELS = [
    gettext_noop("By serial number and name"),
    gettext_noop("By verification code"),
    gettext_noop("Check a PDF file"),
    gettext_noop(
        "Check that a certificate of the Metrology Partnership Academy is genuine and still valid."
    ),
    gettext_noop("Completed on"),
    gettext_noop("Course"),
    gettext_noop("Does not expire"),
    gettext_noop("Expired"),
    gettext_noop("Expired on"),
    gettext_noop("Holder"),
    gettext_noop("Issued on"),
    gettext_noop("Issuer"),
    gettext_noop("No certificate found"),
    gettext_noop(
        "No certificate matches what you entered. Check the code or serial and the name."
    ),
    gettext_noop("Reason"),
    gettext_noop("Revoked"),
    gettext_noop("Revoked on"),
    gettext_noop("Scope"),
    gettext_noop("Score"),
    gettext_noop("Serial"),
    gettext_noop("Signatory"),
    gettext_noop("Superseded"),
    gettext_noop(
        "The PDF issued with this certificate has this SHA-256 fingerprint. Choose the file you received: it is checked in your browser and not uploaded."
    ),
    gettext_noop("The file does NOT match this certificate. It may have been altered."),
    gettext_noop("The file matches: it is the PDF issued with this certificate."),
    gettext_noop("This certificate has been replaced by a corrected one."),
    gettext_noop("Training hours"),
    gettext_noop("Valid certificate"),
    gettext_noop("Valid until"),
    gettext_noop("Verification code"),
    gettext_noop("Verify a certificate"),
    # h-cred-verify: credential status, scopes and history
    gettext_noop("Suspended"),
    gettext_noop("Suspended on"),
    gettext_noop("Renewal required"),
    gettext_noop("Renewal required since"),
    gettext_noop(
        "The certificate stays valid until it expires, but its holder must renew it."
    ),
    gettext_noop(
        "The competence this certificate attests is suspended until a new practical assessment passes."
    ),
    gettext_noop("Competence scope"),
    gettext_noop("Instrument class"),
    gettext_noop("Quantity and range"),
    gettext_noop("Accuracy class"),
    gettext_noop("Procedure"),
    gettext_noop("Authorisation level"),
    gettext_noop("Status history"),
    gettext_noop("Date"),
    gettext_noop("What"),
    gettext_noop("Why"),
    gettext_noop("Issued"),
    gettext_noop("Reinstated"),
    gettext_noop("Open Badges credential"),
    gettext_noop("Verify the signed credential"),
    gettext_noop(
        "Your browser cannot compute the fingerprint here (a secure HTTPS connection is needed)."
    ),
]
