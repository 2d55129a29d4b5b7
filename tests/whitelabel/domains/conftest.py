from tests.support.dns import dns_zone

__all__ = ["dns_zone"]
