"""GET /internal/tls/ask?domain=<host>: Caddy's on-demand TLS asks it before it obtains a certificate for a
host name it has not seen (https://caddyserver.com/docs/caddyfile/options#on-demand-tls): 200 lets it, anything
else refuses.

Answered by a middleware before tenant routing, on any Host (Caddy calls it on its own upstream address, which
is no tenant's host), from the cached routing table: no session, no CSRF, no schema switch. It has no user
authentication: keep /internal/ off the public listener (the README's Caddyfile answers it with 404 from
outside), and set TLS_ASK_TOKEN to require the same value in the X-Tls-Ask-Token header as a second lock.
"""

import hmac
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

from config.api.errors import error_json_response
from whitelabel.domains.exceptions import HostnameInvalid
from whitelabel.domains.selectors import tls_certificate_allowed
from whitelabel.domains.services import hostname_normalise

TLS_ASK_PATH = "/internal/tls/ask"
TOKEN_HEADER = "HTTP_X_TLS_ASK_TOKEN"


class TlsAskMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path != TLS_ASK_PATH:
            return self.get_response(request)
        response = tls_ask(request)
        add_never_cache_headers(response)
        return response


def tls_ask(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return error_json_response(405, code="method_not_allowed", message="Use GET.")
    expected = settings.TLS_ASK_TOKEN
    if expected and not hmac.compare_digest(request.META.get(TOKEN_HEADER, "").encode(), expected.encode()):
        return error_json_response(403, code="forbidden", message="A valid X-Tls-Ask-Token header is required.")
    raw = request.GET.get("domain", "")
    if not raw.strip():
        return error_json_response(400, code="domain_missing", message="Pass the host name as ?domain=.")
    try:
        hostname = _hostname_parse(raw)
    except HostnameInvalid:
        return error_json_response(400, code="domain_invalid", message="This is not a host name.")
    if not tls_certificate_allowed(hostname):
        return error_json_response(404, code="domain_unknown", message="No certificate for this host name.")
    return HttpResponse("ok", content_type="text/plain")


def _hostname_parse(raw: str) -> str:
    """The host name as routed. BASE_DOMAIN may be a single label (localhost), which no custom domain may be."""
    text = raw.strip().rstrip(".").lower()
    return text if text == settings.BASE_DOMAIN.lower() else hostname_normalise(raw)
