"""Billing's emails: trial ending, invoice issued, invoice paid, subscription changed, quote sent.

Each goes out at most once per cause (the invoice, the subscription event, the trial, the quote): services queue
it once their transaction has committed, and the sending task records a BillingEmail row, unique per (kind,
cause), in the same transaction as it sends; a retried or duplicated task finds the row and sends nothing.
Recipients: the billing profile's email when set, else the workspace's owners and billing members."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from celery import current_app
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.template.loader import render_to_string
from django_tenants.utils import schema_context

from accounts.selectors import member_emails
from billing.invoicing.documents import invoice_document
from billing.models import BillingEmail, BillingProfile, Invoice, ServiceQuote, Subscription, SubscriptionEvent
from config.money import Money, money_format
from tenants.models import Tenant
from tenants.urls_for import tenant_url

Kind = BillingEmail.Kind


@dataclass(frozen=True)
class EmailSpec:
    model: type[Model]
    template: str
    subject: str  # formatted with the context


SPECS: dict[str, EmailSpec] = {
    Kind.TRIAL_ENDING: EmailSpec(Subscription, "trial_ending", "{tenant.name}: your trial ends on {trial_end_on}"),
    Kind.INVOICE_ISSUED: EmailSpec(Invoice, "invoice_issued", "{tenant.name}: invoice {invoice.number} ({total})"),
    Kind.INVOICE_PAID: EmailSpec(Invoice, "invoice_paid", "{tenant.name}: invoice {invoice.number} is paid"),
    Kind.SUBSCRIPTION_CHANGED: EmailSpec(SubscriptionEvent, "subscription_changed",
                                         "{tenant.name}: your subscription changed"),
    Kind.QUOTE_SENT: EmailSpec(ServiceQuote, "quote_sent", "{tenant.name}: your quote for {quote.product.name}"),
}


def billing_email_cause(*, kind: str, about: Model) -> str:
    """What makes an email unique. A trial reminder names the trial's end, so an extended trial is reminded again."""
    cause = f"{about._meta.model_name}:{about.pk}"
    if kind == Kind.TRIAL_ENDING:
        cause += f":{about.trial_end:%Y%m%d}"
    return cause


def billing_email_queue(*, kind: str, about: Model) -> None:
    """Send the email of `kind` about `about` once the current transaction commits (at once outside one)."""
    kwargs = {"kind": str(kind), "object_id": about.pk, "cause": billing_email_cause(kind=kind, about=about)}
    # By name: billing.tasks imports this module.
    transaction.on_commit(lambda: current_app.signature("billing.email_send", kwargs=kwargs).delay())


def billing_email_send(*, kind: str, object_id: int, cause: str, now: datetime) -> BillingEmail | None:
    """Send the email unless it was sent already; None when it was (or its subject no longer exists)."""
    spec = SPECS[kind]
    about = spec.model.objects.filter(pk=object_id).first()
    if about is None:
        return None
    tenant = Tenant.objects.get(pk=about.tenant_id)
    context = _context(kind, about, tenant)
    recipients = billing_recipients(tenant=tenant)
    if not recipients:
        return None
    subject = spec.subject.format(**context)
    try:
        with transaction.atomic():
            record = BillingEmail.objects.create(tenant=tenant, kind=kind, cause=cause, subject=subject,
                                                 recipients=recipients, sent_at=now)
            message = EmailMultiAlternatives(
                subject=subject, body=render_to_string(f"billing/email/{spec.template}.txt", context),
                from_email=settings.DEFAULT_FROM_EMAIL, to=recipients)
            message.attach_alternative(render_to_string(f"billing/email/{spec.template}.html", context), "text/html")
            message.send()
    except IntegrityError:
        return None
    return record


def billing_recipients(*, tenant: Tenant) -> list[str]:
    profile = BillingProfile.objects.filter(tenant=tenant).first()
    if profile and profile.email:
        return [profile.email]
    with schema_context(tenant.schema_name):
        return member_emails(roles=("owner", "billing"))


def _context(kind: str, about: Model, tenant: Tenant) -> dict:
    context: dict = {"tenant": tenant, "billing_url": tenant_url(tenant, "/billing/")}
    if isinstance(about, Invoice):
        document = invoice_document(invoice=about)
        context.update(invoice=about, document=document, total=document.total,
                       invoice_url=tenant_url(tenant, f"/billing/invoices/{about.number}/"))
    elif isinstance(about, Subscription):
        context.update(subscription=about, trial_end_on=f"{about.trial_end:%d %b %Y}",
                       price=about.price, plan=about.plan)
    elif isinstance(about, SubscriptionEvent):
        context.update(event=about, subscription=about.subscription, plan=about.subscription.plan)
    elif isinstance(about, ServiceQuote):
        amount = money_format(Money(about.amount, about.currency)) if about.amount is not None else ""
        context.update(quote=about, amount=amount)
    return context
