"""The Content-Security-Policy of every HTML page (the ops admin and the JSON API aside).

What a page, and a brand's custom CSS on it, may load comes from this host alone: no script but our static files
(no inline script, no eval: htmx runs with `allowEval` off), no stylesheet from elsewhere, no `url()` to another
host (img-src, font-src), no fetch elsewhere, no framing by others. A brand's CSS is its own stylesheet served
from the host (/branding/brand.css), so style-src needs no 'unsafe-inline'; the few <style> blocks our templates
still write carry the request's nonce (`{{ csp_nonce }}`).

One exception, by decorator: a page whose sandboxed srcdoc frames show markup as typed (the Branding page's live
preview of an unsaved brand and of an inline-styled email) allows inline styles; its scripts stay confined.

form-action also allows the hosts a form's redirect may lead to (browsers check form-action on redirects): the
platform's hosts, the current host's subdomains (a reseller domain's client hosts) and Stripe's hosted pages."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse

HEADER = "Content-Security-Policy"
UNCOVERED_PREFIXES = ("/admin/", "/api/")
STRIPE_API = "https://api.stripe.com"
STRIPE_HOSTED_PAGES = ("https://checkout.stripe.com", "https://billing.stripe.com")


def csp_nonce(request: HttpRequest) -> str:
    """The nonce of this request's policy, for a <style> block a template writes; "" outside the middleware."""
    return getattr(request, "csp_nonce", "")


def nonce(request: HttpRequest) -> dict[str, str]:
    """Context processor: `csp_nonce`."""
    return {"csp_nonce": csp_nonce(request)}


def csp_inline_styles_allowed(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Marks a view whose page needs inline styles it cannot nonce (markup inside srcdoc frames)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response.csp_inline_styles = True
        return response

    return wrapped


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.csp_nonce = secrets.token_urlsafe(16)
        response = self.get_response(request)
        covered = (not request.path.startswith(UNCOVERED_PREFIXES)
                   and response.get("Content-Type", "").startswith("text/html") and HEADER not in response)
        if covered:
            response[HEADER] = policy_for(request, inline_styles=getattr(response, "csp_inline_styles", False))
        return response


def policy_for(request: HttpRequest, *, inline_styles: bool = False) -> str:
    """The policy of one page on this request's host."""
    static, media = _origin(settings.STATIC_URL), _origin(settings.MEDIA_URL)
    styles = "'unsafe-inline'" if inline_styles else f"'nonce-{csp_nonce(request)}'"
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", static],
        "style-src": ["'self'", static, styles],
        "img-src": ["'self'", "data:", static, media],
        "font-src": ["'self'", "data:", static],
        "connect-src": ["'self'"],
        "frame-src": ["'self'"],
        "frame-ancestors": ["'self'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'", *_form_redirect_sources(request)],
        "object-src": ["'none'"],
    }
    return "; ".join(" ".join([name, *(source for source in sources if source)])
                     for name, sources in directives.items())


def _origin(url: str) -> str:
    """The origin of an absolute URL (a CDN for static files, a bucket for media); "" for a path on this host."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _form_redirect_sources(request: HttpRequest) -> list[str]:
    port = f":{settings.SITE_PORT}" if settings.SITE_PORT else ""
    names = [settings.BASE_DOMAIN, f"*.{settings.BASE_DOMAIN}"]
    try:
        names.append("*." + request.get_host().rsplit(":", 1)[0])
    except DisallowedHost:  # answered before routing refused it: only the platform's hosts
        pass
    platform = [f"{settings.SITE_SCHEME}://{name}{port}" for name in dict.fromkeys(names)]
    # The fake Stripe of the demo and the tests serves its hosted pages beside its API.
    stripe_api = settings.STRIPE_API_BASE.rstrip("/")
    stripe = list(STRIPE_HOSTED_PAGES) if stripe_api == STRIPE_API else [_origin(stripe_api)]
    return platform + stripe
