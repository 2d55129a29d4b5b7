"""Finalising, settling and crediting invoices, and the lines ops may change while an invoice is a draft."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test import override_settings

from billing.errors import CreditNoteTooLarge, InvoiceStateInvalid
from billing.invoicing.credit import account_credit_add, account_credit_balance
from billing.invoicing.events import invoice_finalized, invoice_paid, invoice_voided
from billing.invoicing.services import (
    CreditNoteAmountInvalid,
    credit_note_issue,
    draft_invoice_line_add,
    draft_invoice_line_remove,
    invoice_finalize,
    invoice_mark_paid,
    invoice_mark_uncollectible,
    invoice_void,
)
from billing.invoicing.totals import invoice_totals_apply
from billing.models import (
    AccountCredit,
    AccountCreditEntry,
    BillingProfile,
    CreditNote,
    DocumentSequence,
    Invoice,
    InvoiceLine,
)
from config.money import CurrencyMismatch, Money
from tenants.models import Tenant
from tests.support.clock import NOW

Status = Invoice.Status
OPS = "ops@tollgate.test"
LATER = NOW + timedelta(days=3)


@pytest.fixture(autouse=True)
def own_series(settings):
    """Series no other test uses, so that documents another test committed (the billing run's tests across
    processes) cannot shift the numbers asserted here."""
    settings.BILLING_INVOICE_SERIES, settings.BILLING_CREDIT_NOTE_SERIES = "ZI", "ZK"


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


def draft_invoice(tenant, *amounts: str, currency: str = "USD") -> Invoice:
    """A draft invoice with one line per amount, its totals applied."""
    invoice = Invoice.objects.create(tenant=tenant, billing_reason=Invoice.Reason.MANUAL, currency=currency,
                                     created_at=NOW)
    for n, amount in enumerate(amounts):
        InvoiceLine.objects.create(invoice=invoice, kind=InvoiceLine.Kind.FIXED, description=f"Line {n + 1}",
                                   amount_exact=Decimal(amount), amount=Decimal(amount), sort_order=n)
    invoice_totals_apply(invoice=invoice)
    return invoice


def open_invoice(tenant, *amounts: str) -> Invoice:
    return invoice_finalize(invoice=draft_invoice(tenant, *amounts), now=NOW)


def credit(tenant, amount: str) -> None:
    account_credit_add(tenant=tenant, amount=usd(amount), kind=AccountCreditEntry.Kind.PROMOTION,
                       description="Welcome credit", actor=OPS, now=NOW)


def balance(tenant) -> Decimal:
    return account_credit_balance(tenant=tenant, currency="USD").amount


@pytest.fixture
def received():
    """The invoices each invoicing signal was sent for, by signal name."""
    seen: dict[str, list[int]] = {"finalized": [], "paid": [], "voided": []}
    receivers = {name: (lambda sender, invoice, name=name, **kwargs: seen[name].append(invoice.pk))
                 for name in seen}
    signals = {"finalized": invoice_finalized, "paid": invoice_paid, "voided": invoice_voided}
    for name, signal in signals.items():
        signal.connect(receivers[name], weak=False)
    yield seen
    for name, signal in signals.items():
        signal.disconnect(receivers[name])


# --- Finalising -------------------------------------------------------------------------------------

def test_finalising_numbers_the_invoice_in_the_series_of_its_issue_year(tenant_alpha):
    invoice = open_invoice(tenant_alpha, "99.00")

    assert (invoice.number, invoice.status) == ("ZI-2026-000001", Status.OPEN)


def test_finalised_invoices_are_numbered_one_after_the_other(tenant_alpha, tenant_beta):
    first = open_invoice(tenant_alpha, "99.00")
    second = open_invoice(tenant_beta, "19.00")

    assert (first.number, second.number) == ("ZI-2026-000001", "ZI-2026-000002")


def test_finalising_dates_the_invoice_now_and_due_after_the_default_net_terms(tenant_alpha):
    invoice = open_invoice(tenant_alpha, "99.00")

    assert (invoice.issued_at, invoice.due_at) == (NOW, NOW + timedelta(days=14))


def test_the_due_date_follows_the_tenants_own_net_terms(tenant_alpha):
    BillingProfile.objects.create(tenant=tenant_alpha, net_terms_days=30)

    assert open_invoice(tenant_alpha, "99.00").due_at == NOW + timedelta(days=30)


def test_the_customer_is_the_billing_profile_as_it_was_at_issue(tenant_alpha):
    profile = BillingProfile.objects.create(
        tenant=tenant_alpha, legal_name="Alpha Company GmbH", email="ap@alpha.test", address_line1="Hauptstr. 1",
        city="Berlin", postal_code="10115", country="DE", tax_id="DE123456789")
    invoice = open_invoice(tenant_alpha, "99.00")
    profile.legal_name = "Renamed GmbH"
    profile.save()

    invoice.refresh_from_db()
    assert {key: invoice.customer[key] for key in ("name", "email", "address_line1", "city", "postal_code",
                                                     "country", "tax_id")} == {
        "name": "Alpha Company GmbH", "email": "ap@alpha.test", "address_line1": "Hauptstr. 1", "city": "Berlin",
        "postal_code": "10115", "country": "DE", "tax_id": "DE123456789"}


def test_without_a_billing_profile_the_customer_is_the_tenants_name_and_billing_email(tenant_alpha):
    tenant_alpha.billing_email = "accounts@alpha.test"
    tenant_alpha.save(update_fields=["billing_email"])

    customer = open_invoice(tenant_alpha, "99.00").customer

    assert (customer["name"], customer["email"]) == ("Alpha Co", "accounts@alpha.test")


def test_the_issuer_is_the_operator_as_configured_at_issue(tenant_alpha):
    issuer = {"name": "Tollgate Test Ltd", "address": "1 Test Road", "country": "IE", "tax_id": "IE1234567T",
              "email": "billing@test", "payment_instructions": "Pay by transfer."}
    with override_settings(BILLING_ISSUER=issuer):
        invoice = open_invoice(tenant_alpha, "99.00")

    assert invoice.issuer == issuer


def test_finalising_adds_the_invoice_up_from_its_lines(tenant_alpha):
    invoice = draft_invoice(tenant_alpha, "99.00")
    # A line written without recomputing the totals is counted all the same.
    InvoiceLine.objects.create(invoice=invoice, kind=InvoiceLine.Kind.USAGE, description="API calls",
                               amount_exact=Decimal("2.345"), amount=Decimal("2.35"))

    assert invoice_finalize(invoice=invoice, now=NOW).total == Decimal("101.35")


def test_account_credit_reduces_what_the_invoice_asks_for(tenant_alpha):
    credit(tenant_alpha, "30.00")

    invoice = open_invoice(tenant_alpha, "99.00")

    assert (invoice.credit_applied, invoice.amount_due, invoice.status) == (
        Decimal("30.00"), Decimal("69.00"), Status.OPEN)
    assert balance(tenant_alpha) == 0


def test_an_invoice_the_credit_covers_is_paid_at_once(tenant_alpha):
    credit(tenant_alpha, "150.00")

    invoice = open_invoice(tenant_alpha, "99.00")

    assert (invoice.amount_due, invoice.status, invoice.paid_at) == (0, Status.PAID, NOW)
    assert balance(tenant_alpha) == Decimal("51.00")


def test_an_invoice_of_zero_is_paid_at_once(tenant_alpha):
    invoice = open_invoice(tenant_alpha, "0.00")

    assert (invoice.status, invoice.amount_due) == (Status.PAID, 0)


def test_a_negative_total_goes_to_the_account_credit_and_nothing_is_due(tenant_alpha):
    invoice = open_invoice(tenant_alpha, "-40.00", "15.00")

    assert (invoice.total, invoice.amount_due, invoice.credit_applied, invoice.status) == (
        Decimal("-25.00"), 0, 0, Status.PAID)
    assert balance(tenant_alpha) == Decimal("25.00")


def test_a_negative_total_does_not_consume_credit_the_tenant_already_had(tenant_alpha):
    credit(tenant_alpha, "10.00")

    open_invoice(tenant_alpha, "-25.00")

    assert balance(tenant_alpha) == Decimal("35.00")


def test_finalising_twice_is_refused_and_the_invoice_keeps_its_one_number(tenant_alpha):
    invoice = open_invoice(tenant_alpha, "99.00")

    with pytest.raises(InvoiceStateInvalid):
        invoice_finalize(invoice=invoice, now=LATER)

    assert DocumentSequence.objects.get(series="ZI", year=2026).last_number == 1


def test_finalising_twice_does_not_apply_credit_twice(tenant_alpha):
    credit(tenant_alpha, "100.00")
    invoice = open_invoice(tenant_alpha, "30.00")

    with pytest.raises(InvoiceStateInvalid):
        invoice_finalize(invoice=invoice, now=LATER)

    assert balance(tenant_alpha) == Decimal("70.00")


def test_the_finalised_signal_is_sent_once_the_invoice_is_committed(tenant_alpha, received,
                                                                    django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        invoice = open_invoice(tenant_alpha, "99.00")
    assert received["finalized"] == []

    for callback in callbacks:
        callback()

    assert (received["finalized"], received["paid"]) == ([invoice.pk], [])


def test_an_invoice_paid_at_once_also_sends_the_paid_signal(tenant_alpha, received,
                                                            django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invoice = open_invoice(tenant_alpha, "0.00")

    assert (received["finalized"], received["paid"]) == ([invoice.pk], [invoice.pk])


def test_the_invoice_year_is_the_year_it_is_issued_in(tenant_alpha):
    new_year = NOW.replace(year=2027, month=1, day=1, hour=0)

    assert invoice_finalize(invoice=draft_invoice(tenant_alpha, "9.00"), now=new_year).number == "ZI-2027-000001"


# --- Settling ---------------------------------------------------------------------------------------

def test_marking_an_open_invoice_paid_records_the_amount_due_as_paid(tenant_alpha, received,
                                                                     django_capture_on_commit_callbacks):
    credit(tenant_alpha, "9.00")
    invoice = open_invoice(tenant_alpha, "99.00")

    with django_capture_on_commit_callbacks(execute=True):
        paid = invoice_mark_paid(invoice=invoice, actor=OPS, now=LATER)

    assert (paid.status, paid.amount_paid, paid.paid_at) == (Status.PAID, Decimal("90.00"), LATER)
    assert received["paid"] == [invoice.pk]


def test_an_uncollectible_invoice_may_still_be_paid(tenant_alpha):
    invoice = invoice_mark_uncollectible(invoice=open_invoice(tenant_alpha, "99.00"), actor=OPS, now=LATER)

    assert invoice_mark_paid(invoice=invoice, actor=OPS, now=LATER).status == Status.PAID


def test_an_invoice_is_paid_only_once(tenant_alpha):
    invoice = invoice_mark_paid(invoice=open_invoice(tenant_alpha, "99.00"), actor=OPS, now=LATER)

    with pytest.raises(InvoiceStateInvalid):
        invoice_mark_paid(invoice=invoice, actor=OPS, now=LATER)


def test_a_draft_cannot_be_marked_paid(tenant_alpha):
    with pytest.raises(InvoiceStateInvalid):
        invoice_mark_paid(invoice=draft_invoice(tenant_alpha, "99.00"), actor=OPS, now=LATER)


def test_a_voided_invoice_keeps_its_number_and_the_next_one_takes_the_next(tenant_alpha, received,
                                                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        voided = invoice_void(invoice=open_invoice(tenant_alpha, "99.00"), actor=OPS, now=LATER)

    assert (voided.status, voided.number, voided.voided_at) == (Status.VOID, "ZI-2026-000001", LATER)
    assert open_invoice(tenant_alpha, "99.00").number == "ZI-2026-000002"
    assert received["voided"] == [voided.pk]


def test_voiding_gives_back_the_credit_the_invoice_consumed(tenant_alpha):
    credit(tenant_alpha, "30.00")
    invoice = open_invoice(tenant_alpha, "99.00")

    invoice_void(invoice=invoice, actor=OPS, now=LATER)

    assert balance(tenant_alpha) == Decimal("30.00")
    returned = AccountCreditEntry.objects.get(invoice=invoice, kind=AccountCreditEntry.Kind.INVOICE_VOIDED)
    assert (returned.amount, returned.created_by) == (Decimal("30.00"), OPS)


def test_a_paid_invoice_cannot_be_voided(tenant_alpha):
    invoice = invoice_mark_paid(invoice=open_invoice(tenant_alpha, "99.00"), actor=OPS, now=LATER)

    with pytest.raises(InvoiceStateInvalid):
        invoice_void(invoice=invoice, actor=OPS, now=LATER)


def test_an_invoice_with_a_credit_note_cannot_be_voided_to_keep_both(tenant_alpha):
    invoice = open_invoice(tenant_alpha, "99.00")
    credit_note_issue(invoice=invoice, amount=usd("20.00"), reason="correction", memo="", actor=OPS, now=LATER)

    with pytest.raises(InvoiceStateInvalid):
        invoice_void(invoice=invoice, actor=OPS, now=LATER)

    assert Invoice.objects.get(pk=invoice.pk).status == Status.OPEN


def test_marking_an_open_invoice_uncollectible(tenant_alpha):
    invoice = invoice_mark_uncollectible(invoice=open_invoice(tenant_alpha, "99.00"), actor=OPS, now=LATER)

    assert (invoice.status, invoice.uncollectible_at) == (Status.UNCOLLECTIBLE, LATER)


def test_a_paid_invoice_cannot_be_marked_uncollectible(tenant_alpha):
    invoice = invoice_mark_paid(invoice=open_invoice(tenant_alpha, "99.00"), actor=OPS, now=LATER)

    with pytest.raises(InvoiceStateInvalid):
        invoice_mark_uncollectible(invoice=invoice, actor=OPS, now=LATER)


def test_a_service_decides_from_the_stored_invoice_not_a_stale_copy(tenant_alpha):
    invoice = open_invoice(tenant_alpha, "99.00")
    stale = Invoice.objects.get(pk=invoice.pk)
    invoice_mark_paid(invoice=invoice, actor=OPS, now=LATER)

    with pytest.raises(InvoiceStateInvalid):
        invoice_void(invoice=stale, actor=OPS, now=LATER)


# --- Draft lines ------------------------------------------------------------------------------------

def test_a_line_added_to_a_draft_is_rounded_once_and_counted_in_its_totals(tenant_alpha):
    invoice = draft_invoice(tenant_alpha, "99.00")

    line = draft_invoice_line_add(invoice=invoice, description="Onboarding call", amount=usd("25.005"), actor=OPS)

    assert (line.kind, line.amount_exact, line.amount) == (InvoiceLine.Kind.ONE_TIME, Decimal("25.005"),
                                                           Decimal("25.01"))
    assert Invoice.objects.get(pk=invoice.pk).total == Decimal("124.01")


def test_a_line_added_to_a_draft_comes_after_its_other_lines(tenant_alpha):
    invoice = draft_invoice(tenant_alpha, "99.00", "1.00")

    draft_invoice_line_add(invoice=invoice, description="Correction", amount=usd("-5.00"), actor=OPS)

    assert list(invoice.lines.values_list("description", flat=True)) == ["Line 1", "Line 2", "Correction"]


def test_a_line_in_another_currency_is_refused(tenant_alpha):
    with pytest.raises(CurrencyMismatch):
        draft_invoice_line_add(invoice=draft_invoice(tenant_alpha, "99.00"), description="x",
                               amount=Money(Decimal("5.00"), "EUR"), actor=OPS)


def test_removing_a_line_from_a_draft_recomputes_its_totals(tenant_alpha):
    invoice = draft_invoice(tenant_alpha, "99.00", "20.00")

    draft_invoice_line_remove(line=invoice.lines.get(description="Line 2"), actor=OPS)

    assert Invoice.objects.get(pk=invoice.pk).total == Decimal("99.00")


def test_no_line_may_be_added_once_the_invoice_is_finalised(tenant_alpha):
    invoice = open_invoice(tenant_alpha, "99.00")

    with pytest.raises(InvoiceStateInvalid):
        draft_invoice_line_add(invoice=invoice, description="Late fee", amount=usd("5.00"), actor=OPS)


def test_no_line_may_be_removed_once_the_invoice_is_finalised(tenant_alpha):
    invoice = open_invoice(tenant_alpha, "99.00")

    with pytest.raises(InvoiceStateInvalid):
        draft_invoice_line_remove(line=invoice.lines.get(), actor=OPS)

    assert invoice.lines.count() == 1


# --- Credit notes -----------------------------------------------------------------------------------

def test_a_credit_note_is_numbered_in_its_own_series_and_goes_to_the_account_credit(tenant_alpha):
    invoice = open_invoice(tenant_alpha, "99.00")

    note = credit_note_issue(invoice=invoice, amount=usd("20.00"), reason="correction", memo="Wrong seats",
                             actor=OPS, now=LATER)

    assert (note.number, note.amount, note.currency, note.refund_to, note.created_by) == (
        "ZK-2026-000001", Decimal("20.00"), "USD", CreditNote.RefundTo.ACCOUNT_CREDIT, OPS)
    assert Invoice.objects.get(pk=invoice.pk).amount_credited == Decimal("20.00")
    assert balance(tenant_alpha) == Decimal("20.00")


def test_an_open_invoice_credited_still_asks_for_its_amount_due(tenant_alpha):
    invoice = open_invoice(tenant_alpha, "99.00")

    credit_note_issue(invoice=invoice, amount=usd("20.00"), reason="correction", memo="", actor=OPS, now=LATER)

    assert Invoice.objects.get(pk=invoice.pk).amount_due == Decimal("99.00")


def test_credit_notes_may_credit_the_whole_total_and_no_more(tenant_alpha):
    invoice = invoice_mark_paid(invoice=open_invoice(tenant_alpha, "99.00"), actor=OPS, now=LATER)
    credit_note_issue(invoice=invoice, amount=usd("60.00"), reason="duplicate", memo="", actor=OPS, now=LATER)
    credit_note_issue(invoice=invoice, amount=usd("39.00"), reason="duplicate", memo="", actor=OPS, now=LATER)

    with pytest.raises(CreditNoteTooLarge):
        credit_note_issue(invoice=invoice, amount=usd("0.01"), reason="duplicate", memo="", actor=OPS, now=LATER)

    assert Invoice.objects.get(pk=invoice.pk).amount_credited == Decimal("99.00")
    assert balance(tenant_alpha) == Decimal("99.00")


def test_a_credit_note_larger_than_the_invoice_is_refused_and_takes_no_number(tenant_alpha):
    invoice = open_invoice(tenant_alpha, "99.00")

    with pytest.raises(CreditNoteTooLarge) as refusal:
        credit_note_issue(invoice=invoice, amount=usd("99.01"), reason="correction", memo="", actor=OPS, now=LATER)

    assert refusal.value.details == {"creditable": {"amount": "99.00", "currency": "USD"}}

    assert not DocumentSequence.objects.filter(series="ZK").exists()
    assert balance(tenant_alpha) == 0


def test_an_invoice_with_a_negative_total_cannot_be_credited(tenant_alpha):
    invoice = open_invoice(tenant_alpha, "-10.00")

    with pytest.raises(CreditNoteTooLarge):
        credit_note_issue(invoice=invoice, amount=usd("1.00"), reason="correction", memo="", actor=OPS, now=LATER)


@pytest.mark.parametrize("amount", ["0.00", "-5.00", "1.005"])
def test_a_credit_note_is_a_positive_amount_in_minor_units(tenant_alpha, amount):
    with pytest.raises(CreditNoteAmountInvalid):
        credit_note_issue(invoice=open_invoice(tenant_alpha, "99.00"), amount=usd(amount), reason="correction",
                          memo="", actor=OPS, now=LATER)


def test_a_draft_cannot_be_credited(tenant_alpha):
    with pytest.raises(InvoiceStateInvalid):
        credit_note_issue(invoice=draft_invoice(tenant_alpha, "99.00"), amount=usd("5.00"), reason="correction",
                          memo="", actor=OPS, now=LATER)


def test_a_voided_invoice_cannot_be_credited(tenant_alpha):
    invoice = invoice_void(invoice=open_invoice(tenant_alpha, "99.00"), actor=OPS, now=LATER)

    with pytest.raises(InvoiceStateInvalid):
        credit_note_issue(invoice=invoice, amount=usd("5.00"), reason="correction", memo="", actor=OPS, now=LATER)


def test_a_credit_note_in_another_currency_is_refused(tenant_alpha):
    with pytest.raises(CreditNoteAmountInvalid):
        credit_note_issue(invoice=open_invoice(tenant_alpha, "99.00"), amount=Money(Decimal("5.00"), "EUR"),
                          reason="correction", memo="", actor=OPS, now=LATER)


def test_a_credit_note_is_consumed_by_the_tenants_next_invoice(tenant_alpha):
    first = invoice_mark_paid(invoice=open_invoice(tenant_alpha, "99.00"), actor=OPS, now=LATER)
    credit_note_issue(invoice=first, amount=usd("20.00"), reason="correction", memo="", actor=OPS, now=LATER)

    second = invoice_finalize(invoice=draft_invoice(tenant_alpha, "99.00"), now=LATER)

    assert (second.credit_applied, second.amount_due) == (Decimal("20.00"), Decimal("79.00"))
    assert balance(tenant_alpha) == 0


# --- Concurrency (real commits, one connection per thread) ------------------------------------------

@pytest.fixture
def committed_alpha(committed_db):
    """Alpha for tests whose invoices must be committed. Finalised invoices and credit notes are immutable, so
    the cleanup switches the triggers off for its own transaction (tests only: it needs a superuser)."""
    alpha = Tenant.objects.get(slug="alpha")
    yield alpha
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        AccountCreditEntry.objects.filter(tenant=alpha).delete()
        AccountCredit.objects.filter(tenant=alpha).delete()
        CreditNote.objects.filter(tenant=alpha).delete()
        InvoiceLine.objects.filter(invoice__tenant=alpha).delete()
        Invoice.objects.filter(tenant=alpha).delete()
        DocumentSequence.objects.filter(series__in=["ZI", "ZK"]).delete()


def run_together(count: int, work) -> list:
    """Start `count` threads at once, each running work() on its own connection; their results or errors."""
    barrier = threading.Barrier(count)
    outcomes: list = [None] * count

    def run(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[n] = work()
        except Exception as error:  # the outcome under test
            outcomes[n] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_operators_crediting_one_invoice_at_once_never_credit_more_than_its_total(committed_alpha):
    invoice = open_invoice(committed_alpha, "99.00")

    outcomes = run_together(5, lambda: credit_note_issue(invoice=invoice, amount=usd("30.00"), reason="correction",
                                                         memo="", actor=OPS, now=LATER))

    notes = [outcome for outcome in outcomes if isinstance(outcome, CreditNote)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, CreditNoteTooLarge)]
    assert (len(notes), len(refused)) == (3, 2)
    assert sorted(note.number for note in notes) == ["ZK-2026-000001", "ZK-2026-000002", "ZK-2026-000003"]
    assert Invoice.objects.get(pk=invoice.pk).amount_credited == Decimal("90.00") == balance(committed_alpha)


def test_finalising_one_draft_twice_at_once_numbers_it_once_and_applies_credit_once(committed_alpha):
    credit(committed_alpha, "50.00")
    invoice = draft_invoice(committed_alpha, "30.00")

    outcomes = run_together(2, lambda: invoice_finalize(invoice=invoice, now=NOW))

    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["Invoice", "InvoiceStateInvalid"]
    assert DocumentSequence.objects.get(series="ZI", year=2026).last_number == 1
    assert balance(committed_alpha) == Decimal("20.00")
