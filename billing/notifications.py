"""Billing's notifications: trial ending, invoice issued, invoice paid, subscription changed, quote sent.

Services queue one once their transaction has committed (`billing_email_queue`); the task renders it and hands it
to the notification centre (notifications.services.notify), which tells the workspace's owners and billing members
in the app and by email, each as their preferences allow, once per cause (the invoice, the subscription event, the
trial, the quote): a retried or duplicated task tells nobody twice. When the billing profile names a contact
address, the email goes there instead of to the members."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from celery import current_app
from django.db import transaction
from django.db.models import Model

from billing.invoicing.documents import invoice_document
from billing.models import BillingEmail, BillingProfile, Invoice, ServiceQuote, Subscription, SubscriptionEvent
from config.money import Money, money_format
from notifications.categories import Category
from notifications.services import Delivery, EmailContent, notify
from tenants.models import Tenant
from tenants.urls_for import tenant_url

Kind = BillingEmail.Kind


@dataclass(frozen=True)
class NoticeSpec:
    model: type[Model]
    category: str
    template: str
    title: str  # formatted with the context; also the email's subject
    body: str  # formatted with the context: the line shown in the app


SPECS: dict[str, NoticeSpec] = {
    Kind.TRIAL_ENDING: NoticeSpec(Subscription, Category.TRIAL_ENDING, "trial_ending",
                                  "{tenant.name}: your trial ends on {trial_end_on}",
                                  "The {plan.name} trial ends on {trial_end_on}."),
    Kind.INVOICE_ISSUED: NoticeSpec(Invoice, Category.INVOICE_ISSUED, "invoice_issued",
                                    "{tenant.name}: invoice {invoice.number} ({total})",
                                    "Invoice {invoice.number} was issued: {total}."),
    Kind.INVOICE_PAID: NoticeSpec(Invoice, Category.PAYMENT_SUCCEEDED, "invoice_paid",
                                  "{tenant.name}: invoice {invoice.number} is paid",
                                  "Invoice {invoice.number} is paid. Thank you."),
    Kind.SUBSCRIPTION_CHANGED: NoticeSpec(SubscriptionEvent, Category.SUBSCRIPTION_CHANGED, "subscription_changed",
                                          "{tenant.name}: your subscription changed",
                                          "The subscription changed ({event.action}); it is on {plan.name}."),
    Kind.QUOTE_SENT: NoticeSpec(ServiceQuote, Category.QUOTE_SENT, "quote_sent",
                                "{tenant.name}: your quote for {quote.product.name}",
                                "Your quote for {quote.product.name} is ready: {amount}."),
}


def billing_email_cause(*, kind: str, about: Model) -> str:
    """What makes a notification unique. A trial reminder names the trial's end, so an extended trial is reminded
    again."""
    cause = f"{about._meta.model_name}:{about.pk}"
    if kind == Kind.TRIAL_ENDING:
        cause += f":{about.trial_end:%Y%m%d}"
    return cause


def billing_email_queue(*, kind: str, about: Model) -> None:
    """Send the notification of `kind` about `about` once the current transaction commits (at once outside one)."""
    kwargs = {"kind": str(kind), "object_id": about.pk, "cause": billing_email_cause(kind=kind, about=about)}
    # By name: billing.tasks imports this module.
    transaction.on_commit(lambda: current_app.signature("billing.email_send", kwargs=kwargs).delay())


def billing_email_send(*, kind: str, object_id: int, cause: str, now: datetime) -> Delivery | None:
    """Announce the notification to the notification centre (which tells each person once); None when its
    subject no longer exists."""
    spec = SPECS[kind]
    about = spec.model.objects.filter(pk=object_id).first()
    if about is None:
        return None
    tenant = Tenant.objects.get(pk=about.tenant_id)
    context = _context(about, tenant)
    title = spec.title.format(**context)
    return notify(tenant=tenant, category=spec.category, cause=cause, title=title, body=spec.body.format(**context),
                  link=context["link"], email=EmailContent(template=f"billing/email/{spec.template}", context=context),
                  email_to=billing_contact_emails(tenant=tenant), now=now)


def billing_contact_emails(*, tenant: Tenant) -> list[str] | None:
    """The billing profile's contact address, which receives billing emails instead of the members; None when
    the profile names none."""
    profile = BillingProfile.objects.filter(tenant=tenant).first()
    return [profile.email] if profile and profile.email else None


def _context(about: Model, tenant: Tenant) -> dict:
    context: dict = {"tenant": tenant, "billing_url": tenant_url(tenant, "/billing/"), "link": "/billing/"}
    if isinstance(about, Invoice):
        document = invoice_document(invoice=about)
        link = f"/billing/invoices/{about.number}/"
        context.update(invoice=about, document=document, total=document.total, link=link,
                       invoice_url=tenant_url(tenant, link))
    elif isinstance(about, Subscription):
        context.update(subscription=about, trial_end_on=f"{about.trial_end:%d %b %Y}",
                       price=about.price, plan=about.plan)
    elif isinstance(about, SubscriptionEvent):
        context.update(event=about, subscription=about.subscription, plan=about.subscription.plan)
    elif isinstance(about, ServiceQuote):
        amount = money_format(Money(about.amount, about.currency)) if about.amount is not None else ""
        context.update(quote=about, amount=amount)
    return context
