"""Every transactional email goes through the one layout: the workspace's brand (name, logo, colours, footer,
support link) when it shows one, links on its active custom domain, Tollgate's look otherwise."""

import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context
from PIL import Image

from accounts.models import Role
from accounts.services import invitation_create
from billing.invoicing.services import invoice_finalize
from billing.invoicing.totals import invoice_totals_apply
from billing.models import BillingEmail, Invoice, InvoiceLine
from billing.notifications import billing_email_cause, billing_email_send
from billing.services import tenant_plan_assign
from config.mail import email_message, email_render
from notifications.categories import Category
from notifications.services import notify
from tests.support.agencies import agency_make, client_make
from tests.support.clock import NOW
from tests.support.factories import PlanFactory
from tests.support.sender_domains import brand_make
from tests.support.tenants import client_for, owner_of
from whitelabel.models import CustomDomain

pytestmark = pytest.mark.django_db

BRAND = {"display_name": "Northwind", "primary_colour": "#1f4b99", "accent_colour": "#8a4b00",
         "legal_footer": "Northwind Ltd, 1 Harbour Road", "support_url": "https://help.northwind.test/",
         "support_email": "help@northwind.test", "show_powered_by": True}


def png_upload() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 20), "#1f4b99").save(out, format="PNG")
    return SimpleUploadedFile("logo.png", out.getvalue(), content_type="image/png")


def html_of(message) -> str:
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return html


def assert_in_brand(message, *, host: str = "alpha.localhost") -> None:
    html = html_of(message)
    assert 'data-email-layout="brand"' in html
    assert "Northwind" in html and message.body.startswith("Northwind")
    assert re.search(rf'<img src="http://{re.escape(host)}/media/brands/logos/[^"]+\.png" alt="Northwind"', html)
    assert "background: #1f4b99; color: #ffffff;" in html
    assert "border-bottom: 4px solid #8a4b00;" in html  # the accent colour, under the header
    assert "Northwind Ltd, 1 Harbour Road" in html and "Northwind Ltd, 1 Harbour Road" in message.body
    assert 'href="https://help.northwind.test/"' in html and 'href="mailto:help@northwind.test"' in html
    assert "Powered by Tollgate" in html
    assert "Tollgate <no-reply@localhost>" != message.from_email


@pytest.fixture
def northwind(tenant_alpha):
    """alpha on the White-Label plan, wearing the Northwind brand with a logo."""
    return brand_make(tenant_alpha, **BRAND, logo=png_upload())


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    def run(action):
        with django_capture_on_commit_callbacks(execute=True):
            return action()
    return run


def announce(tenant, cause="payment:1", email_to=None):
    return notify(tenant=tenant, category=Category.PAYMENT_FAILED, cause=cause, title="Payment failed",
                  body="The payment of invoice TG-1 failed.", link="/billing/", email_to=email_to)


def test_a_notification_email_wears_the_workspaces_brand(northwind, tenant_alpha, on_commit):
    on_commit(lambda: announce(tenant_alpha))

    [message] = mail.outbox
    assert_in_brand(message)
    assert "The payment of invoice TG-1 failed." in html_of(message)
    assert "http://alpha.localhost/billing/" in message.body


def test_an_invoice_email_wears_the_workspaces_brand(northwind, tenant_alpha, on_commit):
    invoice = Invoice.objects.create(tenant=tenant_alpha, billing_reason=Invoice.Reason.MANUAL, currency="USD",
                                     created_at=NOW)
    InvoiceLine.objects.create(invoice=invoice, kind=InvoiceLine.Kind.FIXED, description="Pro (monthly)",
                               amount_exact=Decimal("99"), amount=Decimal("99.00"))
    invoice_totals_apply(invoice=invoice)
    invoice = invoice_finalize(invoice=invoice, now=NOW)
    kind = BillingEmail.Kind.INVOICE_ISSUED
    mail.outbox.clear()

    on_commit(lambda: billing_email_send(kind=kind, object_id=invoice.pk,
                                         cause=billing_email_cause(kind=kind, about=invoice), now=NOW))

    [message] = mail.outbox
    assert_in_brand(message)
    assert f"Invoice {invoice.number}" in html_of(message)
    assert f"http://alpha.localhost/billing/invoices/{invoice.number}/" in html_of(message)


