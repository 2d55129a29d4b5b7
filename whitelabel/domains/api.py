"""The custom-domain API on the tenant's host: GET/POST /api/v1/domains, GET/DELETE /api/v1/domains/{id},
POST /api/v1/domains/{id}/check.

Reads need scope `read`, changes scope `write` (signed-in staff: those who manage settings, like the Domains
page). Without the plan's white_label entitlement every route answers 402 plan_upgrade_required. Another tenant's
domain id is answered 404 like one that does not exist. The list holds the claims still held (pending, verified,
active, failing); a removed, released or expired one is still readable by its id."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import Action
from config.api.errors import ApiError
from config.api.idempotency import idempotent_response
from config.api.pagination import ApiCursorPagination
from config.api.schema import IDEMPOTENCY_KEY_HEADER, error_responses, scopes_note
from config.api.serializers import StrictCharField, StrictInputSerializer
from tenants.models import Tenant
from whitelabel.domains.exceptions import CustomDomainsNotInPlan
from whitelabel.domains.selectors import (
    CHECKED_RECORDS,
    custom_domains_offered,
    domain_check_findings,
    domain_get,
    domain_list,
    domain_record_rows,
)
from whitelabel.domains.services import domain_check, domain_claim, domain_remove
from whitelabel.models import CustomDomain

REQUIRED_SCOPES = {"GET": "read", "POST": "write", "DELETE": "write"}
REQUIRED_ACTIONS = {"GET": Action.MANAGE_SETTINGS, "POST": Action.MANAGE_SETTINGS, "DELETE": Action.MANAGE_SETTINGS}


@extend_schema_serializer(component_name="CustomDomainRecord")
class _RecordSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["TXT", "CNAME", "A", "AAAA"])
    name = serializers.CharField()
    value = serializers.CharField()
    when = serializers.ChoiceField(choices=["always", "subdomain", "apex"],
                                   help_text="always: the TXT challenge; subdomain: the CNAME; apex: A/AAAA records "
                                             "instead of the CNAME (an apex cannot hold a CNAME).")


@extend_schema_serializer(component_name="CustomDomainFinding")
class _FindingSerializer(serializers.Serializer):
    record = serializers.ChoiceField(choices=CHECKED_RECORDS)
    name = serializers.CharField()
    type = serializers.CharField(help_text="TXT, CNAME or A/AAAA.")
    outcome = serializers.ChoiceField(choices=["found", "nxdomain", "no_answer", "timeout", "error"])
    values = serializers.ListField(child=serializers.CharField())
    expected = serializers.ListField(child=serializers.CharField())
    ok = serializers.BooleanField()


@extend_schema_serializer(component_name="CustomDomainCheck")
class _CheckSerializer(serializers.Serializer):
    checked_at = serializers.DateTimeField()
    result = serializers.ChoiceField(choices=["passed", "failed", "inconclusive"],
                                     help_text="inconclusive: a lookup timed out or the nameservers failed.")
    reasons = serializers.ListField(
        child=serializers.CharField(),
        help_text="challenge_missing, challenge_mismatch, not_pointed, cname_elsewhere, addresses_elsewhere, or "
                  "<type>_timeout / <type>_error.")
    findings = _FindingSerializer(many=True)


@extend_schema_serializer(component_name="CustomDomain")
class CustomDomainSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    hostname = serializers.CharField()
    status = serializers.ChoiceField(choices=CustomDomain.Status.choices)
    claimed_at = serializers.DateTimeField()
    verified_at = serializers.DateTimeField(allow_null=True)
    activated_at = serializers.DateTimeField(allow_null=True)
    failing_since = serializers.DateTimeField(allow_null=True,
                                              help_text="Released 7 days after this unless a check passes.")
    ended_at = serializers.DateTimeField(allow_null=True, help_text="When it was removed, released or expired.")
    records = _RecordSerializer(many=True, help_text="The DNS records to create at the domain's DNS host.")
    last_check = _CheckSerializer(allow_null=True, help_text="What the last check found; null before the first.")


def _domain_data(domain: CustomDomain) -> dict:
    last = domain.last_check or {}
    return {
        "id": domain.pk, "hostname": domain.hostname, "status": domain.status, "claimed_at": domain.claimed_at,
        "verified_at": domain.verified_at, "activated_at": domain.activated_at,
        "failing_since": domain.failing_since, "ended_at": domain.ended_at,
        "records": [vars(row) for row in domain_record_rows(domain)],
        "last_check": None if not last else {
            "checked_at": domain.last_checked_at, "result": last.get("result"), "reasons": last.get("reasons", []),
            "findings": [vars(finding) for finding in domain_check_findings(domain)]},
    }


def _offered(request) -> Tenant:
    tenant = request.tenant
    if not custom_domains_offered(tenant=tenant):
        raise CustomDomainsNotInPlan("Custom domains come with the White-Label plan.")
    return tenant


def _domain_or_404(request, domain_id: int) -> CustomDomain:
    try:
        return domain_get(tenant=_offered(request), domain_id=domain_id)
    except CustomDomain.DoesNotExist:
        raise ApiError(status_code=404, code="not_found", message="No domain of yours has this id.") from None


class CustomDomainPagination(ApiCursorPagination):
    ordering = ("-claimed_at", "-id")


class DomainListCreateApi(APIView):
    pagination_class = CustomDomainPagination
    required_scopes = {"GET": REQUIRED_SCOPES["GET"], "POST": REQUIRED_SCOPES["POST"]}
    required_actions = {"GET": REQUIRED_ACTIONS["GET"], "POST": REQUIRED_ACTIONS["POST"]}

    @extend_schema_serializer(component_name="CustomDomainCreate")
    class InputSerializer(StrictInputSerializer):
        hostname = StrictCharField(max_length=253, help_text="portal.example.com, or an apex such as example.com.")

    @extend_schema(operation_id="domains_list", summary="The tenant's custom domains",
                   description=scopes_note("read") + " The claims still held, newest first.",
                   responses={200: CustomDomainSerializer(many=True), **error_responses(400, 401, 402, 403)})
    def get(self, request):
        tenant = _offered(request)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(domain_list(tenant=tenant, held_only=True).select_related("tenant"),
                                           request, view=self)
        return paginator.get_paginated_response(
            CustomDomainSerializer([_domain_data(domain) for domain in page], many=True).data)

    @extend_schema(
        operation_id="domains_create", summary="Add a custom domain",
        description=scopes_note("write") + " Claims the hostname with a fresh token and answers the records to "
        "create; then POST .../check. Refused: 400 hostname_invalid (malformed, or one of the platform's), 402 "
        "custom_domain_limit_reached (the plan's number of domains) or plan_upgrade_required, 409 hostname_taken.",
        request=InputSerializer, parameters=[IDEMPOTENCY_KEY_HEADER],
        responses={201: CustomDomainSerializer, **error_responses(400, 401, 402, 403, 409)},
    )
    def post(self, request):
        tenant = _offered(request)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        hostname = data.validated_data["hostname"]
        return idempotent_response(request, execute=lambda: Response(
            CustomDomainSerializer(_domain_data(domain_claim(tenant=tenant, hostname=hostname,
                                                             now=timezone.now()))).data,
            status=status.HTTP_201_CREATED))


class DomainDetailApi(APIView):
    required_scopes = {"GET": REQUIRED_SCOPES["GET"], "DELETE": REQUIRED_SCOPES["DELETE"]}
    required_actions = {"GET": REQUIRED_ACTIONS["GET"], "DELETE": REQUIRED_ACTIONS["DELETE"]}

    @extend_schema(operation_id="domains_retrieve", summary="One custom domain, its records and last check",
                   description=scopes_note("read"),
                   responses={200: CustomDomainSerializer, **error_responses(401, 402, 403, 404)})
    def get(self, request, domain_id: int):
        return Response(CustomDomainSerializer(_domain_data(_domain_or_404(request, domain_id))).data)

    @extend_schema(operation_id="domains_destroy", summary="Remove a custom domain",
                   description=scopes_note("write") + " It stops routing at once and may be claimed again; "
                   "answers the domain, now `removed`. 409 custom_domain_not_held when it already ended.",
                   responses={200: CustomDomainSerializer, **error_responses(401, 402, 403, 404, 409)})
    def delete(self, request, domain_id: int):
        removed = domain_remove(domain=_domain_or_404(request, domain_id), now=timezone.now())
        return Response(CustomDomainSerializer(_domain_data(removed)).data)


class DomainCheckApi(APIView):
    required_scopes = {"POST": REQUIRED_SCOPES["POST"]}
    required_actions = {"POST": REQUIRED_ACTIONS["POST"]}

    @extend_schema(operation_id="domains_check", summary="Check a custom domain's DNS records now",
                   description=scopes_note("write") + " Looks the records up (a few seconds at most), stores what "
                   "it found in last_check and moves the domain on (pending → active; active → failing; failing → "
                   "active). 409 custom_domain_not_held when it already ended.",
                   request=None, responses={200: CustomDomainSerializer, **error_responses(401, 402, 403, 404, 409)})
    def post(self, request, domain_id: int):
        checked = domain_check(domain=_domain_or_404(request, domain_id), now=timezone.now())
        return Response(CustomDomainSerializer(_domain_data(checked)).data)
