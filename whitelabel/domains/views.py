"""The page for a host the routing table does not know (settings.DEFAULT_NOT_FOUND_TENANT_VIEW)."""

from django.http import HttpRequest, HttpResponse
from django.http.request import split_domain_port
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers

from whitelabel.domains.selectors import domain_waiting_for_route


def unknown_host(request: HttpRequest) -> HttpResponse:
    """A custom domain claimed but not routed yet (pending, verified) gets a neutral "not ready" page: nothing of
    the tenant, not even its name, since whoever points a hostname at us has not proven it is theirs until it is
    active. Any other unknown host gets the plain 404 page. Neither is cached: the answer changes with DNS."""
    hostname, _port = split_domain_port(request.get_host())
    if hostname and domain_waiting_for_route(hostname):
        response = render(request, "whitelabel/domain_not_ready.html", status=404)
    else:
        response = render(request, "404_host.html", status=404)
    add_never_cache_headers(response)
    return response
