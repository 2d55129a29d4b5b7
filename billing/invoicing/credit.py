"""Account credit: money a tenant holds with the operator, one balance per currency and its ledger.

Credit notes, promotions and ops add to it; finalised invoices consume it. The balance never goes below zero:
the database refuses it (a check constraint), and the only statements that take from it say how much they may
take in the statement itself, so two invoices consuming at once cannot both take the same money. Every change
is one AccountCreditEntry with the balance after it, so the ledger always explains the balance."""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import QuerySet

from billing.errors import BillingError
from billing.models import AccountCredit, AccountCreditEntry, CreditNote, Invoice
from config.money import Money, money_round
from tenants.models import Tenant

logger = logging.getLogger(__name__)

Kind = AccountCreditEntry.Kind

# Adds `amount` (negative for an ops adjustment that takes credit back) unless that would leave less than zero.
ADD_SQL = """
UPDATE billing_accountcredit
   SET balance = balance + %(amount)s, updated_at = %(now)s
 WHERE tenant_id = %(tenant_id)s AND currency = %(currency)s AND balance + %(amount)s >= 0
RETURNING id, balance
"""

# Takes what the invoice owes, or the whole balance if it is smaller, in one statement: the row is locked by the
# sub-select, so a concurrent consumer waits and then sees what is left.
CONSUME_SQL = """
WITH account AS (
    SELECT id, balance FROM billing_accountcredit
     WHERE tenant_id = %(tenant_id)s AND currency = %(currency)s AND balance > 0
       FOR UPDATE
)
UPDATE billing_accountcredit AS credit
   SET balance = credit.balance - LEAST(account.balance, %(owed)s), updated_at = %(now)s
  FROM account
 WHERE credit.id = account.id
RETURNING credit.id, LEAST(account.balance, %(owed)s), credit.balance
"""


class AccountCreditKeyReused(BillingError):
    code = "idempotency_key_reused"
    status = 409


class AccountCreditInsufficient(BillingError):
    """An adjustment would take more credit than the tenant holds."""

    code = "account_credit_insufficient"
    status = 409


@transaction.atomic
def account_credit_add(*, tenant: Tenant, amount: Money, kind: str, description: str, actor: str, now: datetime,
                       credit_note: CreditNote | None = None, invoice: Invoice | None = None,
                       idempotency_key: str | None = None) -> AccountCreditEntry:
    """Add `amount` to the tenant's credit in its currency (opening the balance if needed) and return the entry.

    The amount must be in the currency's minor units (credit is money the tenant could be paid back). Only an
    ops adjustment may be negative, and it is refused (AccountCreditInsufficient, nothing changed) when the
    balance does not cover it. A credit note adds its amount once, and an invoice adds (or returns) credit once
    per kind: the database refuses a second entry (IntegrityError).

    With `idempotency_key` (an ops form's), a second call with the key returns the entry the first wrote and
    changes nothing; the key with another tenant or amount is refused (AccountCreditKeyReused). Two calls racing
    with one key: the unique key refuses the second entry, rolling its balance change back with it."""
    if idempotency_key:
        written = AccountCreditEntry.objects.filter(idempotency_key=idempotency_key).select_related("account").first()
        if written is not None:
            if (written.tenant_id, written.amount, written.account.currency) != (tenant.pk, amount.amount,
                                                                                 amount.currency):
                raise AccountCreditKeyReused("This form was already used for another entry: open it again.")
            return written
    _amount_check(amount)
    if amount.amount < 0 and kind != Kind.ADJUSTMENT:
        raise ValueError(f"Only an adjustment takes credit back; a {kind} entry adds it.")
    if kind == Kind.INVOICE:
        raise ValueError("Invoices consume credit through account_credit_apply.")
    if kind not in Kind.values:
        raise ValueError(f"An account-credit entry is one of {', '.join(Kind.values)}, not {kind!r}.")
    _account_ensure(tenant=tenant, currency=amount.currency)
    with connection.cursor() as cursor:
        cursor.execute(ADD_SQL, {"amount": amount.amount, "now": now, "tenant_id": tenant.pk,
                                 "currency": amount.currency})
        row = cursor.fetchone()
    if row is None:
        raise AccountCreditInsufficient(
            "The account credit does not cover this adjustment.", field="amount",
            details={"balance": str(account_credit_balance(tenant=tenant, currency=amount.currency).amount)})
    account_id, balance = row
    entry = AccountCreditEntry.objects.create(
        account_id=account_id, tenant=tenant, kind=kind, amount=amount.amount, balance_after=balance,
        description=description[:300], invoice=invoice, credit_note=credit_note, created_by=actor[:254],
        created_at=now, idempotency_key=idempotency_key or None)
    logger.info("account_credit_added tenant=%s kind=%s amount=%s currency=%s balance=%s actor=%s", tenant.pk, kind,
                amount.amount, amount.currency, balance, actor)
    return entry


