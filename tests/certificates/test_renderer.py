"""Rendering in renderer processes (production) and in process (default)."""

import io
import os

import pytest
from pypdf import PdfReader

from certificates import renderer
from certificates.admin_views import sample_certificate
from certificates.rendering import certificate_context


@pytest.fixture
def renderer_processes(settings):
    settings.CERTIFICATES_RENDER_PROCESSES = 1
    settings.CERTIFICATES_RENDER_TIMEOUT = 120  # the first render spawns a process
    renderer.shutdown()
    yield settings
    renderer.shutdown()


def _render_once() -> tuple[dict, int]:
    """Render the sample certificate; its context and the renderer's pid."""
    context = certificate_context(sample_certificate())
    renderer.render_certificate_pdf(context)
    [pid] = renderer.renderer_pids()
    return context, pid


def _text(data: bytes) -> str:
    return PdfReader(io.BytesIO(data)).pages[0].extract_text().replace(" ", "")


def test_default_renders_in_this_process(settings):
    settings.CERTIFICATES_RENDER_PROCESSES = 0
    data = renderer.render_certificate_pdf(certificate_context(sample_certificate()))
    assert "刘堃" in _text(data)
    assert renderer.renderer_pids() == []


@pytest.mark.slow
def test_renderer_process_renders_the_certificate(renderer_processes):
    certificate = sample_certificate()
    attachment = renderer.EmbeddedFile(name="credential.json", data=b'{"a": 1}')
    data = renderer.render_certificate_pdf(
        certificate_context(certificate), attachments=[attachment]
    )
    pids = renderer.renderer_pids()
    assert len(pids) == 1 and pids[0] != os.getpid()
    text = _text(data)
    assert "刘堃" in text and certificate.serial in text
    reader = PdfReader(io.BytesIO(data))
    assert "credential.json" in reader.attachments
    # The same renderer serves the next certificate.
    renderer.render_certificate_pdf(certificate_context(certificate))
    assert renderer.renderer_pids() == pids


@pytest.mark.slow
def test_a_crashed_renderer_is_reported_and_replaced(renderer_processes):
    context, first = _render_once()
    os.kill(first, 9)
    with pytest.raises(renderer.RendererError, match="stopped unexpectedly"):
        renderer.render_certificate_pdf(context)
    data = renderer.render_certificate_pdf(context)
    assert "刘堃" in _text(data)
    assert renderer.renderer_pids() and renderer.renderer_pids() != [first]


@pytest.mark.slow
def test_a_hung_render_is_stopped_after_the_timeout(renderer_processes):
    context, first = _render_once()
    renderer_processes.CERTIFICATES_RENDER_TIMEOUT = 0.001
    with pytest.raises(renderer.RendererError, match="did not finish"):
        renderer.render_certificate_pdf(context)
    renderer_processes.CERTIFICATES_RENDER_TIMEOUT = 120
    assert "刘堃" in _text(renderer.render_certificate_pdf(context))
    assert first not in renderer.renderer_pids()


@pytest.mark.slow
def test_renderer_is_replaced_after_its_render_budget(renderer_processes):
    renderer_processes.CERTIFICATES_RENDERER_MAX_RENDERS = 2
    context, first = _render_once()
    renderer.render_certificate_pdf(context)
    renderer.render_certificate_pdf(context)
    assert first not in renderer.renderer_pids()


@pytest.mark.slow
@pytest.mark.django_db
def test_issued_certificate_is_rendered_by_the_renderer_process(
    renderer_processes, enrollment, django_capture_on_commit_callbacks
):
    from certificates import services
    from certificates.models import RenderStatus

    with django_capture_on_commit_callbacks(execute=True):
        issued = services.certificate_issue_for_enrollment(enrollment=enrollment)
    issued.refresh_from_db()
    assert issued.render_status == RenderStatus.READY
    assert renderer.renderer_pids()  # it went through the renderer process
    data = issued.pdf.read()
    assert issued.holder_name in _text(data)
    # The embedded Open Badges credential travelled to the renderer and back.
    assert PdfReader(io.BytesIO(data)).attachments


@pytest.mark.slow
def test_renderer_process_loads_only_the_pdf_renderer(renderer_processes):
    renderer.render_certificate_pdf(certificate_context(sample_certificate()))
    described = renderer._pool().submit(renderer._describe_renderer).result(60)
    assert described["pid"] in renderer.renderer_pids()
    assert described["installed_apps"] == []
    assert described["imports_weasyprint"]
    assert not described["imports_wagtail"]
    assert not described["imports_models"]


@pytest.mark.slow
def test_an_idle_renderer_is_stopped_and_restarted_on_demand(renderer_processes):
    import time

    renderer_processes.CERTIFICATES_RENDERER_IDLE_SECONDS = 0.3
    context, first = _render_once()
    deadline = time.monotonic() + 10
    while renderer.renderer_pids() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert renderer.renderer_pids() == []
    assert "刘堃" in _text(renderer.render_certificate_pdf(context))
    assert renderer.renderer_pids() and renderer.renderer_pids() != [first]


@pytest.mark.slow
def test_a_busy_renderer_is_not_stopped_as_idle(renderer_processes):
    import time

    renderer_processes.CERTIFICATES_RENDERER_IDLE_SECONDS = 0.5
    context, first = _render_once()
    for _ in range(6):  # renders keep coming, each within the idle period
        time.sleep(0.2)
        renderer.render_certificate_pdf(context)
    assert renderer.renderer_pids() == [first]
