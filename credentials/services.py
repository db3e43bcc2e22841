"""Issue, sign, publish and verify Open Badges 3.0 credentials.

Keyword-only services wrapped in ``transaction.atomic``. jwcrypto is the only
JOSE library used; ES256 (P-256) keys.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from jwcrypto import jwk, jws
from jwcrypto.common import JWException, json_decode

from certificates.models import Certificate
from certificates.rendering import public_base_url, verify_url

from .models import (
    RANGE_INVERTED,
    UNKNOWN_REVISION,
    CompetenceScope,
    Credential,
    CredentialEvent,
    CredentialEventKind,
    Procedure,
    SigningKey,
    StatusList,
    StatusPurpose,
)

logger = logging.getLogger("academy.credentials")

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
ALGORITHM = "ES256"
MAX_TOKEN_LENGTH = 64 * 1024

TOKEN_EMPTY = gettext_lazy("Paste a credential (VC-JWT) to verify.")
TOKEN_TOO_LONG = gettext_lazy("The credential is too long (at most 64 KB).")
TOKEN_MALFORMED = gettext_lazy(
    "This is not a well-formed VC-JWT (header.payload.signature)."
)
TOKEN_ALGORITHM = gettext_lazy("Only ES256 signatures are accepted.")
TOKEN_UNKNOWN_KEY = gettext_lazy(
    "The credential was signed with a key this platform never published."
)
TOKEN_BAD_SIGNATURE = gettext_lazy(
    "The signature does not match: the credential was altered or re-signed."
)
TOKEN_WRONG_ISSUER = gettext_lazy("The credential names a different issuer.")
TOKEN_UNKNOWN_CREDENTIAL = gettext_lazy(
    "This platform has no record of this credential."
)
TOKEN_NOT_YET_VALID = gettext_lazy("The credential is not valid yet.")
TOKEN_EXPIRED = gettext_lazy("The credential expired on %(date)s.")
TOKEN_REVOKED = gettext_lazy("The credential has been revoked.")
TOKEN_SUSPENDED = gettext_lazy("The credential is suspended.")
SUSPEND_NEEDS_REASON = gettext_lazy("Give a reason for the suspension.")
UNKNOWN_PROCEDURE = gettext_lazy("No procedure or standard “%(code)s” is recorded.")

TZ = ZoneInfo("Asia/Shanghai")


# --- URLs ----------------------------------------------------------------------


def _abs(name: str, **kwargs) -> str:
    return public_base_url() + reverse(f"credentials:{name}", kwargs=kwargs or None)


def issuer_url() -> str:
    return _abs("issuer")


def key_url(kid: str) -> str:
    return _abs("key", kid=kid)


def status_list_url(status_list_id: int, purpose: str) -> str:
    return _abs("status_list", list_id=status_list_id, purpose=purpose)


def issuer_profile() -> dict:
    name = getattr(settings, "CREDENTIALS_ISSUER_NAME", "计量伙伴学院")
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": issuer_url(),
        "type": ["Profile"],
        "name": name,
        "url": public_base_url() + "/",
        "description": getattr(
            settings,
            "CREDENTIALS_ISSUER_DESCRIPTION",
            "Metrology Partnership Academy (计量伙伴学院)",
        ),
        "otherIdentifier": [
            {
                "type": "IdentifierEntry",
                "identifier": _abs("jwks"),
                "identifierType": "identifier",
            }
        ],
    }


# --- keys ----------------------------------------------------------------------


def _key_password() -> bytes:
    secret = getattr(settings, "CREDENTIALS_KEY_PASSWORD", "") or settings.SECRET_KEY
    return hashlib.sha256(b"credentials-signing-key:" + secret.encode()).digest()


def _private_key(signing_key: SigningKey) -> jwk.JWK:
    return jwk.JWK.from_pem(bytes(signing_key.private_pem), password=_key_password())


def public_jwk(signing_key: SigningKey) -> jwk.JWK:
    return jwk.JWK(**signing_key.public_jwk)


def _new_key() -> SigningKey:
    key = jwk.JWK.generate(kty="EC", crv="P-256")
    kid = timezone.now().strftime("%Y%m%d") + "-" + secrets.token_hex(4)
    public = key.export_public(as_dict=True)
    public.update({"kid": kid, "use": "sig", "alg": ALGORITHM})
    return SigningKey.objects.create(
        kid=kid,
        algorithm=ALGORITHM,
        public_jwk=public,
        private_pem=key.export_to_pem(private_key=True, password=_key_password()),
        is_active=True,
    )


@transaction.atomic
def signing_key_get_active() -> SigningKey:
    """The current key; created on first use."""
    key = SigningKey.objects.select_for_update().filter(is_active=True).first()
    return key or _new_key()


@transaction.atomic
def signing_key_rotate() -> SigningKey:
    """Retire the current key (it stays published) and make a new one active."""
    now = timezone.now()
    SigningKey.objects.select_for_update().filter(is_active=True).update(
        is_active=False, retired_at=now
    )
    key = _new_key()
    logger.info("Signing key rotated; new key %s", key.kid)
    return key


def jwks() -> dict:
    return {"keys": [key.public_jwk for key in SigningKey.objects.order_by("pk")]}


# --- status lists ---------------------------------------------------------------


def _allocate_index() -> tuple[StatusList, int]:
    """Next free index; the list row is locked, indexes only ever grow."""
    status_list = (
        StatusList.objects.select_for_update().order_by("-pk").first()
        or StatusList.objects.create()
    )
    if status_list.next_index >= status_list.size:
        status_list = StatusList.objects.create()
    index = status_list.next_index
    status_list.next_index = index + 1
    status_list.save(update_fields=["next_index"])
    return status_list, index


def status_bits(*, status_list: StatusList, purpose: str) -> list[int]:
    credentials = Credential.objects.filter(status_list=status_list)
    if purpose == StatusPurpose.REVOCATION:
        from django.db.models import Q

        credentials = credentials.filter(
            Q(certificate__revoked_at__isnull=False)
            | Q(certificate__superseded_at__isnull=False)
        )
    else:
        credentials = credentials.filter(suspended_at__isnull=False)
    return list(credentials.values_list("status_index", flat=True))


def encode_bitstring(indexes: list[int], size: int) -> str:
    """Multibase base64url (``u``) of the GZIP-compressed bitstring.

    Index 0 is the left-most (most significant) bit of the first byte.
    """
    data = bytearray(size // 8)
    for index in indexes:
        data[index // 8] |= 0x80 >> (index % 8)
    compressed = gzip.compress(bytes(data), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).decode().rstrip("=")


def status_list_credential(*, status_list: StatusList, purpose: str) -> dict:
    url = status_list_url(status_list.pk, purpose)
    bits = status_bits(status_list=status_list, purpose=purpose)
    return {
        "@context": [VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_url(),
        "validFrom": timezone.now().replace(microsecond=0).isoformat(),
        "credentialSubject": {
            "id": url + "#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encode_bitstring(bits, status_list.size),
        },
    }


def status_list_jwt(*, status_list: StatusList, purpose: str) -> str:
    payload = status_list_credential(status_list=status_list, purpose=purpose)
    return _sign(
        payload,
        signing_key_get_active(),
        claims={"iss": payload["issuer"], "jti": payload["id"]},
    )


# --- issuing -------------------------------------------------------------------


def _iso(day, end: bool = False) -> str:
    moment = datetime.combine(day, time(23, 59, 59) if end else time(0, 0), tzinfo=TZ)
    return moment.isoformat()


def _timestamp(value: str) -> int:
    return int(datetime.fromisoformat(value).timestamp())


def achievement_for(certificate: Certificate) -> dict:
    course = certificate.course
    try:
        course_url = course.get_full_url()
    except Exception:  # noqa: BLE001 - a page without a site has no URL
        course_url = None
    title = certificate.course_title
    if certificate.course_title_en:
        title = f"{certificate.course_title} · {certificate.course_title_en}"
    narrative = _(
        "Completed the course %(course)s (%(hours)s hours) and met its pass rules."
    ) % {"course": title, "hours": certificate.hours}
    achievement = {
        "id": course_url or f"{public_base_url()}/#course-{course.pk}",
        "type": ["Achievement"],
        "achievementType": "Certificate",
        "name": title,
        "description": certificate.scope or title,
        "criteria": {"narrative": narrative},
        "creator": {"id": issuer_url(), "type": ["Profile"]},
    }
    if certificate.course_code:
        achievement["humanCode"] = certificate.course_code
    return achievement


def _scope_results(achievement: dict, subject: dict, scopes: list[dict]) -> None:
    """Scopes as OB 3.0 alignments, result descriptions and results."""
    if not scopes:
        return
    base = issuer_url()
    achievement["alignment"] = []
    achievement["resultDescription"] = []
    subject["result"] = []
    for number, scope in enumerate(scopes, start=1):
        procedure = f"{scope['procedure']}-{scope['revision']}"
        achievement["alignment"].append(
            {
                "type": ["Alignment"],
                "targetName": procedure,
                "targetDescription": scope["procedure_title"] or procedure,
                "targetUrl": f"{base}#procedure-{scope['revision_id']}",
                "targetType": "ext:Procedure",
            }
        )
        description_id = f"{achievement['id']}#scope-{number}"
        name = (
            f"{scope['instrument_class']} · {scope['quantity']} "
            f"{scope['range_min']}~{scope['range_max']} {scope['unit']}"
        )
        if scope["accuracy_class"]:
            name += f" · {scope['accuracy_class']}"
        achievement["resultDescription"].append(
            {
                "id": description_id,
                "type": ["ResultDescription"],
                "name": f"{name} · {procedure}",
                "resultType": "ext:AuthorisationLevel",
                "alignment": [achievement["alignment"][-1]],
            }
        )
        subject["result"].append(
            {
                "type": ["Result"],
                "resultDescription": description_id,
                "value": scope["level"],
            }
        )


def scopes_for_course(course) -> list[dict]:
    scopes = CompetenceScope.objects.filter(course=course).select_related(
        "procedure_revision__procedure"
    )
    return [scope.snapshot() for scope in scopes]


def credential_payload(
    *,
    certificate: Certificate,
    credential_uuid,
    status_list: StatusList,
    index: int,
    scopes: list[dict] | None = None,
) -> dict:
    urn = f"urn:uuid:{credential_uuid}"
    payload = {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": urn,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": certificate.course_title,
        "issuer": {
            "id": issuer_url(),
            "type": ["Profile"],
            "name": certificate.issuer_name,
            "url": public_base_url() + "/",
        },
        "validFrom": _iso(certificate.issued_on),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityType": "name",
                    "hashed": False,
                    "identityHash": certificate.holder_name,
                }
            ],
            "achievement": achievement_for(certificate),
        },
        "credentialStatus": [
            {
                "id": f"{status_list_url(status_list.pk, purpose)}#{index}",
                "type": "BitstringStatusListEntry",
                "statusPurpose": purpose,
                "statusListIndex": str(index),
                "statusListCredential": status_list_url(status_list.pk, purpose),
            }
            for purpose in (StatusPurpose.REVOCATION, StatusPurpose.SUSPENSION)
        ],
        "evidence": [
            {
                "id": verify_url(certificate),
                "type": ["Evidence"],
                "name": certificate.serial,
                "narrative": _("Certificate %(serial)s, verification code %(code)s")
                % {"serial": certificate.serial, "code": certificate.code_display},
            }
        ],
    }
    if certificate.valid_until:
        payload["validUntil"] = _iso(certificate.valid_until, end=True)
    subject = payload["credentialSubject"]
    _scope_results(subject["achievement"], subject, scopes or [])
    return payload


def _sign(payload: dict, signing_key: SigningKey, *, claims: dict) -> str:
    header = {"alg": ALGORITHM, "typ": "JWT", "kid": key_url(signing_key.kid)}
    body = dict(claims)
    body["vc"] = payload
    token = jws.JWS(json.dumps(body, ensure_ascii=False, separators=(",", ":")))
    token.add_signature(
        _private_key(signing_key), alg=ALGORITHM, protected=json.dumps(header)
    )
    return token.serialize(compact=True)


def jwt_claims(payload: dict) -> dict:
    claims = {
        "iss": payload["issuer"]["id"],
        "jti": payload["id"],
        "nbf": _timestamp(payload["validFrom"]),
        "iat": int(timezone.now().timestamp()),
    }
    if payload.get("validUntil"):
        claims["exp"] = _timestamp(payload["validUntil"])
    return claims


@transaction.atomic
def credential_issue(*, certificate: Certificate) -> Credential:
    """The certificate's credential; issued once (idempotent)."""
    certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
    existing = Credential.objects.filter(certificate=certificate).first()
    if existing is not None:
        return existing
    signing_key = signing_key_get_active()
    status_list, index = _allocate_index()
    credential = Credential(
        certificate=certificate,
        status_list=status_list,
        status_index=index,
        signing_key=signing_key,
        scopes=scopes_for_course(certificate.course),
    )
    payload = credential_payload(
        certificate=certificate,
        credential_uuid=credential.uuid,
        status_list=status_list,
        index=index,
        scopes=credential.scopes,
    )
    credential.payload = payload
    credential.jwt = _sign(payload, signing_key, claims=jwt_claims(payload))
    credential.save()
    _event(credential, CredentialEventKind.ISSUED)
    return credential


