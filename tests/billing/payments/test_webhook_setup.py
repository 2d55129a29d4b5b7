"""stripe_webhook_setup: the endpoint row dj-stripe verifies with, its secret from the environment."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from djstripe.models import WebhookEndpoint

pytestmark = pytest.mark.django_db


def test_the_command_records_the_endpoint_with_the_environments_secret_and_prints_its_url(settings):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_fromTheEnvironment"
    out = StringIO()

    call_command("stripe_webhook_setup", stdout=out)

    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret == "whsec_fromTheEnvironment"
    assert f"stripe listen --forward-to {endpoint.url}" in out.getvalue()
    assert "checkout.session.completed" in endpoint.enabled_events


def test_running_it_again_updates_the_secret_and_keeps_the_url(settings):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_first"
    call_command("stripe_webhook_setup", stdout=StringIO())
    url = WebhookEndpoint.objects.get().url
    settings.STRIPE_WEBHOOK_SECRET = "whsec_rotated"

    call_command("stripe_webhook_setup", stdout=StringIO())

    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.secret, endpoint.url) == ("whsec_rotated", url)


def test_without_a_secret_the_command_says_where_to_find_one(settings):
    settings.STRIPE_WEBHOOK_SECRET = ""

    with pytest.raises(CommandError, match="STRIPE_WEBHOOK_SECRET"):
        call_command("stripe_webhook_setup", stdout=StringIO())


def test_url_only_prints_just_the_endpoints_url(settings):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_fromTheEnvironment"
    out = StringIO()

    call_command("stripe_webhook_setup", "--url-only", stdout=out)

    assert out.getvalue().strip() == WebhookEndpoint.objects.get().url
