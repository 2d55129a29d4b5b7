"""Give the demo its affiliate program (run by `./dev up` after the other demo seeds; a second run changes nothing):

- Rhea Partners, an approved affiliate who signs in on the public host (rhea@partners.test / the demo password)
  with promotion code RHEA, and five months of clicks on its links;
- three workspaces it referred, each bound through a click by the program's attribution and billed by billing's
  own services at the dates of the story:
  - lumen (Lumen Studio) on Pro yearly, paid more than 30 days before this month began: its commission is past the
    holding period and approved;
  - orbit (Orbit Labs) on Pro monthly, paid five days ago: its commission is pending in the holding period;
  - quill (Quill & Co) on Pro monthly, paid and then refunded in full (a credit note): its commission is clawed
    back by a negative adjustment of the same amount;
- last month's payout batch: one pending payout to Rhea (lumen's commission, quill's netted to zero), ready to be
  exported as a CSV for PayPal from the admin.

The commission engine also hears billing's signals; each step here calls it inside the step's transaction with
the story's date, so the signal that follows finds the commission written (exactly once, by its source key)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from accounts.models import User
from affiliates.attribution import referral_bind
from affiliates.clicks import clicks_insert
from affiliates.commissions.services import commission_credit_note_adjust, commission_earn, commissions_approve_due
from affiliates.fingerprints import ip_hash, network_hash
from affiliates.models import Affiliate, Commission, Payout, ReferralClick
from affiliates.payouts.services import payout_period_end, payouts_create
from affiliates.services import application_approve, application_submit
from billing.invoicing.services import credit_note_issue, invoice_mark_paid
from billing.models import CreditNote, Invoice, Price
from billing.subscriptions.services import subscription_start
from config.money import Money
from tenants.models import Tenant
from tenants.services import tenant_provision
from tenants.urls_for import public_url

DEMO_PASSWORD = "tollgate-demo-2026"
OPS = "ops@tollgate.localhost"
AFFILIATE_NAME = "Rhea Partners"
AFFILIATE_EMAIL = "rhea@partners.test"
PROMOTION_CODE = "RHEA"
CLICK_NAMESPACE = uuid.UUID("8f7c1a52-3f0e-4b8e-9d2a-6a1f0c5e7d11")
# Clicks per month, oldest first, ending with this month: the portal's chart shows them.
CLICKS_PER_MONTH = [6, 9, 14, 11, 8]
LANDING_PATHS = ["/", "/pricing/", "/signup/"]


@dataclass(frozen=True)
class Referred:
    slug: str
    name: str
    price: str
    click: int  # which of the clicks before its signup brought it (0: the latest)
    signup_ip: str


REFERRED = {
    "lumen": Referred("lumen", "Lumen Studio", "pro-year-usd", click=0, signup_ip="198.51.100.11"),
    "orbit": Referred("orbit", "Orbit Labs", "pro-month-usd", click=1, signup_ip="198.51.100.12"),
    "quill": Referred("quill", "Quill & Co", "pro-month-usd", click=2, signup_ip="198.51.100.13"),
}


class Command(BaseCommand):
    help = "Seed the demo's affiliate, its clicks, three referred workspaces, their commissions and a payout."

    def handle(self, *args, **options) -> None:
        now = timezone.now()
        month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        affiliate = self._affiliate(now=now - timedelta(days=150))
        self._clicks(affiliate, now=now)
        # Paid 35 and 33 days before this month: past the 30 holding days by last month's end.
        self._paying(REFERRED["lumen"], affiliate, paid_at=month_start - timedelta(days=35))
        self._paying(REFERRED["quill"], affiliate, paid_at=month_start - timedelta(days=33),
                     refunded_at=month_start - timedelta(days=2))
        commissions_approve_due(now=month_start - timedelta(days=2))
        self._paying(REFERRED["orbit"], affiliate, paid_at=now - timedelta(days=5))
        payouts_create(period_end=payout_period_end(now=now), now=now)
        self._report(affiliate)

    def _affiliate(self, *, now: datetime) -> Affiliate:
        existing = Affiliate.objects.filter(email=AFFILIATE_EMAIL, kind=Affiliate.Kind.AFFILIATE).first()
        if existing is not None:
            return existing
        application = application_submit(
            name=AFFILIATE_NAME, email=AFFILIATE_EMAIL, website="https://rhea-partners.example",
            promotion="A newsletter for creators (12,000 readers) and reviews of AI tools on YouTube.",
            ip_hash="", now=now)
        affiliate = application_approve(application=application, reviewer=OPS, now=now)
        with schema_context(get_public_schema_name()):
            user = User.objects.get(pk=affiliate.user_id)
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            EmailAddress.objects.filter(user=user).update(verified=True)
        # What ops set in the admin: the code customers may type instead of clicking.
        affiliate.promotion_code = PROMOTION_CODE
        affiliate.save(update_fields=["promotion_code"])
        return affiliate

    def _clicks(self, affiliate: Affiliate, *, now: datetime) -> None:
        records, n = [], 0
        for months_ago, count in enumerate(reversed(CLICKS_PER_MONTH)):
            for index in range(count):
                at = now - timedelta(days=30 * months_ago + 1 + index * 2 % 27, hours=index)
                records.append({
                    "click_id": str(self._click_id(n)), "affiliate_id": affiliate.pk,
                    "landing_path": LANDING_PATHS[n % len(LANDING_PATHS)], "referrer": "https://rhea-partners.example/",
                    "ip_hash": ip_hash(self._click_ip(n)), "network_hash": network_hash(self._click_ip(n)),
                    "device_hash": "", "user_agent_class": ReferralClick.UserAgentClass.DESKTOP, "created_at": at})
                n += 1
        clicks_insert(records)

    def _paying(self, spec: Referred, affiliate: Affiliate, *, paid_at: datetime,
                refunded_at: datetime | None = None) -> None:
        if Tenant.objects.filter(slug=spec.slug).exists():
            return
        tenant = tenant_provision(name=spec.name, slug=spec.slug, owner_email=f"owner@{spec.slug}.test",
                                  owner_password=DEMO_PASSWORD).tenant
        # A click a day or more before the payment; the visitor signed up an hour after it, from another address.
        click = (ReferralClick.objects.filter(affiliate=affiliate, created_at__lte=paid_at - timedelta(days=1))
                 .order_by("-created_at")[spec.click])
        referral_bind(tenant=tenant, click_id=click.click_id, signup_ip=spec.signup_ip,
                      owner_email=tenant.owner_email, now=click.created_at + timedelta(hours=1))
        with transaction.atomic():
            subscription_start(tenant=tenant, price=Price.objects.get(code=spec.price), actor=tenant.owner_email,
                               now=paid_at, trial=False)
            invoice = Invoice.objects.filter(tenant=tenant).order_by("pk").last()
            invoice = invoice_mark_paid(invoice=invoice, actor=OPS, now=paid_at)
            commission_earn(invoice=invoice, now=paid_at)
        if refunded_at is not None:
            with transaction.atomic():
                credit_note = credit_note_issue(
                    invoice=invoice, amount=Money(invoice.total, invoice.currency),
                    reason=CreditNote.Reason.PRODUCT_UNSATISFACTORY, memo="Refunded in full at the customer's request.",
                    actor=OPS, now=refunded_at)
                commission_credit_note_adjust(credit_note=credit_note, now=refunded_at)

    def _report(self, affiliate: Affiliate) -> None:
        commissions = Commission.objects.filter(affiliate=affiliate)
        payouts = Payout.objects.filter(affiliate=affiliate, status=Payout.Status.PENDING)
        self.stdout.write(
            f"Demo affiliates: {affiliate.name} ({AFFILIATE_EMAIL} / {DEMO_PASSWORD}, portal "
            f"{public_url('/affiliates/portal/')}), {ReferralClick.objects.filter(affiliate=affiliate).count()} "
            f"clicks, {affiliate.referrals.count()} referred workspaces, {commissions.count()} commissions, "
            f"{payouts.count()} payout(s) ready to export.")

    @staticmethod
    def _click_id(n: int) -> uuid.UUID:
        return uuid.uuid5(CLICK_NAMESPACE, f"demo-click-{n}")

    @staticmethod
    def _click_ip(n: int) -> str:
        return f"203.0.113.{n % 250 + 1}"