def test_an_invitation_wears_the_workspaces_brand_and_names_no_tollgate(northwind, tenant_alpha, on_commit):
    with schema_context(tenant_alpha.schema_name):
        on_commit(lambda: invitation_create(email="new@alpha.test", role=Role.MEMBER, invited_by=owner_of(tenant_alpha),
                                            site_url="http://alpha.localhost", workspace_name=tenant_alpha.name))

    [message] = mail.outbox
    assert_in_brand(message)
    assert "Tollgate" not in message.subject and "on Tollgate" not in message.body
    assert "background: #1f4b99; color: #ffffff; padding: 10px 18px" in html_of(message)  # the button


def test_a_password_reset_keeps_allauths_words_in_the_workspaces_brand(northwind, tenant_alpha):
    client_for(tenant_alpha).post("/accounts/password/reset/", {"email": tenant_alpha.owner_email})

    [message] = mail.outbox
    assert_in_brand(message)
    assert "Hello from Northwind!" in message.body and "requested a password reset" in message.body
    assert re.search(r'<a href="http://alpha\.localhost/accounts/password/reset/key/[^"]+"', html_of(message))
    assert not message.subject.startswith("[")


def test_an_email_confirmation_wears_the_workspaces_brand(northwind, tenant_alpha):
    client = client_for(tenant_alpha)
    with schema_context(tenant_alpha.schema_name):
        client.force_login(owner_of(tenant_alpha), backend="django.contrib.auth.backends.ModelBackend")

    client.post("/accounts/email/", {"action_add": "", "email": "second@alpha.test"})

    [message] = mail.outbox
    assert_in_brand(message)
    assert "http://alpha.localhost/accounts/confirm-email/" in message.body
    assert "register an account on Northwind." in message.body and "alpha.localhost." not in message.body


def test_links_point_at_the_brands_active_custom_domain(northwind, tenant_alpha, on_commit):
    CustomDomain.objects.create(tenant=tenant_alpha, hostname="portal.northwind.test", status="active",
                                verification_token="t", claimed_at=NOW, activated_at=NOW)

    on_commit(lambda: announce(tenant_alpha))
    client_for(tenant_alpha).post("/accounts/password/reset/", {"email": tenant_alpha.owner_email})

    notification, reset = mail.outbox
    assert "http://portal.northwind.test/billing/" in notification.body
    assert "alpha.localhost" not in notification.body + html_of(notification)
    assert "http://portal.northwind.test/accounts/password/reset/key/" in reset.body
    assert_in_brand(notification, host="portal.northwind.test")


def test_a_pending_custom_domain_does_not_take_the_links(northwind, tenant_alpha, on_commit):
    CustomDomain.objects.create(tenant=tenant_alpha, hostname="portal.northwind.test", status="pending",
                                verification_token="t", claimed_at=NOW)

    on_commit(lambda: announce(tenant_alpha))

    assert "http://alpha.localhost/billing/" in mail.outbox[0].body


def test_a_workspace_without_a_brand_gets_tollgates_layout(tenant_beta, on_commit):
    on_commit(lambda: announce(tenant_beta))

    [message] = mail.outbox
    html = html_of(message)
    assert 'data-email-layout="tollgate"' in html and message.body.startswith("Tollgate")
    assert "Powered by Tollgate" not in html and "<img" not in html
    assert message.from_email == settings.DEFAULT_FROM_EMAIL and message.reply_to == []


def test_a_brand_whose_plan_went_away_no_longer_shows(northwind, tenant_alpha, on_commit):
    tenant_plan_assign(tenant=tenant_alpha, plan=PlanFactory(white_label=False))

    on_commit(lambda: announce(tenant_alpha))

    assert 'data-email-layout="tollgate"' in html_of(mail.outbox[0])
    assert "Northwind" not in mail.outbox[0].body


