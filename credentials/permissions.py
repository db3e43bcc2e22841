"""Who may do what with credentials. Pure predicates."""

from __future__ import annotations

from certificates.permissions import can_download_certificate


def can_download_credential(user, certificate) -> bool:
    """Whoever may download the certificate's PDF."""
    return can_download_certificate(user, certificate)
