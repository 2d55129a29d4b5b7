"""Beat jobs of billing: thin wrappers over services."""

from dataclasses import asdict

from celery import shared_task
from django.utils import timezone

from billing.analytics.services import revenue_snapshot_daily
from billing.consolidation.services import consolidated_invoices_issue
from billing.invoicing.run import billing_run
from billing.notifications import billing_email_send
from billing.payments.dunning import dunning_retries_run
from billing.payments.dunning_notices import dunning_notice_send
from billing.payments.errors import PaymentProviderUnavailable
from billing.payments.lost_charges import invoice_charges_lost_requeue
from billing.payments.reconciliation import stripe_reconcile
from billing.payments.stripe_api import stripe_enabled


@shared_task(name="billing.billing_run")
def billing_run_task() -> dict:
    return asdict(billing_run(now=timezone.now()))


@shared_task(name="billing.consolidated_invoices_issue")
def consolidated_invoices_issue_task() -> dict:
    return asdict(consolidated_invoices_issue(now=timezone.now()))


@shared_task(name="billing.email_send")
def billing_email_send_task(*, kind: str, object_id: int, cause: str) -> bool:
    return billing_email_send(kind=kind, object_id=object_id, cause=cause, now=timezone.now()) is not None


@shared_task(name="billing.revenue_snapshot_daily")
def revenue_snapshot_daily_task() -> dict:
    run = revenue_snapshot_daily(now=timezone.now())
    return {"days": [day.isoformat() for day in run.days], "money_rows": run.money_rows,
            "churn_scored": run.churn_scored}


@shared_task(name="billing.dunning_retries")
def dunning_retries_task() -> dict:
    return asdict(dunning_retries_run(now=timezone.now()))


@shared_task(name="billing.invoice_charges_lost_requeue")
def invoice_charges_lost_requeue_task() -> int:
    return invoice_charges_lost_requeue(now=timezone.now())


@shared_task(name="billing.dunning_notice_send")
def dunning_notice_send_task(*, kind: str, case_id: int, payment_id: int | None = None) -> bool:
    return dunning_notice_send(kind=kind, case_id=case_id, payment_id=payment_id, now=timezone.now()) is not None


@shared_task(name="billing.stripe_reconcile", bind=True, max_retries=6)
def stripe_reconcile_task(self) -> dict:
    """The daily reconciliation with Stripe; retried later (a new run) while Stripe is unreachable."""
    if not stripe_enabled():
        return {"skipped": "stripe_not_configured"}
    try:
        run = stripe_reconcile(now=timezone.now())
    except PaymentProviderUnavailable as error:
        raise self.retry(exc=error, countdown=min(600 * 2 ** self.request.retries, 4 * 3600)) from error
    return {"run": run.pk, "invoices_checked": run.invoices_checked, "payments_settled": run.payments_settled,
            "disagreements": run.disagreements}
