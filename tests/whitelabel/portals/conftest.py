import pytest

from tests.support.dns import dns_zone

__all__ = ["dns_zone"]


@pytest.fixture(autouse=True)
def platform_hosts(settings, tmp_path):
    settings.BASE_DOMAIN = "localhost"
    settings.CUSTOM_DOMAIN_TARGET = "domains.localhost"
    settings.CUSTOM_DOMAIN_APEX_ADDRESSES = ["192.0.2.10"]
    settings.CUSTOM_DOMAIN_ON_DEMAND_TLS = True
    settings.MEDIA_ROOT = tmp_path / "media"