CREDENTIAL_JWT_NAME = "credential.jwt"
CREDENTIAL_JSON_NAME = "credential.json"


def credential_embedded_files(credential: Credential) -> list[tuple[str, bytes, str]]:
    """``(file name, bytes, description)`` of what the PDF carries: the signed
    VC-JWT (verifiable on its own) and its JSON for people to read."""
    payload = json.dumps(credential.payload, ensure_ascii=False, indent=2)
    return [
        (
            CREDENTIAL_JWT_NAME,
            credential.jwt.encode(),
            "Open Badges 3.0 OpenBadgeCredential (VC-JWT, ES256)",
        ),
        (
            CREDENTIAL_JSON_NAME,
            payload.encode(),
            "Open Badges 3.0 OpenBadgeCredential (JSON, unsigned copy)",
        ),
    ]


def _event(credential: Credential, kind: str, *, by=None, note: str = "") -> None:
    CredentialEvent.objects.create(credential=credential, kind=kind, by=by, note=note)


def credential_issue_missing() -> int:
    missing = Certificate.objects.filter(credential__isnull=True)
    count = 0
    for certificate in missing.iterator():
        credential_issue(certificate=certificate)
        count += 1
    return count


@transaction.atomic
def credential_suspend(*, actor, credential: Credential, reason: str) -> Credential:
    reason = (reason or "").strip()
    if not reason:
        from django.core.exceptions import ValidationError

        raise ValidationError(SUSPEND_NEEDS_REASON)
    credential = Credential.objects.select_for_update().get(pk=credential.pk)
    credential.suspended_at = timezone.now()
    credential.suspended_reason = reason
    credential.save(update_fields=["suspended_at", "suspended_reason"])
    _event(credential, CredentialEventKind.SUSPENDED, by=actor, note=reason)
    logger.info("Credential %s suspended by %s: %s", credential.pk, actor, reason)
    return credential


