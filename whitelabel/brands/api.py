"""The branding API: GET/PUT /api/v1/branding on the tenant's host.

GET answers the brand the tenant shows (its own, else its agency's, marked `inherited`), 404 when it shows
Tollgate's look. PUT creates or changes the tenant's own brand (scope `write`, staff who manage settings); fields
left out keep their value. Images travel base64-encoded in the JSON body and are re-encoded to PNG."""

from __future__ import annotations

import base64
import binascii
import io

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import Action
from config.api.errors import ApiError
from config.api.schema import error_responses, scopes_note
from config.api.serializers import StrictCharField, StrictInputSerializer
from whitelabel.brands.selectors import brand_for
from whitelabel.brands.services import brand_save
from whitelabel.models import Brand
from whitelabel.models.brands import HEX_COLOUR


@extend_schema_serializer(component_name="Brand")
class BrandSerializer(serializers.Serializer):
    display_name = serializers.CharField()
    inherited = serializers.BooleanField(help_text="True when this is the tenant's agency's brand, not its own.")
    logo_url = serializers.CharField(allow_null=True)
    favicon_url = serializers.CharField(allow_null=True)
    primary_colour = serializers.CharField()
    accent_colour = serializers.CharField()
    custom_css = serializers.CharField(allow_blank=True)
    support_url = serializers.CharField(allow_blank=True)
    support_email = serializers.CharField(allow_blank=True)
    legal_footer = serializers.CharField(allow_blank=True)
    email_sender_name = serializers.CharField(allow_blank=True)
    email_sender_address = serializers.CharField(allow_blank=True)
    invoice_header = serializers.CharField(allow_blank=True)
    invoice_footer = serializers.CharField(allow_blank=True)
    show_powered_by = serializers.BooleanField()
    landing_title = serializers.CharField(allow_blank=True)
    landing_text = serializers.CharField(allow_blank=True)
    version = serializers.IntegerField()
    updated_at = serializers.DateTimeField()


def _brand_data(brand: Brand, *, tenant_id: int) -> dict:
    return {
        **{name: getattr(brand, name) for name in BrandSerializer().fields if hasattr(Brand, name)},
        "inherited": brand.tenant_id != tenant_id,
        "logo_url": brand.logo.url if brand.logo else None,
        "favicon_url": brand.favicon.url if brand.favicon else None,
    }


def _colour_field() -> serializers.RegexField:
    return serializers.RegexField(HEX_COLOUR.regex, required=False, help_text="#RRGGBB",
                                  error_messages={"invalid": "A colour as #RRGGBB."})


def _text_field(max_length: int | None = None) -> StrictCharField:
    return StrictCharField(required=False, allow_blank=True, trim_whitespace=False, max_length=max_length)


class _ImageField(serializers.CharField):
    """A base64-encoded image: decoded to a file for brand_save; null removes the image."""

    def __init__(self, **kwargs):
        super().__init__(required=False, allow_null=True, trim_whitespace=True, **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            return io.BytesIO(base64.b64decode(data, validate=True))
        except (binascii.Error, ValueError):
            raise serializers.ValidationError("Not valid base64.") from None


class BrandingApi(APIView):
    required_scopes = {"GET": "read", "PUT": "write"}
    required_actions = {"GET": Action.USE_PRODUCT, "PUT": Action.MANAGE_SETTINGS}

    @extend_schema_serializer(component_name="BrandUpdate")
    class InputSerializer(StrictInputSerializer):
        display_name = StrictCharField(required=False, max_length=100)
        primary_colour = _colour_field()
        accent_colour = _colour_field()
        custom_css = _text_field()
        support_url = _text_field(200)
        support_email = _text_field(254)
        legal_footer = _text_field()
        email_sender_name = _text_field(100)
        email_sender_address = _text_field(254)
        invoice_header = _text_field()
        invoice_footer = _text_field()
        show_powered_by = serializers.BooleanField(required=False)
        landing_title = _text_field(200)
        landing_text = _text_field()
        logo = _ImageField(help_text="PNG, JPEG or WebP, base64; null removes it. Stored re-encoded as PNG.")
        favicon = _ImageField(help_text="PNG, JPEG, WebP or ICO, base64; null removes it.")

    @extend_schema(operation_id="branding_retrieve", summary="The brand the tenant shows",
                   description=scopes_note("read") + " The tenant's own brand, else its agency's (`inherited`); "
                   "404 when it shows Tollgate's look.",
                   responses={200: BrandSerializer, **error_responses(401, 403, 404)})
    def get(self, request):
        brand = brand_for(tenant=request.tenant)
        if brand is None:
            raise ApiError(status_code=404, code="not_found", message="This workspace has no brand.")
        return Response(BrandSerializer(_brand_data(brand, tenant_id=request.tenant.pk)).data)

    @extend_schema(operation_id="branding_update", summary="Create or change the tenant's brand",
                   description=scopes_note("write") + " Fields left out keep their value. Needs the plan's "
                   "white_label entitlement (402 plan_upgrade_required). Refused with 400 brand_css_invalid, "
                   "brand_contrast_insufficient (with the ratio), brand_image_invalid or brand_invalid.",
                   request=InputSerializer, responses={200: BrandSerializer, **error_responses(400, 401, 402, 403)})
    def put(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        brand = brand_save(tenant=request.tenant, data=data.validated_data, now=timezone.now())
        return Response(BrandSerializer(_brand_data(brand, tenant_id=request.tenant.pk)).data)
