"""API endpoints of tenants: the caller's tenant and its API keys."""

from __future__ import annotations

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
from tenants.models import ApiKey, Tenant
from tenants.selectors import api_key_get, api_key_list, tenant_primary_domain
from tenants.services import api_key_create, api_key_revoke, api_key_scopes_check


class TenantDetailApi(APIView):
    required_scopes = {"GET": "read"}
    required_actions = {"GET": Action.USE_PRODUCT}

    @extend_schema_serializer(component_name="Tenant")
    class OutputSerializer(serializers.ModelSerializer):
        domain = serializers.SerializerMethodField()

        class Meta:
            model = Tenant
            fields = ["slug", "name", "type", "status", "domain", "billing_email", "created_at"]

        def get_domain(self, tenant: Tenant) -> str | None:
            return tenant_primary_domain(tenant)

    @extend_schema(operation_id="tenant_retrieve", summary="The caller's tenant", description=scopes_note("read"),
                   responses={200: OutputSerializer, **error_responses(401, 403)})
    def get(self, request):
        return Response(self.OutputSerializer(request.tenant).data)


@extend_schema_serializer(component_name="ApiKey")
class ApiKeyOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "scopes", "created_by", "created_at", "last_used_at", "revoked_at"]


class ApiKeyListCreateApi(APIView):
    pagination_class = ApiCursorPagination
    required_scopes = {"GET": "read", "POST": "write"}
    required_actions = {"GET": Action.MANAGE_API_KEYS, "POST": Action.MANAGE_API_KEYS}

    @extend_schema_serializer(component_name="ApiKeyCreate")
    class InputSerializer(StrictInputSerializer):
        name = StrictCharField(max_length=100)
        scopes = serializers.ListField(
            child=serializers.ChoiceField(choices=ApiKey.Scope.choices), min_length=1,
            max_length=len(ApiKey.Scope.choices)
        )

    @extend_schema_serializer(component_name="ApiKeyCreated")
    class CreatedSerializer(ApiKeyOutputSerializer):
        key = serializers.CharField(help_text="The full key. Shown once: store it now.")

        class Meta(ApiKeyOutputSerializer.Meta):
            fields = [*ApiKeyOutputSerializer.Meta.fields, "key"]

    @extend_schema(operation_id="api_keys_list", summary="List API keys", description=scopes_note("read"),
                   responses={200: ApiKeyOutputSerializer(many=True), **error_responses(400, 401, 403)})
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(api_key_list(tenant=request.tenant), request, view=self)
        return paginator.get_paginated_response(ApiKeyOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="api_keys_create", summary="Create an API key",
        description=scopes_note("write") + " A key can only create keys with scopes it has itself. "
        "Send an Idempotency-Key header to make retries safe: the key's secret is shown once, so a retry of a "
        "request that succeeded answers 409 secret_already_shown with the created key (without its secret).",
        request=InputSerializer, parameters=[IDEMPOTENCY_KEY_HEADER],
        responses={201: CreatedSerializer, **error_responses(400, 401, 403, 409, 413, 415)},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        scopes = data.validated_data["scopes"]
        creator_scopes = list(request.auth.scopes) if isinstance(request.auth, ApiKey) else None
        # Before the Idempotency-Key is looked at: a replay must not skip it.
        api_key_scopes_check(scopes=scopes, creator_scopes=creator_scopes)
        return idempotent_response(
            request, secret_fields={"key"},
            execute=lambda: self._create(request, name=data.validated_data["name"], scopes=scopes,
                                         creator_scopes=creator_scopes),
        )

    def _create(self, request, *, name: str, scopes: list[str], creator_scopes: list[str] | None) -> Response:
        created = api_key_create(tenant=request.tenant, name=name, scopes=scopes, created_by=request.user.email,
                                 creator_scopes=creator_scopes)
        body = {**ApiKeyOutputSerializer(created.api_key).data, "key": created.secret}
        return Response(body, status=status.HTTP_201_CREATED)


class ApiKeyRevokeApi(APIView):
    required_scopes = {"POST": "write"}
    required_actions = {"POST": Action.MANAGE_API_KEYS}

    @extend_schema(operation_id="api_keys_revoke", summary="Revoke an API key", request=None,
                   description=scopes_note("write") + " Revoking a revoked key changes nothing.",
                   responses={200: ApiKeyOutputSerializer, **error_responses(401, 403, 404)})
    def post(self, request, api_key_id: int):
        # No body is expected; one that is there must still be valid JSON without fields.
        StrictInputSerializer(data=request.data).is_valid(raise_exception=True)
        api_key = api_key_get(tenant=request.tenant, api_key_id=api_key_id)
        if api_key is None:
            raise ApiError(status_code=404, code="not_found", message="No API key with this id.")
        return Response(ApiKeyOutputSerializer(api_key_revoke(api_key=api_key)).data)