@transaction.atomic
def credential_reinstate(
    *, actor, credential: Credential, note: str = ""
) -> Credential:
    credential = Credential.objects.select_for_update().get(pk=credential.pk)
    credential.suspended_at = None
    credential.suspended_reason = ""
    credential.save(update_fields=["suspended_at", "suspended_reason"])
    _event(credential, CredentialEventKind.REINSTATED, by=actor, note=note)
    logger.info("Credential %s reinstated by %s", credential.pk, actor)
    return credential


# --- verifying -----------------------------------------------------------------


@dataclass
class Check:
    name: str
    ok: bool
    message: str = ""


@dataclass
class VerificationReport:
    checks: list[Check] = field(default_factory=list)
    payload: dict | None = None
    credential: Credential | None = None

    @property
    def valid(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)

    @property
    def errors(self) -> list[str]:
        return [check.message for check in self.checks if not check.ok]

    def as_dict(self) -> dict:
        return {
            "valid": self.valid,
            "checks": [
                {"check": c.name, "ok": c.ok, "message": str(c.message)}
                for c in self.checks
            ],
            "errors": [str(e) for e in self.errors],
            "renewal_required": bool(
                self.credential and self.credential.renewal_required_at
            ),
            "credential": self.payload,
        }


def _fail(report: VerificationReport, name: str, message) -> VerificationReport:
    report.checks.append(Check(name, False, str(message)))
    return report


