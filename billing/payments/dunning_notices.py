"""What dunning tells the workspace's owners and billing members (or the billing profile's contact address): each
failed attempt, the bank asking for the cardholder, and the end of dunning. Announced through the notification
centre (notifications.services.notify), once per cause: a failed attempt and an authentication request are keyed
by their Payment, the end by the case, so a duplicated task or a late event tells nobody twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from billing.models import DunningCase, Payment
from billing.notifications import billing_contact_emails
from billing.payments import stripe_api
from billing.payments.dunning import FINAL_FREE, NoticeKind, dunning_retries_left
from config.money import Money, money_format
from notifications.categories import Category
from notifications.services import Delivery, EmailContent, notify
from tenants.models import Tenant
from tenants.urls_for import tenant_url

BILLING_PATH = "/billing/"
# The billing page's card section: where a tenant without Stripe's portal manages its card.
CARD_SECTION_PATH = "/billing/#billing-card"
# The billing page's route to Stripe's customer portal (billing.views.card_portal_open).
CARD_PORTAL_PATH = "/billing/card/portal/"


@dataclass(frozen=True)
class NoticeSpec:
    category: str
    template: str
    title: str  # formatted with the context; also the email's subject
    body: str  # formatted with the context: the line shown in the app


SPECS: dict[str, NoticeSpec] = {
    NoticeKind.FAILED: NoticeSpec(
        Category.PAYMENT_FAILED, "dunning_failed",
        "{tenant.name}: payment of invoice {invoice.number} failed (attempt {attempt})",
        "Attempt {attempt} to collect {amount} for invoice {invoice.number} failed. {next_step}"),
    NoticeKind.ACTION_REQUIRED: NoticeSpec(
        Category.ACTION_REQUIRED, "dunning_action_required",
        "{tenant.name}: confirm the payment of invoice {invoice.number}",
        "Your bank asks you to confirm the payment of {amount} for invoice {invoice.number}."),
    NoticeKind.EXHAUSTED: NoticeSpec(
        Category.PAYMENT_FAILED, "dunning_exhausted",
        "{tenant.name}: invoice {invoice.number} could not be collected",
        "Every attempt to collect {amount} for invoice {invoice.number} failed. {outcome}"),
}


def dunning_notice_send(*, kind: str, case_id: int, payment_id: int | None, now: datetime) -> Delivery | None:
    """Announce one dunning notice; None when its case or payment no longer exists."""
    spec = SPECS[kind]
    case = DunningCase.objects.select_related("invoice", "subscription__plan").filter(pk=case_id).first()
    payment = Payment.objects.filter(pk=payment_id).first() if payment_id else None
    if case is None or (payment_id and payment is None):
        return None
    tenant = Tenant.objects.get(pk=case.tenant_id)
    context = _context(kind, case=case, payment=payment, tenant=tenant)
    cause = f"payment:{payment.pk}" if payment is not None else f"dunning:{case.pk}:{kind}"
    return notify(tenant=tenant, category=spec.category, cause=cause, title=spec.title.format(**context),
                  body=spec.body.format(**context), link=context["link"],
                  email=EmailContent(template=f"billing/email/{spec.template}", context=context),
                  email_to=billing_contact_emails(tenant=tenant), now=now)


def card_update_url(*, tenant: Tenant) -> str:
    """Where the tenant updates its card: with Stripe, our route that opens a fresh customer-portal session when
    followed (a portal link itself expires within minutes, too soon for an email); without, the billing page's
    card section."""
    return tenant_url(tenant, CARD_PORTAL_PATH if stripe_api.stripe_enabled() else CARD_SECTION_PATH)


def _context(kind: str, *, case: DunningCase, payment: Payment | None, tenant: Tenant) -> dict:
    invoice = case.invoice
    link = f"/billing/invoices/{invoice.number}/"
    retries_left = dunning_retries_left(case)
    if case.next_attempt_at is not None and retries_left:
        next_step = (f"We will try again on {case.next_attempt_at:%d %b %Y} ({retries_left} automatic "
                     f"{'retry' if retries_left == 1 else 'retries'} left).")
    else:
        next_step = "We will try once more shortly."
    free = settings.BILLING_DUNNING_FINAL_ACTION == FINAL_FREE
    subscription = case.subscription
    plan = subscription.plan.name if subscription else ""
    if free and subscription and subscription.past_due_since:
        free_from = max(subscription.past_due_since + timedelta(days=settings.BILLING_PAST_DUE_GRACE_DAYS),
                        case.ended_at or case.started_at)
        outcome = (f"The workspace is on the Free plan from {free_from:%d %b %Y} until the invoice is paid; "
                   f"paying it brings {plan} back.")
    else:
        outcome = f"The {plan} subscription is canceled." if plan else ""
    return {
        "tenant": tenant, "invoice": invoice, "case": case, "payment": payment, "plan": plan,
        "attempt": payment.attempt if payment else case.last_attempt,
        "reason": (payment.failure_message if payment else "") or "The card was declined.",
        "amount": money_format(Money(invoice.amount_due, invoice.currency)),
        "next_step": next_step, "retries_left": retries_left, "outcome": outcome, "final_free": free,
        "action_url": payment.action_url if payment else "",
        "card_url": card_update_url(tenant=tenant) if kind != NoticeKind.ACTION_REQUIRED else "",
        "link": link, "invoice_url": tenant_url(tenant, link), "billing_url": tenant_url(tenant, BILLING_PATH),
    }
