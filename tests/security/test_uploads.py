"""Hostile uploads are refused with a clear message, never a 500."""

import io

import pytest
from allauth.mfa.models import Authenticator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from wagtail.documents import get_document_model
from wagtail.images import get_image_model

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_client(client):
    editor = UserFactory(is_superuser=True)
    Authenticator.objects.create(
        user=editor, type=Authenticator.Type.TOTP, data={"secret": "x"}
    )
    client.force_login(editor)
    return client


def post_document(client, name, content):
    return client.post(
        reverse("wagtaildocs:add"),
        {"title": name, "file": SimpleUploadedFile(name, content), "collection": 1},
    )


def test_real_pdf_is_accepted(editor_client):
    response = post_document(editor_client, "规程.pdf", b"%PDF-1.7\n%\xe2\xe3\n1 0 obj")
    assert response.status_code == 302
    assert get_document_model().objects.count() == 1


def test_html_renamed_pdf_is_rejected(editor_client):
    response = post_document(
        editor_client, "evil.pdf", b"<html><script>alert(1)</script></html>"
    )
    assert response.status_code == 200
    assert "does not match" in response.content.decode() or "不符" in (
        response.content.decode()
    )
    assert not get_document_model().objects.exists()


def test_disallowed_extension_is_rejected(editor_client):
    response = post_document(editor_client, "page.html", b"<html></html>")
    assert response.status_code == 200
    assert not get_document_model().objects.exists()


def test_oversized_document_is_rejected(editor_client, settings):
    settings.ACADEMY_DOCUMENT_MAX_MB = 1
    response = post_document(
        editor_client, "big.pdf", b"%PDF-1.7\n" + b"0" * (1024 * 1024 + 10)
    )
    assert response.status_code == 200
    assert not get_document_model().objects.exists()


def test_documents_are_served_as_attachments(editor_client):
    post_document(editor_client, "规程.pdf", b"%PDF-1.7\n%\xe2\xe3\n1 0 obj")
    document = get_document_model().objects.get()
    response = editor_client.get(document.url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")


def _png(width, height) -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (width, height)).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def test_decompression_bomb_image_is_rejected(editor_client, settings):
    settings.WAGTAILIMAGES_MAX_IMAGE_PIXELS = 1_000_000
    bomb = _png(4000, 4000)  # 16 megapixels in a few kilobytes
    assert len(bomb) < 100_000
    response = editor_client.post(
        reverse("wagtailimages:add"),
        {
            "title": "bomb",
            "file": SimpleUploadedFile("bomb.png", bomb, "image/png"),
            "collection": 1,
        },
    )
    assert response.status_code == 200
    assert not get_image_model().objects.exists()


def test_svg_images_are_not_accepted(editor_client):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    response = editor_client.post(
        reverse("wagtailimages:add"),
        {
            "title": "svg",
            "file": SimpleUploadedFile("x.svg", svg, "image/svg+xml"),
            "collection": 1,
        },
    )
    assert response.status_code == 200
    assert not get_image_model().objects.exists()


def test_video_renamed_from_html_is_rejected(editor_client):
    response = post_document(editor_client, "lesson.mp4", b"<html>not a video</html>")
    assert response.status_code == 200
    assert not get_document_model().objects.exists()


def test_real_mp4_is_accepted(editor_client):
    mp4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64
    response = post_document(editor_client, "课程视频.mp4", mp4)
    assert response.status_code == 302