def credential_verify(*, token: str, now: datetime | None = None) -> VerificationReport:
    """Signature, issuer, validity period and status of a VC-JWT."""
    report = VerificationReport()
    token = (token or "").strip()
    if not token:
        return _fail(report, "format", TOKEN_EMPTY)
    if len(token) > MAX_TOKEN_LENGTH:
        return _fail(report, "format", TOKEN_TOO_LONG)
    parsed = jws.JWS()
    try:
        parsed.deserialize(token)
        header = parsed.jose_header
    except (JWException, ValueError, TypeError):
        return _fail(report, "format", TOKEN_MALFORMED)
    if not isinstance(header, dict) or header.get("alg") != ALGORITHM:
        return _fail(report, "signature", TOKEN_ALGORITHM)
    kid = str(header.get("kid", "")).rsplit("/", 1)[-1]
    signing_key = SigningKey.objects.filter(kid=kid).first() if kid else None
    if signing_key is None or header.get("kid") != key_url(signing_key.kid):
        return _fail(report, "signature", TOKEN_UNKNOWN_KEY)
    try:
        parsed.verify(public_jwk(signing_key), alg=ALGORITHM)
    except JWException:
        return _fail(report, "signature", TOKEN_BAD_SIGNATURE)
    report.checks.append(
        Check("signature", True, _("Signed by %(kid)s") % {"kid": kid})
    )
    try:
        claims = json_decode(parsed.payload)
        payload = claims["vc"]
        credential_id = payload["id"]
    except (ValueError, KeyError, TypeError):
        return _fail(report, "format", TOKEN_MALFORMED)
    report.payload = payload
    issuer = payload.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    if issuer_id != issuer_url() or claims.get("iss") != issuer_url():
        return _fail(report, "issuer", TOKEN_WRONG_ISSUER)
    report.checks.append(Check("issuer", True))
    now = now or timezone.now()
    valid_from = payload.get("validFrom")
    valid_until = payload.get("validUntil")
    if valid_from and datetime.fromisoformat(valid_from) > now:
        _fail(report, "validity", TOKEN_NOT_YET_VALID)
    elif valid_until and datetime.fromisoformat(valid_until) < now:
        until = datetime.fromisoformat(valid_until).astimezone(TZ).date()
        _fail(report, "validity", TOKEN_EXPIRED % {"date": until.isoformat()})
    else:
        report.checks.append(Check("validity", True))
    uuid_text = str(credential_id).removeprefix("urn:uuid:")
    credential = (
        Credential.objects.select_related("certificate").filter(uuid=uuid_text).first()
        if _is_uuid(uuid_text)
        else None
    )
    if credential is None:
        return _fail(report, "status", TOKEN_UNKNOWN_CREDENTIAL)
    report.credential = credential
    if credential.is_revoked:
        _fail(report, "status", TOKEN_REVOKED)
    elif credential.is_suspended:
        _fail(report, "status", TOKEN_SUSPENDED)
    else:
        report.checks.append(Check("status", True))
    return report


