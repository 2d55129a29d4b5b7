"""Account credit: credit notes, promotions and ops add to it, invoices consume it, it is never negative, and
no invoice consumes it twice."""

import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from billing.invoicing.credit import (
    AccountCreditInsufficient,
    AccountCreditKeyReused,
    account_credit_add,
    account_credit_apply,
    account_credit_balance,
    account_credit_entries,
)
from billing.models import AccountCredit, AccountCreditEntry, Invoice
from config.money import Money
from tenants.models import Tenant
from tests.support.clock import NOW

Kind = AccountCreditEntry.Kind


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


def add(tenant, amount: str, *, currency: str = "USD", kind: str = Kind.PROMOTION) -> AccountCreditEntry:
    return account_credit_add(tenant=tenant, amount=Money(Decimal(amount), currency), kind=kind,
                              description="Welcome credit", actor="ops@tollgate.test", now=NOW)


def invoice_owing(tenant, total: str, *, currency: str = "USD") -> Invoice:
    """A draft invoice of `total`, as invoice_finalize sees it just before it applies credit."""
    return Invoice.objects.create(tenant=tenant, billing_reason=Invoice.Reason.MANUAL, currency=currency,
                                  subtotal=Decimal(total), total=Decimal(total), created_at=NOW)


def balance(tenant, currency: str = "USD") -> Decimal:
    return account_credit_balance(tenant=tenant, currency=currency).amount


# --- Adding -----------------------------------------------------------------------------------------

def test_the_first_credit_opens_the_balance_and_records_it_in_the_ledger(tenant_alpha):
    entry = add(tenant_alpha, "25.00")

    assert (entry.kind, entry.amount, entry.balance_after, entry.created_by) == (
        Kind.PROMOTION, Decimal("25.00"), Decimal("25.00"), "ops@tollgate.test")
    assert balance(tenant_alpha) == Decimal("25.00")


def test_credits_add_up_and_each_entry_shows_the_balance_after_it(tenant_alpha):
    add(tenant_alpha, "25.00")
    second = add(tenant_alpha, "10.50")

    assert second.balance_after == Decimal("35.50") == balance(tenant_alpha)


def test_each_currency_has_its_own_balance(tenant_alpha):
    add(tenant_alpha, "25.00")
    add(tenant_alpha, "7.00", currency="EUR")

    assert (balance(tenant_alpha, "USD"), balance(tenant_alpha, "EUR")) == (Decimal("25.00"), Decimal("7.00"))


def test_a_tenant_that_never_had_credit_has_zero(tenant_alpha):
    assert account_credit_balance(tenant=tenant_alpha, currency="EUR") == Money(Decimal(0), "EUR")


def test_an_adjustment_may_take_credit_back(tenant_alpha):
    add(tenant_alpha, "25.00")

    add(tenant_alpha, "-20.00", kind=Kind.ADJUSTMENT)

    assert balance(tenant_alpha) == Decimal("5.00")


def test_an_adjustment_taking_more_than_the_balance_is_refused_and_changes_nothing(tenant_alpha):
    add(tenant_alpha, "25.00")

    with pytest.raises(AccountCreditInsufficient):
        add(tenant_alpha, "-25.01", kind=Kind.ADJUSTMENT)

    assert balance(tenant_alpha) == Decimal("25.00")
    assert account_credit_entries(tenant=tenant_alpha).count() == 1


def test_only_an_adjustment_may_be_negative(tenant_alpha):
    add(tenant_alpha, "25.00")

    with pytest.raises(ValueError):
        add(tenant_alpha, "-5.00", kind=Kind.PROMOTION)


def test_an_amount_finer_than_the_currencys_minor_units_is_refused(tenant_alpha):
    with pytest.raises(ValueError):
        add(tenant_alpha, "0.005")


def test_invoices_consume_credit_only_through_apply(tenant_alpha):
    with pytest.raises(ValueError):
        add(tenant_alpha, "5.00", kind=Kind.INVOICE)


def test_the_database_refuses_a_negative_balance(tenant_alpha):
    add(tenant_alpha, "5.00")

    with pytest.raises(IntegrityError), transaction.atomic():
        AccountCredit.objects.filter(tenant=tenant_alpha).update(balance=Decimal("-0.01"))


# --- Applying to invoices ---------------------------------------------------------------------------

def test_an_invoice_takes_what_it_owes_when_the_credit_covers_it(tenant_alpha):
    add(tenant_alpha, "50.00")
    invoice = invoice_owing(tenant_alpha, "19.99")

    taken = account_credit_apply(invoice=invoice, now=NOW)

    assert (taken, balance(tenant_alpha)) == (Decimal("19.99"), Decimal("30.01"))
    entry = AccountCreditEntry.objects.get(invoice=invoice)
    assert (entry.kind, entry.amount, entry.balance_after) == (Kind.INVOICE, Decimal("-19.99"), Decimal("30.01"))


def test_an_invoice_takes_the_whole_balance_when_it_owes_more(tenant_alpha):
    add(tenant_alpha, "10.00")
    invoice = invoice_owing(tenant_alpha, "19.99")

    assert account_credit_apply(invoice=invoice, now=NOW) == Decimal("10.00")
    assert balance(tenant_alpha) == Decimal("0.00")


