"""The notification centre's pages: the bell with the unread count, the list, marking read, preferences."""

import re

import pytest
from django_tenants.utils import schema_context

from notifications.categories import Category
from notifications.models import Notification, NotificationPreference
from notifications.services import notifications_mark_read, notify
from tests.support.staff import staff_client
from tests.support.tenants import owner_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(tenant_alpha):
    """Alpha's owner with nothing unread (provisioning welcomed them)."""
    user = owner_of(tenant_alpha)
    with schema_context(tenant_alpha.schema_name):
        notifications_mark_read(user=user)
    return user


def announce(tenant, cause: str, *, title: str = "Invoice TG-1 was issued", link: str = "/billing/invoices/TG-1/"):
    return notify(tenant=tenant, category=Category.INVOICE_ISSUED, cause=cause, title=title,
                  body="Invoice TG-1 was issued: 99.00 USD.", link=link)


def mine(tenant, cause: str) -> Notification:
    with schema_context(tenant.schema_name):
        return Notification.objects.get(cause=cause)


def bell_count(response) -> str | None:
    match = re.search(rb'class="bell-count"[^>]*>([^<]+)<', response.content)
    return match.group(1).decode() if match else None


def test_the_bell_shows_the_unread_count_on_staff_pages(alpha_owner_client, tenant_alpha, owner):
    announce(tenant_alpha, "invoice:1")
    announce(tenant_alpha, "invoice:2")

    assert bell_count(alpha_owner_client.get("/")) == "2"


def test_the_bell_shows_no_count_when_everything_is_read(alpha_owner_client, owner):
    response = alpha_owner_client.get("/")

    assert b'data-testid="bell"' in response.content and bell_count(response) is None


def test_the_list_shows_the_persons_notifications_newest_first(alpha_owner_client, tenant_alpha, owner):
    announce(tenant_alpha, "invoice:1", title="First invoice")
    announce(tenant_alpha, "invoice:2", title="Second invoice")

    content = alpha_owner_client.get("/notifications/").content.decode()

    assert content.index("Second invoice") < content.index("First invoice")


def test_opening_a_notification_marks_it_read_and_follows_its_link(alpha_owner_client, tenant_alpha, owner):
    announce(tenant_alpha, "invoice:1")
    notification = mine(tenant_alpha, "invoice:1")

    response = alpha_owner_client.get(f"/notifications/{notification.pk}/")

    assert response.status_code == 302 and response["Location"] == "/billing/invoices/TG-1/"
    assert mine(tenant_alpha, "invoice:1").read_at is not None


def test_a_link_to_another_host_is_not_followed(alpha_owner_client, tenant_alpha, owner):
    announce(tenant_alpha, "invoice:1", link="https://elsewhere.example/phish")
    notification = mine(tenant_alpha, "invoice:1")

    response = alpha_owner_client.get(f"/notifications/{notification.pk}/")

    assert response["Location"] == "/notifications/"


def test_marking_one_read_leaves_the_others_unread(alpha_owner_client, tenant_alpha, owner):
    announce(tenant_alpha, "invoice:1")
    announce(tenant_alpha, "invoice:2")

    response = alpha_owner_client.post(f"/notifications/{mine(tenant_alpha, 'invoice:1').pk}/read/")

    assert response.status_code == 302
    assert mine(tenant_alpha, "invoice:1").read_at is not None and mine(tenant_alpha, "invoice:2").read_at is None


def test_mark_all_read_empties_the_bell(alpha_owner_client, tenant_alpha, owner):
    announce(tenant_alpha, "invoice:1")
    announce(tenant_alpha, "invoice:2")

    alpha_owner_client.post("/notifications/read/")

    assert bell_count(alpha_owner_client.get("/")) is None


def test_marking_read_takes_a_post(alpha_owner_client, tenant_alpha, owner):
    announce(tenant_alpha, "invoice:1")

    assert alpha_owner_client.get("/notifications/read/").status_code == 405
    assert mine(tenant_alpha, "invoice:1").read_at is None


def test_a_member_cannot_open_an_owners_notification(tenant_alpha, owner):
    announce(tenant_alpha, "invoice:1")
    member = staff_client(tenant_alpha, "member")

    assert member.get(f"/notifications/{mine(tenant_alpha, 'invoice:1').pk}/").status_code == 404
    assert member.post(f"/notifications/{mine(tenant_alpha, 'invoice:1').pk}/read/").status_code == 404
    assert mine(tenant_alpha, "invoice:1").read_at is None


def test_the_preferences_page_offers_the_categories_of_the_persons_role(tenant_alpha):
    member = staff_client(tenant_alpha, "member").get("/notifications/preferences/").content.decode()
    billing = staff_client(tenant_alpha, "billing").get("/notifications/preferences/").content.decode()

    assert "Welcome" in member and "Invoice issued" not in member
    assert "Invoice issued" in billing and "Usage alerts" not in billing


def test_saving_preferences_stores_each_channel(alpha_owner_client, tenant_alpha, owner):
    form = {f"{category}__{channel}": "on" for category in Category if category != Category.AI_COST_ALERT
            for channel in ("in_app", "email")}
    del form["invoice_issued__email"]

    response = alpha_owner_client.post("/notifications/preferences/", form)

    assert response.status_code == 302
    with schema_context(tenant_alpha.schema_name):
        preference = NotificationPreference.objects.get(user=owner, category=Category.INVOICE_ISSUED)
    assert (preference.in_app, preference.email) == (True, False)


def test_the_preferences_page_shows_saved_choices(alpha_owner_client, tenant_alpha, owner):
    with schema_context(tenant_alpha.schema_name):
        NotificationPreference.objects.create(user=owner, category=Category.INVOICE_ISSUED, in_app=True, email=False)

    content = alpha_owner_client.get("/notifications/preferences/").content.decode()

    assert re.search(r'name="invoice_issued__email"(?![^>]*checked)[^>]*>', content)
    assert re.search(r'name="invoice_issued__in_app"[^>]*checked', content)


def test_signed_out_visitors_go_to_the_login_page(alpha_client):
    response = alpha_client.get("/notifications/")

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
