"""Stripe's webhook endpoint lives on the public host only: a tenant host (or a custom domain) does not serve it."""

import pytest
from django.urls import reverse
from djstripe.models import WebhookEventTrigger

from billing.payments.webhooks import webhook_endpoint_ensure
from devtools.stripe_fake import WEBHOOK_SECRET, signature_header
from tests.support.tenants import client_for

pytestmark = pytest.mark.django_db


def test_the_webhook_endpoint_is_not_served_on_a_tenant_host(tenant_alpha):
    endpoint = webhook_endpoint_ensure(secret=WEBHOOK_SECRET)
    path = reverse("djstripe:djstripe_webhook_by_uuid", kwargs={"uuid": endpoint.djstripe_uuid},
                   urlconf="config.urls_public")
    payload = '{"id": "evt_1", "livemode": false, "type": "customer.updated"}'

    response = client_for(tenant_alpha).post(path, payload, content_type="application/json",
                                             HTTP_STRIPE_SIGNATURE=signature_header(payload))

    assert response.status_code == 404
    assert not WebhookEventTrigger.objects.exists()


def test_the_webhook_endpoints_url_is_on_the_public_host(tenant_alpha, settings):
    settings.SITE_SCHEME, settings.SITE_PORT = "https", ""

    endpoint = webhook_endpoint_ensure(secret=WEBHOOK_SECRET)

    assert endpoint.url == f"https://{settings.BASE_DOMAIN}/stripe/webhook/{endpoint.djstripe_uuid}/"