def _is_uuid(text: str) -> bool:
    import uuid

    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


# --- competence scopes -----------------------------------------------------------


@transaction.atomic
def scope_create(
    *,
    course,
    instrument_class: str,
    quantity: str,
    range_min,
    range_max,
    unit: str,
    procedure_code: str,
    revision: str,
    level: str,
    accuracy_class: str = "",
) -> CompetenceScope:
    """Add a scope to a course; bad ranges and unknown revisions are refused."""
    from decimal import Decimal, InvalidOperation

    from django.core.exceptions import ValidationError

    try:
        low, high = Decimal(str(range_min)), Decimal(str(range_max))
    except InvalidOperation as error:
        raise ValidationError(_("The range limits must be numbers.")) from error
    if low > high:
        raise ValidationError(RANGE_INVERTED % {"low": low, "high": high})
    procedure = Procedure.objects.filter(code=procedure_code.strip()).first()
    if procedure is None:
        raise ValidationError(UNKNOWN_PROCEDURE % {"code": procedure_code})
    procedure_revision = procedure.revisions.filter(revision=revision.strip()).first()
    if procedure_revision is None:
        raise ValidationError(
            UNKNOWN_REVISION % {"revision": revision, "procedure": procedure.code}
        )
    scope = CompetenceScope(
        course=course,
        instrument_class=instrument_class,
        quantity=quantity,
        range_min=low,
        range_max=high,
        unit=unit,
        accuracy_class=accuracy_class,
        procedure_revision=procedure_revision,
        level=level,
    )
    scope.full_clean()
    scope.save()
    return scope


