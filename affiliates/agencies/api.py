"""The agency API (scope `agency`): an agency's client workspaces, on the agency's own host.

GET/POST /api/v1/clients, GET /api/v1/clients/{slug}, GET /api/v1/clients/{slug}/invoices. A slug that is not
one of the caller's clients is answered 404 like one that does not exist; a caller that is not an agency gets
403 not_an_agency. Without the client's grant, usage and health are null: the agency sees what billing says."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import Action
from affiliates.agencies.exceptions import ClientNotFound, NotAnAgency
from affiliates.agencies.selectors import ClientRow, agency_client_get, agency_client_list, client_summary
from affiliates.agencies.services import client_workspace_create
from billing.invoicing.selectors import invoice_list
from billing.models.invoices import ISSUED_STATUS_CHOICES
from config.api.idempotency import idempotent_response
from config.api.pagination import ApiCursorPagination
from config.api.schema import IDEMPOTENCY_KEY_HEADER, error_responses, scopes_note
from config.api.serializers import StrictCharField, StrictInputSerializer
from config.money import Money, money_round, money_to_api
from tenants.models import Tenant
from tenants.selectors import tenant_primary_domain

SCOPE = "agency"


@extend_schema_serializer(component_name="AgencyMoney")
class _MoneySerializer(serializers.Serializer):
    amount = serializers.CharField(help_text='A decimal string in minor units, e.g. "12.34".')
    currency = serializers.CharField()


@extend_schema_field(_MoneySerializer)
class _MoneyField(serializers.Field):
    def to_representation(self, value: Money) -> dict[str, str]:
        return money_to_api(money_round(value))


@extend_schema_serializer(component_name="ClientPlan")
class _PlanSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


@extend_schema_serializer(component_name="ClientAccess")
class _AccessSerializer(serializers.Serializer):
    granted = serializers.BooleanField()
    role = serializers.CharField(allow_null=True, help_text="The role the client gave the agency's staff.")


@extend_schema_serializer(component_name="ClientMeterUsage")
class _UsageSerializer(serializers.Serializer):
    meter = serializers.CharField()
    used = serializers.CharField(help_text="This calendar month (UTC), a decimal string.")
    limit = serializers.CharField(allow_null=True)
    percent_used = serializers.CharField(allow_null=True)


@extend_schema_serializer(component_name="ClientHealth")
class _HealthSerializer(serializers.Serializer):
    score = serializers.CharField(help_text="Churn risk, 0 to 100.")
    level = serializers.CharField()


@extend_schema_serializer(component_name="Client")
class ClientSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=Tenant.Status.choices)
    domain = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    plan = _PlanSerializer()
    mrr = serializers.ListField(child=_MoneyField(), help_text="As of the latest revenue snapshot, per currency.")
    open_due = serializers.ListField(child=_MoneyField(), help_text="Open invoices' amounts due, per currency.")
    access = _AccessSerializer()
    usage = _UsageSerializer(many=True, allow_null=True, help_text="With the client's grant only; else null.")
    health = _HealthSerializer(allow_null=True, help_text="With the client's grant only; else null.")


def _client_data(row: ClientRow) -> dict:
    client = row.client
    return {
        "slug": client.slug, "name": client.name, "status": client.status,
        "domain": tenant_primary_domain(client), "created_at": client.created_at,
        "plan": {"code": row.plan_code, "name": row.plan_name}, "mrr": row.mrr, "open_due": row.open_due,
        "access": {"granted": row.has_access, "role": row.access_role},
        "usage": None if row.usage is None else [
            {"meter": meter.meter.code, "used": format(meter.used, "f"),
             "limit": format(meter.quota.monthly_limit, "f") if meter.quota else None,
             "percent_used": format(meter.percent_used, "f") if meter.percent_used is not None else None}
            for meter in row.usage],
        "health": None if row.health is None else {"score": format(row.health.score, "f"), "level": row.health.level},
    }


def _agency(request) -> Tenant:
    if request.tenant.type != Tenant.Type.AGENCY:
        raise NotAnAgency("Only an agency workspace has client workspaces.")
    return request.tenant


def _client_or_404(request, slug: str) -> Tenant:
    client = agency_client_get(agency=_agency(request), slug=slug)
    if client is None:
        raise ClientNotFound("No client workspace of yours has this name.")
    return client


class ClientListCreateApi(APIView):
    pagination_class = ApiCursorPagination
    required_scopes = {"GET": SCOPE, "POST": SCOPE}
    required_actions = {"GET": Action.MANAGE_CLIENTS, "POST": Action.MANAGE_CLIENTS}

    @extend_schema_serializer(component_name="ClientCreate")
    class InputSerializer(StrictInputSerializer):
        name = StrictCharField(max_length=100)
        slug = StrictCharField(max_length=40)
        owner_email = serializers.EmailField(help_text="The client's owner: invited by email to set a password.")

    @extend_schema(operation_id="clients_list", summary="The agency's client workspaces",
                   description=scopes_note(SCOPE) + " Newest first.",
                   responses={200: ClientSerializer(many=True), **error_responses(400, 401, 403)})
    def get(self, request):
        agency = _agency(request)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(agency_client_list(agency=agency), request, view=self)
        now = timezone.now()
        rows = [client_summary(client=client, now=now) for client in page]
        return paginator.get_paginated_response(ClientSerializer([_client_data(row) for row in rows], many=True).data)

    @extend_schema(
        operation_id="clients_create", summary="Create a client workspace",
        description=scopes_note(SCOPE) + " Provisions the workspace (its owner is invited by email) and binds it to "
        "the agency. Needs the plan's client_tenants entitlement (402 plan_upgrade_required). The same slug and "
        "owner again answer the existing client (200).",
        request=InputSerializer, parameters=[IDEMPOTENCY_KEY_HEADER],
        responses={201: ClientSerializer, 200: ClientSerializer, **error_responses(400, 401, 402, 403, 409)},
    )
    def post(self, request):
        agency = _agency(request)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return idempotent_response(request, execute=lambda: self._create(request, agency, **data.validated_data))

    def _create(self, request, agency: Tenant, *, name: str, slug: str, owner_email: str) -> Response:
        created = client_workspace_create(agency=agency, name=name, slug=slug, owner_email=owner_email,
                                          actor_email=request.user.email)
        row = client_summary(client=created.client, now=timezone.now())
        return Response(ClientSerializer(_client_data(row)).data,
                        status=status.HTTP_201_CREATED if created.created else status.HTTP_200_OK)


class ClientDetailApi(APIView):
    required_scopes = {"GET": SCOPE}
    required_actions = {"GET": Action.MANAGE_CLIENTS}

    @extend_schema(operation_id="clients_retrieve", summary="One client workspace",
                   description=scopes_note(SCOPE) + " Plan, status, MRR; usage and health with the client's grant.",
                   responses={200: ClientSerializer, **error_responses(401, 403, 404)})
    def get(self, request, slug: str):
        row = client_summary(client=_client_or_404(request, slug), now=timezone.now())
        return Response(ClientSerializer(_client_data(row)).data)


@extend_schema_serializer(component_name="ClientInvoice")
class ClientInvoiceSerializer(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.ChoiceField(choices=ISSUED_STATUS_CHOICES)
    currency = serializers.CharField()
    issued_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField(allow_null=True)
    paid_at = serializers.DateTimeField(allow_null=True)
    total = _MoneyField()
    amount_due = _MoneyField()
    amount_paid = _MoneyField()


class ClientInvoicePagination(ApiCursorPagination):
    ordering = ("-issued_at", "-id")


class ClientInvoiceListApi(APIView):
    pagination_class = ClientInvoicePagination
    required_scopes = {"GET": SCOPE}
    required_actions = {"GET": Action.MANAGE_CLIENTS}

    @extend_schema(operation_id="clients_invoices_list", summary="A client's invoices, newest first",
                   description=scopes_note(SCOPE) + " Finalised invoices only, without their lines.",
                   responses={200: ClientInvoiceSerializer(many=True), **error_responses(400, 401, 403, 404)})
    def get(self, request, slug: str):
        client = _client_or_404(request, slug)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(invoice_list(tenant=client), request, view=self)
        data = [{"number": invoice.number, "status": invoice.status, "currency": invoice.currency,
                 "issued_at": invoice.issued_at, "due_at": invoice.due_at, "paid_at": invoice.paid_at,
                 "total": Money(invoice.total, invoice.currency),
                 "amount_due": Money(invoice.amount_due, invoice.currency),
                 "amount_paid": Money(invoice.amount_paid, invoice.currency)} for invoice in page]
        return paginator.get_paginated_response(ClientInvoiceSerializer(data, many=True).data)
