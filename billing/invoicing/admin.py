"""Ops admin for invoicing (public host only): invoices with their lines (read-only, each usage line's breakdown
in words), their PDF, and what ops may do to them through billing.invoicing.services only: finalise a draft,
add or remove a draft's lines during its draft period, mark paid, void, mark uncollectible, issue a credit
note. Credit notes, the account-credit ledger and the billing emails sent are read-only; account credit is
adjusted through billing.invoicing.credit so that every change is a ledger entry, and quotes are sent through
billing.quotes.services. The database keeps a finalised invoice as issued whatever this admin does (migration
0004's triggers); the services' refusals become messages or form errors."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from billing.errors import BillingError
from billing.invoicing.credit import account_credit_add
from billing.invoicing.documents import breakdown_text
from billing.invoicing.pdf import invoice_pdf
from billing.invoicing.services import (
    credit_note_issue,
    draft_invoice_line_add,
    draft_invoice_line_remove,
    invoice_finalize,
    invoice_mark_paid,
    invoice_mark_uncollectible,
    invoice_void,
)
from billing.models import (
    AccountCredit,
    AccountCreditEntry,
    BillingEmail,
    CreditNote,
    Dispute,
    Invoice,
    InvoiceLine,
    ServiceQuote,
)
from billing.payments.refunds import card_payment_of, card_refundable
from billing.quotes.services import service_quote_send
from config.admin import ReadOnlyAdminMixin
from config.money import Money, money_format
from tenants.models import Tenant

Status = Invoice.Status
# The quotes ops may still (re-)quote: before the tenant answers.
QUOTABLE = (ServiceQuote.Status.REQUESTED, ServiceQuote.Status.QUOTED)
# The account-credit page shows this many of the latest entries; the full ledger is its own list.
INLINE_ENTRIES = 50
MAX_AMOUNT = Decimal("999999999999.9999")
LINE_FIELDS = ["kind", "description", "period", "quantity", "unit_amount", "amount_display", "breakdown_display",
               "remove_link"]
ENTRY_FIELDS = ["created_at", "kind", "amount", "balance_after", "description", "invoice", "credit_note",
                "created_by"]


def _confirm_form(request: HttpRequest) -> forms.Form:
    """A confirmation: bound on POST even when nothing but the CSRF token (or, in tests, nothing) is posted."""
    return forms.Form(request.POST if request.method == "POST" else None)


def _form_error(form: forms.Form, error: BillingError) -> None:
    """A service's refusal on the field it names when the form has it, else on the whole form."""
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _settle(service):
    """A settling service (paid, void, uncollectible) called the way finalise is: invoice, actor, now."""
    def settle(*, invoice: Invoice, actor: str, now) -> Invoice:
        return service(invoice=invoice, actor=actor, now=now)
    return settle


def _finalize(*, invoice: Invoice, actor: str, now) -> Invoice:
    # Finalising is the system's act (the draft period ending early); the operator is in the admin's log.
    return invoice_finalize(invoice=invoice, now=now)


# operation -> (service, label, done message, statuses it applies to: for the buttons shown)
OPERATIONS = {
    "finalize": (_finalize, "Finalise", "Finalised", (Status.DRAFT,)),
    "mark-paid": (_settle(invoice_mark_paid), "Mark paid", "Marked paid", (Status.OPEN, Status.UNCOLLECTIBLE)),
    "void": (_settle(invoice_void), "Void", "Voided", (Status.OPEN, Status.UNCOLLECTIBLE)),
    "mark-uncollectible": (_settle(invoice_mark_uncollectible), "Mark uncollectible", "Marked uncollectible",
                           (Status.OPEN,)),
}


def _money(amount: Decimal, currency: str) -> str:
    return money_format(Money(amount, currency))


# --- Invoices ---------------------------------------------------------------------------------------------------

class InvoiceLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Always read-only: a draft's lines change through the add and remove pages (its services recompute the
    totals), and a finalised invoice's lines never change."""

    model = InvoiceLine
    fk_name = "invoice"
    fields = LINE_FIELDS
    readonly_fields = LINE_FIELDS
    extra = 0
    ordering = ["sort_order", "id"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[InvoiceLine]:
        # Each line's currency, status and links read its invoice: one join rather than a query per line.
        return super().get_queryset(request).select_related("invoice")

    @admin.display(description="Period")
    def period(self, line: InvoiceLine) -> str:
        if line.period_start and line.period_end:
            return f"{line.period_start:%d %b %Y} to {line.period_end:%d %b %Y}"
        return "-"

    @admin.display(description="Amount")
    def amount_display(self, line: InvoiceLine) -> str:
        return _money(line.amount, line.invoice.currency)

    @admin.display(description="Breakdown")
    def breakdown_display(self, line: InvoiceLine) -> str:
        parts = [breakdown_text(part, currency=line.invoice.currency) for part in line.breakdown or []]
        return format_html_join(mark_safe("<br>"), "{}", ((part,) for part in parts)) if parts else "-"

    @admin.display(description="")
    def remove_link(self, line: InvoiceLine) -> str:
        if line.invoice.status != Status.DRAFT:
            return ""
        return format_html('<a href="{}">Remove</a>',
                           reverse("admin:billing_invoice_line_remove", args=[line.invoice_id, line.pk]))


class InvoiceCreditNoteInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CreditNote
    fields = ["number", "amount", "reason", "memo", "refund_to", "card_refund_status", "created_by", "created_at"]
    readonly_fields = fields
    extra = 0
    show_change_link = True

    @admin.display(description="Refund to the card")
    def card_refund_status(self, note: CreditNote) -> str:
        refund = getattr(note, "card_refund", None)
        return refund.get_status_display() if refund else "-"


class InvoiceDisputeInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Disputed: chargebacks on the card payment of the invoice (a lost one took the money back)."""

    model = Dispute
    verbose_name_plural = "Disputed"
    fields = ["dispute_id", "status", "reason", "amount", "opened_at", "evidence_due_by", "closed_at"]
    readonly_fields = fields
    extra = 0
    show_change_link = True


class CreditNoteForm(forms.Form):
    amount = forms.DecimalField(min_value=Decimal("0.0001"), max_value=MAX_AMOUNT, decimal_places=4,
                                help_text="In the invoice's currency.")
    reason = forms.ChoiceField(choices=CreditNote.Reason.choices)
    memo = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                           help_text="Printed on the credit note.")
    refund_to = forms.ChoiceField(label="Refund to", choices=CreditNote.RefundTo.choices, required=False,
                                  initial=CreditNote.RefundTo.ACCOUNT_CREDIT)

    def __init__(self, *args, card_refundable: Money | None = None, **kwargs):
        """`card_refundable`: what the card that paid the invoice can still get back; without it (not paid by
        card, or nothing left) the card is not offered."""
        super().__init__(*args, **kwargs)
        field = self.fields["refund_to"]
        if card_refundable is None or card_refundable.amount <= 0:
            field.choices = [(CreditNote.RefundTo.ACCOUNT_CREDIT, CreditNote.RefundTo.ACCOUNT_CREDIT.label)]
        else:
            field.help_text = f"The card that paid the invoice can get back {money_format(card_refundable)} more."


class DraftLineForm(forms.Form):
    description = forms.CharField(max_length=300)
    amount = forms.DecimalField(max_value=MAX_AMOUNT, min_value=-MAX_AMOUNT, decimal_places=4,
                                help_text="In the invoice's currency; negative for a correction. Rounded once to "
                                          "the currency's minor units.")

    def clean_amount(self) -> Decimal:
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError("A line of 0 changes nothing.")
        return amount


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ["number_display", "tenant", "status", "billing_reason", "total_display", "amount_due_display",
                    "issued_at", "due_at"]
    list_filter = ["status", "billing_reason", "currency", "collection_method"]
    search_fields = ["number", "tenant__slug", "tenant__name"]
    list_select_related = ["tenant"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    inlines = [InvoiceLineInline, InvoiceCreditNoteInline, InvoiceDisputeInline]
    actions = ["finalize", "mark_paid", "void", "mark_uncollectible"]
    change_form_template = "billing/admin/invoice_change_form.html"
    fieldsets = [
        (None, {"fields": ["number_display", "tenant", "subscription", "status", "billing_reason", "currency",
                           "period_start", "period_end", "pdf_link", "memo"]}),
        ("Amounts", {"fields": ["subtotal_display", "discount_display", "tax_display", "total_display",
                                "credit_applied_display", "amount_due_display", "amount_paid_display",
                                "amount_credited_display"]}),
        ("Tax", {"fields": ["tax_name", "tax_percentage", "tax_inclusive", "tax_legend"]}),
        ("Dates", {"fields": ["created_at", "finalize_after", "issued_at", "due_at", "paid_at", "voided_at",
                              "uncollectible_at"]}),
        ("Parties as issued", {"fields": ["customer", "issuer"]}),
    ]
    readonly_fields = [name for _, section in fieldsets for name in section["fields"]]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Invoices come from the billing run, subscription changes and accepted quotes, never typed in.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Invoice | None = None) -> bool:
        # Numbers are gapless and drafts are the run's: void an invoice, remove a draft's lines.
        return False

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        invoice = self.get_object(request, unquote(object_id))
        operations = [(name, label) for name, (_, label, _, statuses) in OPERATIONS.items()
                      if invoice is not None and invoice.status in statuses]
        extra_context = {**(extra_context or {}), "operations": operations, "show_save": False,
                         "show_save_and_continue": False, "show_save_and_add_another": False,
                         "show_delete": False}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="Number", ordering="number")
    def number_display(self, invoice: Invoice) -> str:
        return str(invoice)

    @admin.display(description="PDF")
    def pdf_link(self, invoice: Invoice) -> str:
        return format_html('<a href="{}">Download the PDF</a>', reverse("admin:billing_invoice_pdf", args=[invoice.pk]))

    @admin.display(description="Subtotal")
    def subtotal_display(self, invoice: Invoice) -> str:
        return _money(invoice.subtotal, invoice.currency)

    @admin.display(description="Discount")
    def discount_display(self, invoice: Invoice) -> str:
        return _money(invoice.discount_total, invoice.currency)

    @admin.display(description="Tax")
    def tax_display(self, invoice: Invoice) -> str:
        return _money(invoice.tax_total, invoice.currency)

    @admin.display(description="Total", ordering="total")
    def total_display(self, invoice: Invoice) -> str:
        return _money(invoice.total, invoice.currency)

    @admin.display(description="Credit applied")
    def credit_applied_display(self, invoice: Invoice) -> str:
        return _money(invoice.credit_applied, invoice.currency)

    @admin.display(description="Amount due", ordering="amount_due")
    def amount_due_display(self, invoice: Invoice) -> str:
        return _money(invoice.amount_due, invoice.currency)

    @admin.display(description="Paid")
    def amount_paid_display(self, invoice: Invoice) -> str:
        return _money(invoice.amount_paid, invoice.currency)

    @admin.display(description="Credited by credit notes")
    def amount_credited_display(self, invoice: Invoice) -> str:
        return _money(invoice.amount_credited, invoice.currency)

    # --- Actions on the list ------------------------------------------------------------------------------------

    @admin.action(description="Finalise the selected drafts (number, issue and send)", permissions=["change"])
    def finalize(self, request: HttpRequest, queryset: QuerySet[Invoice]) -> None:
        self._each(request, queryset, "finalize")

    @admin.action(description="Mark the selected invoices paid", permissions=["change"])
    def mark_paid(self, request: HttpRequest, queryset: QuerySet[Invoice]) -> None:
        self._each(request, queryset, "mark-paid")

    @admin.action(description="Void the selected invoices", permissions=["change"])
    def void(self, request: HttpRequest, queryset: QuerySet[Invoice]) -> None:
        self._each(request, queryset, "void")

    @admin.action(description="Mark the selected invoices uncollectible", permissions=["change"])
    def mark_uncollectible(self, request: HttpRequest, queryset: QuerySet[Invoice]) -> None:
        self._each(request, queryset, "mark-uncollectible")

    def _each(self, request: HttpRequest, queryset: QuerySet[Invoice], operation: str) -> None:
        service, _, done_message, _ = OPERATIONS[operation]
        done = 0
        for invoice in queryset.order_by("pk"):
            try:
                service(invoice=invoice, actor=request.user.email, now=timezone.now())
                done += 1
            except BillingError as error:
                self.message_user(request, f"{invoice}: {error.message}", messages.WARNING)
        if done:
            self.message_user(request, f"{done_message}: {done} invoice(s).", messages.SUCCESS)

    # --- Pages for one invoice ----------------------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        def view(function):
            return self.admin_site.admin_view(function)

        return [
            path("<path:object_id>/pdf/", view(self.pdf_view), name="billing_invoice_pdf"),
            path("<path:object_id>/credit-note/", view(self.credit_note_view), name="billing_invoice_credit_note"),
            path("<path:object_id>/lines/add/", view(self.line_add_view), name="billing_invoice_line_add"),
            path("<path:object_id>/lines/<int:line_id>/remove/", view(self.line_remove_view),
                 name="billing_invoice_line_remove"),
            path("<path:object_id>/operation/<slug:operation>/", view(self.operation_view),
                 name="billing_invoice_operation"),
            *super().get_urls(),
        ]

    def _invoice(self, request: HttpRequest, object_id: str, *, change: bool = True) -> Invoice:
        invoice = self.get_object(request, unquote(object_id))
        if invoice is None:
            raise Http404("No such invoice.")
        allowed = self.has_change_permission(request, invoice) if change else self.has_view_permission(request,
                                                                                                          invoice)
        if not allowed:
            raise PermissionDenied
        return invoice

    def _page(self, request: HttpRequest, invoice: Invoice, *, title: str, form: forms.Form, submit_label: str,
              intro: str = "") -> TemplateResponse:
        return TemplateResponse(request, "billing/admin/object_form.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "original": invoice, "title": title,
            "intro": intro, "form": form, "submit_label": submit_label,
        }, status=400 if form.errors else 200)

    def _done(self, request: HttpRequest, invoice: Invoice, message: str) -> HttpResponseRedirect:
        self.message_user(request, message, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:billing_invoice_change", args=[invoice.pk]))

    def pdf_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        invoice = self._invoice(request, object_id, change=False)
        response = HttpResponse(invoice_pdf(invoice=invoice), content_type="application/pdf")
        name = invoice.number or f"draft-{invoice.pk}"
        response["Content-Disposition"] = f'inline; filename="{name}.pdf"'
        return response

    def operation_view(self, request: HttpRequest, object_id: str, operation: str) -> HttpResponse:
        invoice = self._invoice(request, object_id)
        if operation not in OPERATIONS:
            raise Http404("No such operation.")
        service, label, done_message, _ = OPERATIONS[operation]
        form = _confirm_form(request)
        if request.method == "POST" and form.is_valid():
            try:
                invoice = service(invoice=invoice, actor=request.user.email, now=timezone.now())
            except BillingError as error:
                form.add_error(None, error.message)
            else:
                return self._done(request, invoice, f"{done_message}: {invoice}.")
        return self._page(request, invoice, title=f"{label} {invoice}", form=form, submit_label=label,
                          intro=f"{invoice.get_status_display()}, total {_money(invoice.total, invoice.currency)}, "
                                f"due {_money(invoice.amount_due, invoice.currency)}.")

    def credit_note_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        invoice = self._invoice(request, object_id)
        card_payment = card_payment_of(invoice)
        form = CreditNoteForm(request.POST or None,
                              card_refundable=card_refundable(card_payment) if card_payment else None)
        if request.method == "POST" and form.is_valid():
            try:
                note = credit_note_issue(invoice=invoice, amount=Money(form.cleaned_data["amount"], invoice.currency),
                                         reason=form.cleaned_data["reason"], memo=form.cleaned_data["memo"],
                                         actor=request.user.email, now=timezone.now(),
                                         refund_to=form.cleaned_data["refund_to"] or CreditNote.RefundTo.ACCOUNT_CREDIT)
            except BillingError as error:
                _form_error(form, error)
            else:
                where = "back to the card that paid the invoice (Stripe refund requested)" \
                    if note.refund_to == CreditNote.RefundTo.CARD else f"to the account credit of {invoice.tenant}"
                return self._done(request, invoice, f"Issued credit note {note.number} for "
                                                    f"{_money(note.amount, note.currency)} {where}.")
        creditable = max(invoice.total - invoice.amount_credited, Decimal(0))
        return self._page(request, invoice, title=f"Issue a credit note for {invoice}", form=form,
                          submit_label="Issue the credit note",
                          intro=f"Total {_money(invoice.total, invoice.currency)}, already credited "
                                f"{_money(invoice.amount_credited, invoice.currency)}: at most "
                                f"{_money(creditable, invoice.currency)} more. The credit goes to the tenant's "
                                f"account credit, or back to the card when the invoice was paid by card; to "
                                f"cancel what an open invoice asks for, void it instead.")

    def line_add_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        invoice = self._invoice(request, object_id)
        form = DraftLineForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                line = draft_invoice_line_add(invoice=invoice, description=form.cleaned_data["description"],
                                              amount=Money(form.cleaned_data["amount"], invoice.currency),
                                              actor=request.user.email)
            except BillingError as error:
                _form_error(form, error)
            else:
                return self._done(request, invoice, f"Added \"{line.description}\" "
                                                    f"({_money(line.amount, invoice.currency)}) to {invoice}.")
        return self._page(request, invoice, title=f"Add a line to {invoice}", form=form, submit_label="Add the line",
                          intro=f"A one-time line in {invoice.currency}; the totals are recomputed. Only a draft "
                                f"changes.")

    def line_remove_view(self, request: HttpRequest, object_id: str, line_id: int) -> HttpResponse:
        invoice = self._invoice(request, object_id)
        line = InvoiceLine.objects.filter(invoice=invoice, pk=line_id).first()
        if line is None:
            raise Http404("No such line on this invoice.")
        form = _confirm_form(request)
        if request.method == "POST" and form.is_valid():
            try:
                invoice = draft_invoice_line_remove(line=line, actor=request.user.email)
            except BillingError as error:
                form.add_error(None, error.message)
            else:
                return self._done(request, invoice, f"Removed \"{line.description}\" from {invoice}.")
        return self._page(request, invoice, title=f"Remove a line from {invoice}", form=form,
                          submit_label="Remove the line",
                          intro=f"\"{line.description}\", {_money(line.amount, invoice.currency)}. Only a draft "
                                f"changes; the totals are recomputed.")


@admin.register(CreditNote)
class CreditNoteAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["number", "tenant", "invoice", "amount_display", "reason", "refund_to", "created_by",
                    "created_at"]
    list_filter = ["reason", "refund_to", "currency"]
    search_fields = ["number", "invoice__number", "tenant__slug", "tenant__name"]
    list_select_related = ["tenant", "invoice"]
    date_hierarchy = "created_at"
    fields = ["number", "tenant", "invoice", "currency", "amount", "reason", "memo", "refund_to", "created_by",
              "created_at"]
    readonly_fields = fields

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, note: CreditNote) -> str:
        return _money(note.amount, note.currency)


# --- Account credit -------------------------------------------------------------------------------------------

class AccountCreditEntryInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = AccountCreditEntry
    fields = ENTRY_FIELDS
    readonly_fields = ENTRY_FIELDS
    ordering = ["-created_at", "-id"]
    extra = 0
    verbose_name_plural = f"ledger (latest {INLINE_ENTRIES})"


class AccountCreditAdjustForm(forms.Form):
    KINDS = [(AccountCreditEntry.Kind.PROMOTION, "Promotion (adds credit)"),
             (AccountCreditEntry.Kind.ADJUSTMENT, "Adjustment (adds, or takes back when negative)")]

    kind = forms.ChoiceField(choices=KINDS)
    amount = forms.DecimalField(max_value=MAX_AMOUNT, min_value=-MAX_AMOUNT, decimal_places=4,
                                help_text="In the currency's minor units. Credit never goes below zero.")
    description = forms.CharField(max_length=300, help_text="Written on the ledger entry, which the tenant sees.")
    # One entry per form shown: submitting it twice (a double click, a resent POST) writes once.
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def clean(self) -> dict:
        data = super().clean()
        amount, kind = data.get("amount"), data.get("kind")
        if amount is not None and amount == 0:
            self.add_error("amount", "An adjustment changes the balance: use an amount other than 0.")
        elif amount is not None and amount < 0 and kind == AccountCreditEntry.Kind.PROMOTION:
            self.add_error("amount", "A promotion adds credit; take credit back with an adjustment.")
        return data


class AccountCreditGrantForm(AccountCreditAdjustForm):
    tenant = forms.ModelChoiceField(queryset=Tenant.objects.customers().order_by("name"), to_field_name="slug")
    currency = forms.RegexField(regex=r"^[A-Z]{3}$", max_length=3, initial="USD", help_text="ISO 4217, e.g. USD.")
    field_order = ["tenant", "currency", "kind", "amount", "description"]


@admin.register(AccountCredit)
class AccountCreditAdmin(admin.ModelAdmin):
    list_display = ["tenant", "currency", "balance_display", "updated_at", "adjust_link"]
    list_filter = ["currency"]
    search_fields = ["tenant__slug", "tenant__name"]
    list_select_related = ["tenant"]
    ordering = ["tenant__name", "currency"]
    fields = ["tenant", "currency", "balance_display", "updated_at"]
    readonly_fields = fields
    inlines = [AccountCreditEntryInline]
    change_form_template = "billing/admin/accountcredit_change_form.html"
    change_list_template = "billing/admin/accountcredit_change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A balance opens with its first entry: the "Add credit" page.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AccountCredit | None = None) -> bool:
        # The ledger points at the balance: money history is never deleted.
        return False

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        # The balance only changes through ledger entries (the adjust page), never by a save.
        extra_context = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False,
                         "show_save_and_add_another": False, "show_delete": False}
        return super().change_view(request, object_id, form_url, extra_context)

    def get_formset_kwargs(self, request: HttpRequest, obj: AccountCredit, inline, prefix: str) -> dict:
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, AccountCreditEntryInline):
            latest = list(obj.entries.order_by("-created_at", "-id").values_list("pk", flat=True)[:INLINE_ENTRIES])
            kwargs["queryset"] = kwargs["queryset"].filter(pk__in=latest)
        return kwargs

    @admin.display(description="Balance", ordering="balance")
    def balance_display(self, account: AccountCredit) -> str:
        return _money(account.balance, account.currency)

    @admin.display(description="")
    def adjust_link(self, account: AccountCredit) -> str:
        return format_html('<a href="{}">Adjust</a>', reverse("admin:billing_accountcredit_adjust", args=[account.pk]))

    def get_urls(self) -> list[URLPattern]:
        return [
            path("grant/", self.admin_site.admin_view(self.grant_view), name="billing_accountcredit_grant"),
            path("<path:object_id>/adjust/", self.admin_site.admin_view(self.adjust_view),
                 name="billing_accountcredit_adjust"),
            *super().get_urls(),
        ]

    def adjust_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        account = self.get_object(request, unquote(object_id))
        if account is None:
            raise Http404("No such account credit.")
        if not self.has_change_permission(request, account):
            raise PermissionDenied
        form = AccountCreditAdjustForm(request.POST or None, initial={"key": uuid.uuid4().hex})
        if request.method == "POST" and form.is_valid():
            entry = self._add(request, form, tenant=account.tenant, currency=account.currency)
            if entry is not None:
                return self._added(request, entry)
        return self._page(request, form, original=account, title=f"Adjust the account credit of {account.tenant}",
                          intro=f"The balance is {_money(account.balance, account.currency)}. The change is written "
                                f"to the ledger with your email.")

    def grant_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_change_permission(request):
            raise PermissionDenied
        form = AccountCreditGrantForm(request.POST or None, initial={"key": uuid.uuid4().hex})
        if request.method == "POST" and form.is_valid():
            entry = self._add(request, form, tenant=form.cleaned_data["tenant"], currency=form.cleaned_data["currency"])
            if entry is not None:
                return self._added(request, entry)
        return self._page(request, form, original=None, title="Add account credit",
                          intro="Credit a tenant in a currency (its balance opens with this entry).")

    def _add(self, request: HttpRequest, form: AccountCreditAdjustForm, *, tenant: Tenant,
             currency: str) -> AccountCreditEntry | None:
        try:
            return account_credit_add(tenant=tenant, amount=Money(form.cleaned_data["amount"], currency),
                                      kind=form.cleaned_data["kind"], description=form.cleaned_data["description"],
                                      actor=request.user.email, now=timezone.now(),
                                      idempotency_key=f"admin:{form.cleaned_data['key']}")
        except BillingError as error:
            _form_error(form, error)
        except ValueError as error:
            # The amount is finer than the currency's minor units (or not a currency): say so on the field.
            form.add_error("amount", str(error))
        return None

    def _added(self, request: HttpRequest, entry: AccountCreditEntry) -> HttpResponseRedirect:
        self.message_user(request, f"{entry.tenant}: {_money(entry.amount, entry.account.currency)} "
                                   f"({entry.get_kind_display().lower()}); the balance is now "
                                   f"{_money(entry.balance_after, entry.account.currency)}.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:billing_accountcredit_change", args=[entry.account_id]))

    def _page(self, request: HttpRequest, form: forms.Form, *, original: AccountCredit | None, title: str,
              intro: str) -> TemplateResponse:
        return TemplateResponse(request, "billing/admin/object_form.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "original": original,
            "title": title, "intro": intro, "form": form, "submit_label": "Write the entry",
        }, status=400 if form.errors else 200)


@admin.register(AccountCreditEntry)
class AccountCreditEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every tenant's account-credit ledger, read-only."""

    list_display = ["created_at", "tenant", "kind", "amount", "balance_after", "description", "invoice",
                    "credit_note", "created_by"]
    list_filter = ["kind", "account__currency"]
    search_fields = ["tenant__slug", "tenant__name", "description", "invoice__number", "credit_note__number"]
    list_select_related = ["tenant", "invoice", "credit_note"]
    ordering = ["-created_at", "-id"]
    fields = ["account", "tenant", *ENTRY_FIELDS]
    readonly_fields = fields
    show_full_result_count = False


# --- Quotes and emails ----------------------------------------------------------------------------------------

class QuoteSendForm(forms.Form):
    amount = forms.DecimalField(min_value=Decimal("0.01"), max_value=MAX_AMOUNT, decimal_places=4)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False,
                           help_text="What the price covers; the tenant reads it with the quote.")
    valid_until = forms.DateTimeField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="UTC; empty: valid until the tenant answers.")

    def __init__(self, *args, quote: ServiceQuote, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        product = quote.product
        self.fields["amount"].help_text = (f"In {quote.currency}, between {_money(product.min_amount, quote.currency)} "
                                           f"and {_money(product.max_amount, quote.currency)}.")


@admin.register(ServiceQuote)
class ServiceQuoteAdmin(admin.ModelAdmin):
    """Requests and quotes, read-only: ops answer a request (or re-quote before the tenant answers) on the "send
    quote" page, through billing.quotes.services; the tenant accepts or declines on its billing page."""

    list_display = ["created_at", "tenant", "product", "status", "amount_display", "quoted_by", "valid_until",
                    "invoice", "send_link"]
    list_filter = ["status", "product"]
    search_fields = ["tenant__slug", "tenant__name", "product__name", "brief"]
    list_select_related = ["tenant", "product", "invoice"]
    ordering = ["-created_at"]
    fields = ["tenant", "product", "status", "brief", "requested_by", "created_at", "currency", "amount",
              "quote_note", "quoted_by", "quoted_at", "valid_until", "answered_at", "invoice"]
    readonly_fields = fields
    change_form_template = "billing/admin/servicequote_change_form.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Tenants request services with a brief; ops answer them.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ServiceQuote | None = None) -> bool:
        return False

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        # Every field is read-only: a quote is sent on its own page, never by a save.
        extra_context = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False,
                         "show_save_and_add_another": False, "show_delete": False}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, quote: ServiceQuote) -> str:
        return _money(quote.amount, quote.currency) if quote.amount is not None else "-"

    @admin.display(description="")
    def send_link(self, quote: ServiceQuote) -> str:
        if quote.status not in QUOTABLE:
            return ""
        label = "Send quote" if quote.status == ServiceQuote.Status.REQUESTED else "Re-quote"
        return format_html('<a href="{}">{}</a>', reverse("admin:billing_servicequote_send", args=[quote.pk]), label)

    def get_urls(self) -> list[URLPattern]:
        return [path("<path:object_id>/send/", self.admin_site.admin_view(self.send_view),
                     name="billing_servicequote_send"),
                *super().get_urls()]

    def send_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        quote = self.get_object(request, unquote(object_id))
        if quote is None:
            raise Http404("No such quote.")
        if not self.has_change_permission(request, quote):
            raise PermissionDenied
        form = QuoteSendForm(request.POST or None, quote=quote,
                             initial={"amount": quote.amount, "note": quote.quote_note,
                                      "valid_until": quote.valid_until})
        if request.method == "POST" and form.is_valid():
            try:
                quote = service_quote_send(quote=quote, amount=Money(form.cleaned_data["amount"], quote.currency),
                                           note=form.cleaned_data["note"], valid_until=form.cleaned_data["valid_until"],
                                           actor=request.user.email, now=timezone.now())
            except BillingError as error:
                _form_error(form, error)
            else:
                self.message_user(request, f"Quoted {_money(quote.amount, quote.currency)} to {quote.tenant} for "
                                           f"{quote.product}; they are told by email.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:billing_servicequote_change", args=[quote.pk]))
        return TemplateResponse(request, "billing/admin/object_form.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "original": quote,
            "title": f"Quote {quote.product} for {quote.tenant}", "form": form, "submit_label": "Send the quote",
            "intro": f"The brief, from {quote.requested_by}: {quote.brief}",
        }, status=400 if form.errors else 200)


@admin.register(BillingEmail)
class BillingEmailAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["sent_at", "tenant", "kind", "cause", "subject"]
    list_filter = ["kind"]
    search_fields = ["tenant__slug", "tenant__name", "cause", "subject"]
    list_select_related = ["tenant"]
    ordering = ["-sent_at"]
    fields = ["tenant", "kind", "cause", "subject", "recipients", "sent_at"]
    readonly_fields = fields
