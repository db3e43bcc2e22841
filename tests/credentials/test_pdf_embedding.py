"""The certificate PDF carries its credential (PDF/A-3) and prints its scopes."""

import hashlib
import io
import json

import pytest
from pypdf import PdfReader

from certificates import services as certificate_services
from credentials.models import Credential

from .helpers import status_bit, verify_independently
from .test_scopes import _scope

pytestmark = pytest.mark.django_db


@pytest.fixture
def rendered(jjg52, world, course):
    """A scoped certificate whose PDF was rendered before its credential task ran."""
    from tests.certificates.factories import make_completed_enrollment

    _scope(course)
    enrollment = make_completed_enrollment(user=world.learner, course=course)
    certificate = certificate_services.certificate_issue_for_enrollment(
        enrollment=enrollment
    )
    assert not Credential.objects.filter(certificate=certificate).exists()
    return certificate_services.certificate_render(certificate_id=certificate.pk)


def _reader(certificate) -> PdfReader:
    with certificate.pdf.open("rb") as handle:
        return PdfReader(io.BytesIO(handle.read()))


def test_pdf_embeds_the_credential_which_verifies(client, rendered):
    reader = _reader(rendered)
    attachments = reader.attachments
    assert set(attachments) == {"credential.jwt", "credential.json"}
    token = attachments["credential.jwt"][0].decode()
    credential = Credential.objects.get(certificate=rendered)
    assert token == credential.jwt  # the stored token, not a re-signed one
    claims = verify_independently(client, token)
    assert claims["vc"]["evidence"][0]["name"] == rendered.serial
    for entry in claims["vc"]["credentialStatus"]:
        assert status_bit(client, entry) == 0
    readable = json.loads(attachments["credential.json"][0])
    assert readable["id"] == credential.urn
    # A tampered copy of the embedded token fails.
    header, payload, signature = token.split(".")
    tampered = ".".join([header, payload[:-4] + "AAAA", signature])
    from jwcrypto.common import JWException

    with pytest.raises((JWException, ValueError)):
        verify_independently(client, tampered)


def test_pdf_is_pdf_a_3b_with_associated_files(rendered):
    reader = _reader(rendered)
    root = reader.trailer["/Root"]
    assert "/OutputIntents" in root
    metadata = root["/Metadata"].get_object().get_data().decode()
    assert 'pdfaid:part="3"' in metadata
    assert 'pdfaid:conformance="B"' in metadata
    relationships = {str(spec.get_object()["/AFRelationship"]) for spec in root["/AF"]}
    assert relationships == {"/Data"}


def test_stored_hash_matches_the_stored_file(rendered):
    with rendered.pdf.open("rb") as handle:
        data = handle.read()
    assert hashlib.sha256(data).hexdigest() == rendered.pdf_sha256
    assert len(data) == rendered.pdf_size


def test_pdf_prints_the_frozen_scope(rendered):
    text = _reader(rendered).pages[0].extract_text().replace(" ", "")
    for expected in ("弹簧管式压力表", "0~60MPa", "1.6级", "JJG52-2013", "可独立操作"):
        assert expected in text
    assert len(_reader(rendered).pages) == 1