@transaction.atomic
def account_credit_apply(*, invoice: Invoice, now: datetime) -> Decimal:
    """Consume the tenant's credit towards `invoice` and return how much was taken: what the invoice owes (its
    total less credit already applied, never below zero) or the whole balance in the invoice's currency if that
    is smaller; 0 when there is none. Writes one INVOICE entry; does not change the invoice (the caller records
    the amount in credit_applied when it finalises it).

    Once per invoice: called again it takes nothing more and returns what the first call took (the database
    also refuses a second INVOICE entry for one invoice)."""
    previous = AccountCreditEntry.objects.filter(invoice=invoice, kind=Kind.INVOICE).first()
    if previous is not None:
        return -previous.amount
    owed = _owed(total=invoice.total, credit_applied=invoice.credit_applied)
    if owed <= 0:
        return Decimal(0)
    with connection.cursor() as cursor:
        cursor.execute(CONSUME_SQL, {"tenant_id": invoice.tenant_id, "currency": invoice.currency, "owed": owed,
                                     "now": now})
        row = cursor.fetchone()
    if row is None:
        return Decimal(0)
    account_id, taken, balance = row
    AccountCreditEntry.objects.create(
        account_id=account_id, tenant_id=invoice.tenant_id, kind=Kind.INVOICE, amount=-taken, balance_after=balance,
        description=f"Applied to invoice {invoice.number or f'draft #{invoice.pk}'}", invoice=invoice,
        created_by="system", created_at=now)
    return taken


def account_credit_to_apply(*, tenant: Tenant, total: Money) -> Money:
    """What account_credit_apply would take from the tenant's credit for an invoice of `total` finalised now,
    without taking it (no ledger entry, no lock): what the invoice owes, or the balance if that is smaller. The
    upcoming invoice shows the amount due with it."""
    owed = _owed(total=total.amount, credit_applied=Decimal(0))
    balance = account_credit_balance(tenant=tenant, currency=total.currency).amount
    return Money(max(min(balance, owed), Decimal(0)), total.currency)


def account_credit_balance(*, tenant: Tenant, currency: str) -> Money:
    """The tenant's credit in `currency`; zero when it never had any."""
    balance = (AccountCredit.objects.filter(tenant=tenant, currency=currency)
               .values_list("balance", flat=True).first())
    return Money(balance if balance is not None else Decimal(0), currency)


def account_credit_entries(*, tenant: Tenant) -> QuerySet[AccountCreditEntry]:
    """The tenant's ledger, newest first, every currency."""
    return AccountCreditEntry.objects.filter(tenant=tenant).select_related("account", "invoice", "credit_note")


def _owed(*, total: Decimal, credit_applied: Decimal) -> Decimal:
    """What credit may still take for an invoice: its total (a negative total owes nothing) less what credit
    already paid of it. CONSUME_SQL takes this, or the whole balance when smaller."""
    return max(total, Decimal(0)) - credit_applied


def _account_ensure(*, tenant: Tenant, currency: str) -> None:
    AccountCredit.objects.bulk_create([AccountCredit(tenant=tenant, currency=currency)], ignore_conflicts=True)


def _amount_check(amount: Money) -> None:
    if not isinstance(amount, Money):
        raise TypeError(f"Account credit moves Money, not {type(amount).__name__}.")
    if amount.amount == 0:
        raise ValueError("An account-credit entry moves a non-zero amount.")
    if money_round(amount) != amount:
        raise ValueError(f"{amount.amount} {amount.currency} is not in the currency's minor units.")
