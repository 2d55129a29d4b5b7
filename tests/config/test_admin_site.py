import pytest
from django.utils import timezone

from billing.models import Product
from billing.quotes.services import service_quote_request
from tests.support.factories import OpsUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(public_client, db):
    public_client.force_login(OpsUserFactory(is_superuser=True))
    return public_client


def app_labels(response) -> list[str]:
    return [app["app_label"] for app in response.context["app_list"]]


def test_the_index_lists_tenants_billing_metering_then_stripe_first(admin_client):
    labels = app_labels(admin_client.get("/admin/"))

    ours_first = [label for label in labels if label in {"tenants", "billing", "metering", "djstripe"}]
    assert ours_first == ["tenants", "billing", "metering", "djstripe"]
    assert labels.index("djstripe") < labels.index("django_celery_beat")


def test_the_index_shows_only_the_stripe_models_ops_act_on(admin_client):
    [stripe] = [app for app in admin_client.get("/admin/").context["app_list"] if app["app_label"] == "djstripe"]

    assert sorted(model["object_name"] for model in stripe["models"]) == [
        "Customer", "Dispute", "PaymentIntent", "Refund", "WebhookEndpoint", "WebhookEventTrigger"]


def test_a_hidden_stripe_model_is_still_reachable_by_its_url(admin_client):
    assert admin_client.get("/admin/djstripe/charge/").status_code == 200


def test_the_index_counts_the_quotes_awaiting_a_price(admin_client, tenant_alpha):
    service_quote_request(tenant=tenant_alpha, product=Product.objects.first(), brief="Audit my site",
                          actor="owner@alpha.test", now=timezone.now())

    response = admin_client.get("/admin/")

    queues = {queue.label: queue.count for queue in response.context["attention_queues"]}
    assert queues["Quotes awaiting a price"] == 1
    assert b"Needs attention" in response.content