REVISION_EMPTY = gettext_lazy("Enter the new revision, e.g. 2024.")
REVISION_TOO_LONG = gettext_lazy("A revision has at most 30 characters.")
REVISION_NOT_ALLOWED = gettext_lazy(
    "Only coordinators and experts of an enterprise whose courses name this "
    "procedure may record its revisions."
)
REVISION_EXISTS = gettext_lazy(
    "Revision “%(revision)s” of %(procedure)s is already recorded."
)


@transaction.atomic
def procedure_revision_record(
    *, actor, procedure: Procedure, revision: str, effective_on=None
) -> tuple:
    """Record a new revision; credentials naming an older one need renewal.

    Returns ``(revision, credentials marked)``. Holders and their HR are
    e-mailed after the commit.
    """
    from django.core.exceptions import PermissionDenied, ValidationError

    from .models import ProcedureRevision
    from .permissions import can_record_procedure_revision

    if not can_record_procedure_revision(actor, procedure):
        raise PermissionDenied(REVISION_NOT_ALLOWED)
    revision = (revision or "").strip()
    if not revision:
        raise ValidationError(REVISION_EMPTY)
    if len(revision) > 30:
        raise ValidationError(REVISION_TOO_LONG)
    procedure = Procedure.objects.select_for_update().get(pk=procedure.pk)
    if procedure.revisions.filter(revision=revision).exists():
        raise ValidationError(
            REVISION_EXISTS % {"revision": revision, "procedure": procedure.code}
        )
    new = ProcedureRevision.objects.create(
        procedure=procedure, revision=revision, effective_on=effective_on
    )
    # Courses now certify the new revision: certificates issued or renewed
    # from here on freeze it into their scope.
    CompetenceScope.objects.filter(procedure_revision__procedure=procedure).update(
        procedure_revision=new
    )
    note = _("%(procedure)s was revised to %(revision)s.") % {
        "procedure": procedure.code,
        "revision": revision,
    }
    candidates = Credential.objects.select_related("certificate").filter(
        renewal_required_at__isnull=True,
        certificate__superseded_at__isnull=True,
        certificate__revoked_at__isnull=True,
    )
    marked = []
    now = timezone.now()
    for credential in candidates.exclude(scopes=[]):
        if any(
            scope.get("procedure") == procedure.code
            and scope.get("revision") != revision
            for scope in credential.scopes
        ):
            credential.renewal_required_at = now
            credential.renewal_reason = note
            credential.save(update_fields=["renewal_required_at", "renewal_reason"])
            _event(
                credential, CredentialEventKind.RENEWAL_REQUIRED, by=actor, note=note
            )
            marked.append(credential.pk)
    if marked:
        transaction.on_commit(lambda: _notify_renewal(marked))
    logger.info(
        "%s revised to %s: %s credentials need renewal",
        procedure,
        revision,
        len(marked),
    )
    return new, len(marked)


def _notify_renewal(credential_ids: list[int]) -> None:
    from django.core.mail import EmailMultiAlternatives
    from django.template.loader import render_to_string
    from django.utils import translation

    from certificates.services import _reminder_recipients

    credentials = Credential.objects.select_related("certificate__user").filter(
        pk__in=credential_ids
    )
    for credential in credentials:
        certificate = credential.certificate
        with translation.override(settings.LANGUAGE_CODE):
            refresher = refresher_course_for(certificate.course)
            context = {
                "certificate": certificate,
                "credential": credential,
                "verify_url": verify_url(certificate),
                "course_url": _course_url(refresher or certificate.course),
                "refresher": refresher,
            }
            subject = render_to_string(
                "credentials/email/renewal_subject.txt", context
            ).strip()
            body = render_to_string("credentials/email/renewal_body.txt", context)
        EmailMultiAlternatives(
            subject=subject, body=body, to=_reminder_recipients(certificate)
        ).send()


def _course_url(course) -> str:
    try:
        return course.get_full_url() or ""
    except Exception:  # noqa: BLE001 - a page without a site has no URL
        return ""


def refresher_course_for(course):
    """The short refresher course named by one of ``course``'s scopes."""
    scope = (
        CompetenceScope.objects.filter(course=course, refresher_course__isnull=False)
        .select_related("refresher_course")
        .order_by("pk")
        .first()
    )
    return scope.refresher_course if scope else None


# --- refresher courses -------------------------------------------------------------


