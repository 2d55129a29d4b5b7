"""The 500 page under the host's brand (every URLconf's handler500), so that a reseller's client never reads
"Tollgate" on it, with the request's Content-Security-Policy nonce on its <style>. It must render whatever
broke: without the brand if reading it fails too."""

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponseServerError
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token

from config.csp import csp_nonce
from whitelabel.brands.rendering import BrandLook, brand_look

logger = logging.getLogger(__name__)


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponseServerError:
    context = {"brand": _brand_or_none(request), "csp_nonce": csp_nonce(request)}
    return HttpResponseServerError(loader.get_template("500.html").render(context))


def _brand_or_none(request: HttpRequest) -> BrandLook | None:
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.schema_name == settings.PUBLIC_SCHEMA_NAME:
        return None
    try:
        return brand_look(tenant=tenant)
    except Exception:  # the database or the cache may be what failed: the page shows without the brand
        logger.warning("brand_unavailable_on_error_page tenant=%s", tenant.pk)
        return None
