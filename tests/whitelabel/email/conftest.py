import pytest

from tests.support.dns import dns_zone

__all__ = ["dns_zone"]


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    """Uploads (brand logos) land in the test's own folder, never in .data/media."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def platform_sender(settings):
    settings.DEFAULT_FROM_EMAIL = "Tollgate <no-reply@localhost>"
    settings.EMAIL_SPF_INCLUDE = "_spf.tollgate.example"