def credential_renew_after_refresher(*, enrollment) -> list[Certificate]:
    """The holder completed a refresher course: each current certificate of
    theirs that needs renewal and whose course names that refresher is
    re-issued (current scopes, so the current procedure revision) and
    superseded. The new certificate's credential starts without a renewal
    requirement. Returns the new certificates."""
    from certificates.services import certificate_renew

    from .models import CredentialEventKind

    course_ids = CompetenceScope.objects.filter(
        refresher_course_id=enrollment.course_id
    ).values("course_id")
    due = list(
        Credential.objects.select_related("certificate").filter(
            certificate__user_id=enrollment.user_id,
            certificate__course_id__in=course_ids,
            certificate__superseded_at__isnull=True,
            certificate__revoked_at__isnull=True,
            renewal_required_at__isnull=False,
        )
    )
    renewed = []
    for credential in due:
        with transaction.atomic():
            reason = _("Refresher course “%(course)s” completed.") % {
                "course": enrollment.course.title
            }
            new = certificate_renew(certificate=credential.certificate, reason=reason)
            new_credential = credential_issue(certificate=new)
            _event(
                credential,
                CredentialEventKind.RENEWED,
                note=_("Renewed by certificate %(serial)s: %(reason)s")
                % {"serial": new.serial, "reason": reason},
            )
            logger.info(
                "Credential %s renewed as %s after refresher course %s",
                credential.pk,
                new_credential.pk,
                enrollment.course_id,
            )
        renewed.append(new)
    return renewed


# --- failed proficiency tests / interlaboratory comparisons ------------------------

PROFICIENCY_NOT_ALLOWED = gettext_lazy(
    "You may not record proficiency results for this company or scope."
)
PROFICIENCY_NOT_MEMBER = gettext_lazy(
    "%(name)s is not a current member of %(company)s."
)
PROFICIENCY_NO_CREDENTIAL = gettext_lazy(
    "%(name)s holds no current certificate covering this scope; nothing to suspend."
)
PROFICIENCY_DATE_FUTURE = gettext_lazy("The date of the test cannot be in the future.")
PROFICIENCY_BAD_KIND = gettext_lazy(
    "Choose proficiency test or interlaboratory comparison."
)


def _scope_label(scope: CompetenceScope) -> str:
    snapshot = scope.snapshot()
    return (
        f"{snapshot['instrument_class']} {snapshot['range_min']}~"
        f"{snapshot['range_max']} {snapshot['unit']} · "
        f"{snapshot['procedure']}-{snapshot['revision']}"
    )


@transaction.atomic
def proficiency_result_record(
    *,
    actor,
    company,
    user,
    scope: CompetenceScope,
    kind: str,
    held_on,
    note: str = "",
):
    """Record a failed PT/ILC: the person's credentials covering the scope are
    suspended until a practical assessment passes. Holder and HR are e-mailed
    after the commit. Refused (nothing changes) for another company's person,
    a person without a certificate for the scope, a future date, or an actor
    who may not record for this company and scope."""
    from django.core.exceptions import PermissionDenied, ValidationError

    from organizations.models import Membership

    from .models import ProficiencyKind, ProficiencyResult
    from .permissions import can_record_proficiency_result

    if not can_record_proficiency_result(actor, company=company, scope=scope):
        raise PermissionDenied(PROFICIENCY_NOT_ALLOWED)
    if kind not in ProficiencyKind.values:
        raise ValidationError(PROFICIENCY_BAD_KIND)
    if held_on > timezone.localdate():
        raise ValidationError(PROFICIENCY_DATE_FUTURE)
    if not Membership.objects.active().filter(company=company, user=user).exists():
        raise ValidationError(
            PROFICIENCY_NOT_MEMBER % {"name": user.name, "company": company.name}
        )
    certificates = list(
        Certificate.objects.current()
        .select_for_update()
        .filter(user=user, course_id=scope.course_id, revoked_at__isnull=True)
    )
    if not certificates:
        raise ValidationError(PROFICIENCY_NO_CREDENTIAL % {"name": user.name})
    result = ProficiencyResult.objects.create(
        user=user,
        company=company,
        scope=scope,
        kind=kind,
        held_on=held_on,
        note=(note or "").strip(),
        recorded_by=actor,
    )
    # The public reason names the test and the scope; the note stays internal.
    reason = _(
        "%(kind)s of %(date)s not passed (%(scope)s); suspended until a "
        "practical assessment passes."
    ) % {
        "kind": ProficiencyKind(kind).label,
        "date": held_on.isoformat(),
        "scope": _scope_label(scope),
    }
    suspended = []
    for certificate in certificates:
        credential = credential_issue(certificate=certificate)
        result.credentials.add(credential)
        if credential.suspended_at is None:
            credential_suspend(actor=actor, credential=credential, reason=reason)
            suspended.append(credential.pk)
    result_id = result.pk
    if suspended:
        transaction.on_commit(
            lambda: _notify_proficiency(result_id, "suspended", suspended)
        )
    logger.info(
        "Proficiency result %s for user %s: %s credential(s) suspended",
        result.pk,
        user.pk,
        len(suspended),
    )
    return result