def test_a_client_of_an_agency_gets_the_agencys_brand(on_commit):
    agency = agency_make("north-agency")
    client = client_make(agency, "bloom")
    brand_make(agency, plan=PlanFactory(white_label=True, client_tenants=True), display_name="Northwind Agency")
    mail.outbox.clear()

    on_commit(lambda: announce(client, email_to=["billing@bloom.test"]))  # its owner has not joined yet

    [message] = mail.outbox
    assert 'data-email-layout="brand"' in html_of(message) and message.body.startswith("Northwind Agency")
    assert message.from_email == "Northwind Agency <no-reply@localhost>"
    assert "http://bloom.localhost/billing/" in message.body


def test_a_clients_owner_invitation_comes_in_the_agencys_brand(on_commit):
    agency = agency_make("north-agency")
    brand_make(agency, plan=PlanFactory(white_label=True, client_tenants=True), display_name="Northwind Agency")
    mail.outbox.clear()

    on_commit(lambda: client_make(agency, "bloom"))

    [message] = mail.outbox
    assert message.to == ["owner@bloom.test"]
    assert message.body.startswith("Northwind Agency") and "join Bloom as" in message.body
    assert "http://bloom.localhost/invitations/" in message.body


def test_powered_by_is_hidden_only_when_the_brand_hides_it_and_its_plan_allows(tenant_alpha, on_commit):
    brand_make(tenant_alpha, display_name="Northwind", show_powered_by=False)  # White-Label: may hide it
    on_commit(lambda: announce(tenant_alpha, cause="a"))
    tenant_plan_assign(tenant=tenant_alpha, plan=PlanFactory(white_label=True, remove_powered_by=False))
    on_commit(lambda: announce(tenant_alpha, cause="b"))

    hidden, shown = (html_of(message) for message in mail.outbox)
    assert "Powered by Tollgate" not in hidden
    assert "Powered by Tollgate" in shown


def test_hostile_brand_fields_are_escaped_in_the_html(tenant_alpha, on_commit):
    brand_make(tenant_alpha, display_name='<script>alert("n")</script>',
               legal_footer='<img src=x onerror=alert(1)>\n"quoted" & more')
    on_commit(lambda: announce(tenant_alpha))

    html = html_of(mail.outbox[0])
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&quot;n&quot;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;<br>&quot;quoted&quot; &amp; more" in html


def test_every_content_template_is_a_fragment_the_layout_wraps():
    templates = Path(settings.BASE_DIR, "templates")
    contents = [path for path in templates.glob("*/email/*.html")]

    assert len(contents) >= 10
    for path in contents:
        text = path.read_text().lower()
        assert "<html" not in text and "<body" not in text, path


def test_platform_mail_wears_tollgates_layout_whatever_brands_exist(northwind):
    context = {"name": "Pat", "code": "PAT1", "set_password_url": "http://localhost/set/", "login_url": "#",
               "link": "http://localhost/r/PAT1", "home_link": "http://localhost/?ref=PAT1"}

    email = email_render(schema_name="public", subject="Welcome to the Tollgate affiliate program",
                         template="affiliates/email/approved", context=context)
    message = email_message(schema_name="public", email=email, to=["pat@partners.test"])

    assert 'data-email-layout="tollgate"' in email.html and "Northwind" not in email.html + email.text
    assert '<a href="http://localhost/r/PAT1"' in email.html  # the text-only content, its links made links
    assert message.from_email == settings.DEFAULT_FROM_EMAIL


def test_links_take_the_brands_colour_only_when_it_reads_on_white(tenant_alpha, on_commit):
    brand_make(tenant_alpha, display_name="Sunny", primary_colour="#ffcc00")
    on_commit(lambda: announce(tenant_alpha))

    html = html_of(mail.outbox[0])
    assert "background: #ffcc00; color: #111111;" in html  # the header: dark text on the light colour
    assert 'style="color: #111111;">Open it' in html