def test_an_invoice_of_a_tenant_without_credit_takes_nothing_and_writes_nothing(tenant_alpha):
    invoice = invoice_owing(tenant_alpha, "19.99")

    assert account_credit_apply(invoice=invoice, now=NOW) == Decimal(0)
    assert not AccountCreditEntry.objects.filter(invoice=invoice).exists()


def test_an_invoice_does_not_take_credit_held_in_another_currency(tenant_alpha):
    add(tenant_alpha, "50.00", currency="EUR")
    invoice = invoice_owing(tenant_alpha, "19.99")

    assert account_credit_apply(invoice=invoice, now=NOW) == Decimal(0)
    assert balance(tenant_alpha, "EUR") == Decimal("50.00")


def test_an_invoice_with_nothing_to_pay_takes_nothing(tenant_alpha):
    add(tenant_alpha, "50.00")
    invoice = invoice_owing(tenant_alpha, "-5.00")

    assert account_credit_apply(invoice=invoice, now=NOW) == Decimal(0)
    assert balance(tenant_alpha) == Decimal("50.00")


def test_applying_credit_to_one_invoice_twice_takes_it_once(tenant_alpha):
    add(tenant_alpha, "50.00")
    invoice = invoice_owing(tenant_alpha, "19.99")
    account_credit_apply(invoice=invoice, now=NOW)

    assert account_credit_apply(invoice=invoice, now=NOW) == Decimal("19.99")
    assert balance(tenant_alpha) == Decimal("30.01")


def test_the_database_refuses_a_second_consumption_entry_for_one_invoice(tenant_alpha):
    add(tenant_alpha, "50.00")
    invoice = invoice_owing(tenant_alpha, "19.99")
    account_credit_apply(invoice=invoice, now=NOW)

    with pytest.raises(IntegrityError), transaction.atomic():
        AccountCreditEntry.objects.create(account=AccountCredit.objects.get(tenant=tenant_alpha), tenant=tenant_alpha,
                                          kind=Kind.INVOICE, amount=Decimal("-1.00"), balance_after=Decimal("29.01"),
                                          description="forged", invoice=invoice, created_by="x", created_at=NOW)


def test_the_ledger_shows_only_the_tenants_own_entries(tenant_alpha, tenant_beta):
    add(tenant_alpha, "25.00")
    add(tenant_beta, "5.00")

    assert [entry.amount for entry in account_credit_entries(tenant=tenant_beta)] == [Decimal("5.00")]


# --- Concurrency (real commits, one connection per thread) ------------------------------------------

@pytest.fixture
def committed_alpha(committed_db):
    alpha = Tenant.objects.get(slug="alpha")
    yield alpha
    AccountCreditEntry.objects.filter(tenant=alpha).delete()
    AccountCredit.objects.filter(tenant=alpha).delete()
    Invoice.objects.filter(tenant=alpha, status=Invoice.Status.DRAFT).delete()


def test_invoices_racing_for_the_same_credit_take_no_more_than_the_balance(committed_alpha):
    add(committed_alpha, "100.00")
    invoices = [invoice_owing(committed_alpha, "30.00") for _ in range(8)]
    barrier = threading.Barrier(len(invoices))
    taken: list[Decimal] = []
    errors: list[Exception] = []

    def apply(invoice: Invoice) -> None:
        try:
            barrier.wait(timeout=10)
            with transaction.atomic():
                taken.append(account_credit_apply(invoice=invoice, now=NOW))
        except Exception as error:  # the outcome under test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=apply, args=(invoice,)) for invoice in invoices]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sum(taken) == Decimal("100.00")
    assert balance(committed_alpha) == Decimal("0.00")
    # The ledger explains the balance: what was added less what the invoices took, each step at or above zero.
    entries = AccountCreditEntry.objects.filter(tenant=committed_alpha)
    assert sum(entry.amount for entry in entries) == Decimal("0.00")
    assert min(entry.balance_after for entry in entries) == Decimal("0.00")


def test_a_credit_replayed_with_its_key_is_written_once(tenant_alpha):
    first = account_credit_add(tenant=tenant_alpha, amount=usd("5.00"), kind=Kind.PROMOTION, description="Goodwill",
                               actor="ops@tollgate.test", now=NOW, idempotency_key="form-1")
    again = account_credit_add(tenant=tenant_alpha, amount=usd("5.00"), kind=Kind.PROMOTION, description="Goodwill",
                               actor="ops@tollgate.test", now=NOW, idempotency_key="form-1")

    assert again.pk == first.pk
    assert balance(tenant_alpha) == Decimal("5.00")


def test_a_key_reused_for_another_amount_is_refused(tenant_alpha):
    account_credit_add(tenant=tenant_alpha, amount=usd("5.00"), kind=Kind.PROMOTION, description="Goodwill",
                       actor="ops@tollgate.test", now=NOW, idempotency_key="form-2")

    with pytest.raises(AccountCreditKeyReused):
        account_credit_add(tenant=tenant_alpha, amount=usd("50.00"), kind=Kind.PROMOTION, description="More",
                           actor="ops@tollgate.test", now=NOW, idempotency_key="form-2")
    assert balance(tenant_alpha) == Decimal("5.00")