def _assessment_counts_for(assessment, result) -> bool:
    """A passed assessment counts for a result when its visit topic belongs to
    the scope's course (a course requirement or a related course); a course
    linked to no topic accepts any passed practical assessment."""
    from dispatch.models import CourseVisitRequirement, MetrologyTopic

    course_id = result.scope.course_id
    topic_ids = set(
        CourseVisitRequirement.objects.filter(course_id=course_id).values_list(
            "topic_id", flat=True
        )
    ) | set(
        MetrologyTopic.objects.filter(related_courses__id=course_id).values_list(
            "pk", flat=True
        )
    )
    return not topic_ids or assessment.visit.topic_id in topic_ids


@transaction.atomic
def proficiency_resolve_by_assessment(*, assessment) -> list[int]:
    """A practical assessment passed: the person's open failures it counts for
    are resolved and credentials with no other open failure are reinstated
    (logged, holder and HR e-mailed after the commit). Returns the ids of the
    reinstated credentials."""
    from .models import ProficiencyResult

    if not assessment.passed:
        return []
    open_results = list(
        ProficiencyResult.objects.select_for_update()
        .select_related("scope")
        .filter(
            user_id=assessment.user_id,
            resolved_at__isnull=True,
            recorded_at__lte=assessment.recorded_at,
        )
    )
    resolved = [r for r in open_results if _assessment_counts_for(assessment, r)]
    if not resolved:
        return []
    now = timezone.now()
    for result in resolved:
        result.resolved_at = now
        result.resolved_by_assessment = assessment
        result.save(update_fields=["resolved_at", "resolved_by_assessment"])
    note = _("Practical assessment passed on %(date)s.") % {
        "date": timezone.localdate(assessment.recorded_at).isoformat()
    }
    reinstated = []
    credentials = Credential.objects.filter(
        proficiency_results__in=resolved, suspended_at__isnull=False
    ).distinct()
    for credential in credentials:
        if credential.proficiency_results.filter(resolved_at__isnull=True).exists():
            continue
        credential_reinstate(
            actor=assessment.recorded_by, credential=credential, note=note
        )
        reinstated.append(credential.pk)
    if reinstated:
        result_id = resolved[0].pk
        transaction.on_commit(
            lambda: _notify_proficiency(result_id, "reinstated", reinstated)
        )
    return reinstated


def _notify_proficiency(result_id: int, what: str, credential_ids: list[int]) -> None:
    from django.core.mail import EmailMultiAlternatives
    from django.template.loader import render_to_string
    from django.utils import translation

    from certificates.services import _reminder_recipients

    from .models import ProficiencyResult

    result = ProficiencyResult.objects.select_related(
        "scope__procedure_revision__procedure"
    ).get(pk=result_id)
    credentials = Credential.objects.select_related("certificate__user").filter(
        pk__in=credential_ids
    )
    for credential in credentials:
        certificate = credential.certificate
        with translation.override(settings.LANGUAGE_CODE):
            context = {
                "result": result,
                "what": what,
                "certificate": certificate,
                "credential": credential,
                "scope": _scope_label(result.scope),
                "verify_url": verify_url(certificate),
            }
            subject = render_to_string(
                "credentials/email/proficiency_subject.txt", context
            ).strip()
            body = render_to_string("credentials/email/proficiency_body.txt", context)
        EmailMultiAlternatives(
            subject=subject, body=body, to=_reminder_recipients(certificate)
        ).send()
