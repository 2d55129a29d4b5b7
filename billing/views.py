"""The Billing page on a tenant's host, the invoice pages behind it, and the token-pack orders the Wallet page
places (an order is sold on an invoice). Every staff member sees the plan and its limits; owners and billing
members (Action.VIEW_BILLING) see the rest (invoices, credit, the upcoming invoice, the plan comparison,
quotes, the card on file); they also change it (Action.MANAGE_BILLING), each change through a billing service,
its refusals (DomainError) shown as form errors or messages. With Stripe on they save a card and manage it in
Stripe's portal, and pay an open invoice on a hosted Checkout page; those pages' return URLs only show a message:
the webhooks settle. A token pack ordered or a quote accepted goes straight to that page once invoiced, and
comes back to the Wallet page or the Services section. Everything is read for `request.tenant` only: an
invoice is found by number among the tenant's own finalised invoices, never by a bare id."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import Action, staff_action_required, user_can
from billing.consolidation.selectors import consolidated_payer_name, invoice_payer_name
from billing.errors import BillingError
from billing.invoicing.credit import account_credit_balance
from billing.invoicing.documents import invoice_document
from billing.invoicing.drafting import plan_comparison, upcoming_invoice
from billing.invoicing.pdf import invoice_pdf
from billing.invoicing.rating import usage_daily
from billing.invoicing.selectors import credit_note_list, invoice_get, invoice_list
from billing.models import BillingProfile, Invoice, InvoiceLine, Price, Product, Subscription
from billing.payments.selectors import default_card_get
from billing.payments.self_service import (
    PAYABLE,
    card_portal_url_create,
    invoice_pay_now_url_create,
    purchase_checkout_url_create,
    subscription_card_collection_enable,
)
from billing.payments.services import card_setup_checkout_create
from billing.payments.stripe_api import stripe_enabled
from billing.quotes.selectors import product_list, service_quote_get, service_quote_list, service_quote_of_invoice
from billing.quotes.services import (
    BRIEF_MAX_CHARS,
    service_quote_accept,
    service_quote_decline,
    service_quote_request,
    service_quote_withdraw,
)
from billing.selectors import billing_profile_get, price_list_self_serve, tenant_plan
from billing.services import billing_profile_update
from billing.subscriptions.selectors import subscription_current
from billing.subscriptions.services import (
    promotion_code_redeem,
    subscription_cancel,
    subscription_change,
    subscription_change_preview,
    subscription_reactivate,
    subscription_start,
)
from billing.token_packs import token_pack_purchase, token_pack_purchase_cancel
from config.errors import DomainError
from config.money import Money, money_format, money_round
from metering.models import TokenPack, TokenPurchase
from metering.usage.selectors import usage_percent_whole, usage_summary
from metering.wallets.selectors import token_pack_list_active, token_purchase_get, token_purchase_of_invoice
from tenants.models import Tenant

INVOICES_SHOWN = 24
MAX_SEATS = 10_000
CARD_SECTION = "#billing-card"
# What the card pages' return URLs (?card=...) say; nothing is decided by them.
CARD_RETURN_MESSAGES = {
    "saved": (messages.INFO, "Thank you: your card is being saved. It shows here once Stripe confirms it, "
                             "usually within seconds."),
    "canceled": (messages.INFO, "No card was saved."),
}
SERVICES_SECTION = "#billing-services"
CHECKOUT_RESULTS = ("paid", "canceled")


# --- Forms ---------------------------------------------------------------------------------------------------

class PriceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, price: Price) -> str:
        return f"{price.plan.name}: {money_format(price.fixed_money)} {price.get_interval_display().lower()}"


class StartPriceChoiceField(PriceChoiceField):
    def label_from_instance(self, price: Price) -> str:
        trial = f" · {price.trial_days}-day trial" if price.trial_days else ""
        return super().label_from_instance(price) + trial


class SubscriptionStartForm(forms.Form):
    price = StartPriceChoiceField(queryset=Price.objects.none(), to_field_name="code", empty_label=None, label="Plan")
    quantity = forms.IntegerField(min_value=1, max_value=MAX_SEATS, initial=1, label="Seats")
    promotion_code = forms.CharField(max_length=40, required=False, label="Promotion code (optional)")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["price"].queryset = price_list_self_serve()


class SubscriptionChangeForm(forms.Form):
    price = PriceChoiceField(queryset=Price.objects.none(), to_field_name="code", empty_label=None, label="Plan")
    quantity = forms.IntegerField(min_value=1, max_value=MAX_SEATS, label="Seats")

    def __init__(self, *args, subscription: Subscription, **kwargs) -> None:
        kwargs.setdefault("initial", {"price": subscription.price.code, "quantity": subscription.quantity})
        super().__init__(*args, **kwargs)
        # A subscription changes within its currency (the service refuses another one).
        self.fields["price"].queryset = price_list_self_serve(currency=subscription.price.currency)


class PromotionCodeForm(forms.Form):
    promotion_code = forms.CharField(max_length=40, label="Promotion code")


class BillingProfileForm(forms.Form):
    legal_name = forms.CharField(max_length=200, required=False, label="Legal name")
    email = forms.EmailField(required=False, label="Invoice email",
                             help_text="Where invoices are sent; the owners when empty.")
    address_line1 = forms.CharField(max_length=200, required=False, label="Address")
    address_line2 = forms.CharField(max_length=200, required=False, label="Address (line 2)")
    city = forms.CharField(max_length=100, required=False)
    postal_code = forms.CharField(max_length=20, required=False, label="Postal code")
    region = forms.CharField(max_length=10, required=False, label="Region or state",
                             help_text="A code, e.g. CA for California; empty for the whole country.")
    country = forms.CharField(max_length=2, required=False, help_text="Two letters, e.g. DE, FR or US.")
    tax_id = forms.CharField(max_length=40, required=False, label="Tax ID",
                             help_text="An EU VAT number (e.g. DE136695976) is checked; with a valid one from "
                                       "another EU country than ours, invoices are reverse-charged.")


class QuoteRequestForm(forms.Form):
    product = forms.ModelChoiceField(queryset=Product.objects.none(), to_field_name="code", empty_label=None,
                                     label="Service")
    brief = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=BRIEF_MAX_CHARS,
                            help_text="What you need, for whom and by when: the quote is based on it.")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.filter(pk__in=[p.pk for p in product_list()])


class TokenPackOrderForm(forms.Form):
    pack = forms.ModelChoiceField(queryset=TokenPack.objects.none(), to_field_name="code", empty_label=None,
                                  error_messages={"required": "Choose a token pack.",
                                                  "invalid_choice": "This token pack is no longer offered."})

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pack"].queryset = token_pack_list_active()


# --- The Billing page ----------------------------------------------------------------------------------------

@staff_action_required(Action.USE_PRODUCT)
@require_GET
def billing_page(request: HttpRequest) -> HttpResponse:
    returned = CARD_RETURN_MESSAGES.get(request.GET.get("card", ""))
    if returned is not None and user_can(request.user, Action.MANAGE_BILLING):
        messages.add_message(request, *returned)
    return _billing_page_render(request)


def _billing_page_render(request: HttpRequest, *, status: int = 200, **forms_bound) -> HttpResponse:
    tenant, now = request.tenant, timezone.now()
    if any(form.errors for form in forms_bound.values()):
        # The form may be far down the page: say at the top that something needs correcting.
        messages.error(request, "Nothing was changed: correct the highlighted field below.")
    subscription = subscription_current(tenant=tenant)
    can_view = user_can(request.user, Action.VIEW_BILLING)
    can_manage = user_can(request.user, Action.MANAGE_BILLING)
    summary = usage_summary(tenant=tenant, now=now)
    context = {
        "active_section": "billing",
        "subscription": subscription,
        "plan": subscription.plan if subscription else tenant_plan(tenant),
        "usage_period": (summary.period_start, summary.period_end),
        "usage_rows": [
            {"meter": row.meter, "used": row.used, "quota": row.quota,
             "percent": usage_percent_whole(row.percent_used) if row.quota else None}
            for row in summary.meters],
        "can_view": can_view,
        "can_manage": can_manage,
    }
    if can_view:
        context |= _billing_details(request, subscription=subscription, now=now)
    if can_manage:
        context |= {
            "start_form": forms_bound.get("start_form") or SubscriptionStartForm(),
            "change_form": forms_bound.get("change_form") or (
                SubscriptionChangeForm(subscription=subscription) if subscription else None),
            "promotion_form": forms_bound.get("promotion_form") or PromotionCodeForm(),
            "profile_form": forms_bound.get("profile_form") or BillingProfileForm(
                initial=_profile_initial(context.get("profile"))),
            "quote_form": forms_bound.get("quote_form") or QuoteRequestForm(),
        }
    return render(request, "billing/billing.html", context, status=status)


def _billing_details(request: HttpRequest, *, subscription: Subscription | None, now: datetime) -> dict:
    tenant = request.tenant
    currency = subscription.price.currency if subscription else "USD"
    details = {
        "invoices": [
            # Periods are half-open: the last day shown is the one before the end, as on the invoice itself.
            (invoice, Money(invoice.total, invoice.currency), Money(invoice.amount_due, invoice.currency),
             invoice.period_end - timedelta(microseconds=1) if invoice.period_end else None)
            for invoice in invoice_list(tenant=tenant).select_related("consolidated_billing__payer")[:INVOICES_SHOWN]],
        "invoices_shown": INVOICES_SHOWN,
        "credit_notes": [(note, Money(note.amount, note.currency)) for note in credit_note_list(tenant=tenant)],
        "credit_balance": account_credit_balance(tenant=tenant, currency=currency),
        "profile": billing_profile_get(tenant=tenant),
        "quotes": [(quote, Money(quote.amount, quote.currency) if quote.amount is not None else None)
                   for quote in service_quote_list(tenant=tenant)],
        "products": product_list(),
        "billed_through": consolidated_payer_name(client=tenant),
        "payments": _payment_method_details(tenant, subscription=subscription),
        "upcoming": None,
        "comparison": None,
    }
    # Rating reads metering: a meter ops removed must not take the whole page down with it.
    try:
        draft = upcoming_invoice(tenant=tenant, now=now)
        details["upcoming"] = draft and {
            "draft": draft, "total": money_round(draft.total),
            "lines": [(line, Money(line.amount, draft.currency)) for line in draft.lines]}
        comparison = details["comparison"] = plan_comparison(tenant=tenant, now=now)
        if comparison.last_period:
            details["comparison_last_day"] = comparison.last_period[1] - timedelta(microseconds=1)
    except BillingError as error:
        details["estimate_error"] = error.message
    return details


def _payment_method_details(tenant: Tenant, *, subscription: Subscription | None) -> dict:
    """The card section: with Stripe, the card on file and whether renewals are charged to it; without, the
    payment instructions printed on the invoices."""
    if not stripe_enabled():
        return {"stripe": False, "instructions": settings.BILLING_ISSUER.get("payment_instructions", "")}
    by_card = subscription is not None and subscription.collection_method == Subscription.CollectionMethod.STRIPE
    return {"stripe": True, "card": default_card_get(tenant=tenant), "by_card": by_card}


def _profile_initial(profile: BillingProfile | None) -> dict:
    if profile is None:
        return {}
    return {name: getattr(profile, name) for name in BillingProfileForm.base_fields}


def _actor(request: HttpRequest) -> str:
    return request.user.email


def _current_or_message(request: HttpRequest) -> Subscription | None:
    subscription = subscription_current(tenant=request.tenant)
    if subscription is None:
        messages.error(request, "There is no subscription to change: choose a plan first.")
    return subscription


# --- Subscription --------------------------------------------------------------------------------------------

@staff_action_required(Action.MANAGE_BILLING)
@require_POST
def subscription_start_submit(request: HttpRequest) -> HttpResponse:
    form = SubscriptionStartForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            subscription = subscription_start(
                tenant=request.tenant, price=data["price"], quantity=data["quantity"], actor=_actor(request),
                now=timezone.now(), promotion_code=data["promotion_code"].strip() or None)
        except BillingError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            if subscription.status == Subscription.Status.TRIALING:
                messages.success(request, f"Your {subscription.plan.name} trial runs until "
                                          f"{subscription.trial_end:%-d %b %Y}.")
            else:
                messages.success(request, f"You are on {subscription.plan.name}. Its first invoice is below.")
            return redirect("section_billing")
    return _billing_page_render(request, start_form=form, status=400)


@staff_action_required(Action.MANAGE_BILLING)
@require_http_methods(["GET", "POST"])
def subscription_change_confirm(request: HttpRequest) -> HttpResponse:
    """GET shows what the change would do (kind, when, the prorations and what must change first); POST makes it.
    The preview is recomputed at POST time by the service: what was shown is not trusted."""
    subscription = _current_or_message(request)
    if subscription is None:
        return redirect("section_billing")
    data = request.POST if request.method == "POST" else request.GET
    form = SubscriptionChangeForm(data, subscription=subscription)
    if not form.is_valid():
        return _billing_page_render(request, change_form=form, status=400)
    price, quantity, now = form.cleaned_data["price"], form.cleaned_data["quantity"], timezone.now()
    try:
        if request.method == "GET":
            preview = subscription_change_preview(subscription=subscription, price=price, quantity=quantity, now=now)
        else:
            subscription_change(subscription=subscription, price=price, quantity=quantity,
                                actor=_actor(request), now=now)
    except BillingError as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return _billing_page_render(request, change_form=form, status=400)
    if request.method == "POST":
        messages.success(request, "Your subscription was changed.")
        return redirect("section_billing")
    rounded = [(line, money_round(Money(line.amount, preview.currency))) for line in preview.lines]
    total = Money(sum((amount.amount for _, amount in rounded), Decimal(0)), preview.currency)
    return render(request, "billing/change_preview.html", {
        "active_section": "billing", "subscription": subscription, "preview": preview, "lines": rounded,
        "total": total, "form": form,
    })


@staff_action_required(Action.MANAGE_BILLING)
@require_POST
def subscription_cancel_submit(request: HttpRequest) -> HttpResponse:
    subscription = _current_or_message(request)
    if subscription is None:
        return redirect("section_billing")
    # Now only for a paused subscription, which cannot wait for a period end; otherwise at the period's end.
    at_period_end = request.POST.get("when") != "now"
    try:
        subscription_cancel(subscription=subscription, actor=_actor(request), now=timezone.now(),
                            at_period_end=at_period_end)
    except BillingError as error:
        messages.error(request, error.message)
    else:
        if at_period_end:
            messages.success(request, f"Your subscription ends on {subscription.current_period_end:%-d %b %Y}. "
                                      "You can reactivate it until then.")
        else:
            messages.success(request, "Your subscription has ended.")
    return redirect("section_billing")


@staff_action_required(Action.MANAGE_BILLING)
@require_POST
def subscription_reactivate_submit(request: HttpRequest) -> HttpResponse:
    subscription = _current_or_message(request)
    if subscription is None:
        return redirect("section_billing")
    try:
        subscription_reactivate(subscription=subscription, actor=_actor(request), now=timezone.now())
    except BillingError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Your subscription continues: it renews at the end of its period.")
    return redirect("section_billing")


@staff_action_required(Action.MANAGE_BILLING)
@require_POST
def promotion_code_submit(request: HttpRequest) -> HttpResponse:
    subscription = _current_or_message(request)
    if subscription is None:
        return redirect("section_billing")
    form = PromotionCodeForm(request.POST)
    if form.is_valid():
        try:
            redemption = promotion_code_redeem(subscription=subscription, code=form.cleaned_data["promotion_code"],
                                               actor=_actor(request), now=timezone.now())
        except BillingError as error:
            form.add_error("promotion_code", error.message)
        else:
            messages.success(request, f"{redemption.coupon.name} applies to your next invoices.")
            return redirect("section_billing")
    return _billing_page_render(request, promotion_form=form, status=400)


@staff_action_required(Action.MANAGE_BILLING)
@require_POST
def billing_profile_submit(request: HttpRequest) -> HttpResponse:
    form = BillingProfileForm(request.POST)
    if form.is_valid():
        try:
            billing_profile_update(tenant=request.tenant, **form.cleaned_data)
        except BillingError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, "Billing details saved. Your next invoices use them.")
            return redirect("section_billing")
    return _billing_page_render(request, profile_form=form, status=400)


# --- Payment method (Stripe) ---------------------------------------------------------------------------------

def _card_section_redirect() -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("section_billing") + CARD_SECTION)


def _billing_url(request: HttpRequest, query: str = "") -> str:
    # Back to the host the tenant came from (its custom domain too), at the card section.
    return request.build_absolute_uri(reverse("section_billing")) + query + CARD_SECTION


def _see_other(url: str) -> HttpResponse:
    # After a POST, the browser follows with a GET (Stripe's hosted pages are GETs).
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


@staff_action_required(Action.MANAGE_BILLING)
@require_POST
def card_add_submit(request: HttpRequest) -> HttpResponse:
    """To Stripe's Checkout page in setup mode; the card is saved by its webhook, whatever the return URL says."""
    if not stripe_enabled():
        messages.error(request, "Invoices are paid by transfer here: there is no card to add.")
        return _card_section_redirect()
    try:
        session = card_setup_checkout_create(tenant=request.tenant, success_url=_billing_url(request, "?card=saved"),
                                             cancel_url=_billing_url(request, "?card=canceled"))
    except BillingError as error:
        messages.error(request, error.message)
        return _card_section_redirect()
    return _see_other(session.url)


@staff_action_required(Action.MANAGE_BILLING)
@require_http_methods(["GET", "POST"])
def card_portal_open(request: HttpRequest) -> HttpResponse:
    """A fresh Stripe customer-portal session, then there. A stable link emails can carry (a portal URL expires
    within minutes); a GET may open it because it changes nothing of ours (a tenant without a Stripe customer is
    sent to the card section instead of getting one made)."""
    if not stripe_enabled():
        messages.error(request, "Invoices are paid by transfer here: there is no card to manage.")
        return _card_section_redirect()
    try:
        url = card_portal_url_create(tenant=request.tenant, return_url=_billing_url(request))
    except BillingError as error:
        messages.error(request, error.message)
        return _card_section_redirect()
    if url is None:
        messages.info(request, "There is no card to manage yet: add one.")
        return _card_section_redirect()
    return _see_other(url)


@staff_action_required(Action.MANAGE_BILLING)
@require_POST
def card_collection_submit(request: HttpRequest) -> HttpResponse:
    """Charge the subscription's renewals to the card on file (saving a card does it too)."""
    subscription = subscription_card_collection_enable(tenant=request.tenant, actor=_actor(request),
                                                       now=timezone.now()) if stripe_enabled() else None
    if subscription is None:
        messages.error(request, "Nothing was changed: renewals can be charged to a card once one is saved and "
                                "there is a subscription.")
    else:
        messages.success(request, "Your next invoices are charged to your card.")
    return _card_section_redirect()


# --- Productized services ------------------------------------------------------------------------------------

@staff_action_required(Action.MANAGE_BILLING)
@require_POST
def quote_request_submit(request: HttpRequest) -> HttpResponse:
    form = QuoteRequestForm(request.POST)
    if form.is_valid():
        try:
            quote = service_quote_request(tenant=request.tenant, product=form.cleaned_data["product"],
                                          brief=form.cleaned_data["brief"], actor=_actor(request),
                                          now=timezone.now())
        except BillingError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, f"Request for {quote.product.name} sent: we answer with a quote.")
            return redirect("section_billing")
    return _billing_page_render(request, quote_form=form, status=400)


QUOTE_ANSWERS = {
    "accept": (service_quote_accept, None),  # paid in Checkout with Stripe on; otherwise _quote_accepted_message
    "decline": (service_quote_decline, "Quote declined."),
    "withdraw": (service_quote_withdraw, "Request withdrawn."),
}


@staff_action_required(Action.MANAGE_BILLING)
@require_POST
def quote_answer_submit(request: HttpRequest, quote_id: int, answer: str) -> HttpResponse:
    quote = service_quote_get(tenant=request.tenant, quote_id=quote_id)
    if quote is None or answer not in QUOTE_ANSWERS:
        raise Http404("No such quote.")
    service, done = QUOTE_ANSWERS[answer]
    try:
        quote = service(quote=quote, actor=_actor(request), now=timezone.now())
    except BillingError as error:
        messages.error(request, error.message)
        return redirect("section_billing")
    if answer == "accept":
        checkout = _purchase_checkout(request, invoice=quote.invoice, ordered=f"Quote accepted and invoiced on "
                                                                            f"{quote.invoice.number}")
        if checkout is not None:
            return checkout
        done = _quote_accepted_message(quote.invoice)
    messages.success(request, done)
    return redirect("section_billing")


def _quote_accepted_message(invoice: Invoice) -> str:
    if invoice.status == Invoice.Status.PAID:
        return f"Quote accepted: invoice {invoice.number} is below, paid from your account credit."
    return (f"Quote accepted: invoice {invoice.number} is below. Pay it by transfer as the Payment method section "
            "says, quoting the invoice number.")


# --- Invoices ------------------------------------------------------------------------------------------------

def _invoice_or_404(request: HttpRequest, number: str) -> Invoice:
    invoice = invoice_get(tenant=request.tenant, number=number)
    if invoice is None:
        raise Http404("No such invoice.")
    return invoice


@staff_action_required(Action.VIEW_BILLING)
@require_GET
def invoice_page(request: HttpRequest, number: str) -> HttpResponse:
    invoice = _invoice_or_404(request, number)
    usage_line_ids = {line.pk for line in invoice.lines.all()
                      if line.kind == InvoiceLine.Kind.USAGE and line.usage_charge_id and line.period_start}
    document = invoice_document(invoice=invoice)
    lines = [(line, document_line, line.pk in usage_line_ids)
             for line, document_line in zip(invoice.lines.all(), document.lines, strict=True)]
    billed_through = invoice_payer_name(invoice)
    can_pay_now = (stripe_enabled() and invoice.status in PAYABLE and invoice.amount_due > 0
                   and billed_through is None and user_can(request.user, Action.MANAGE_BILLING))
    return render(request, "billing/invoice.html", {
        "invoice": invoice, "document": document, "lines": lines, "can_pay_now": can_pay_now,
        "billed_through": billed_through,
        # Back from the hosted page: the webhook marks the invoice paid; until then, say it is on its way.
        "payment_returned": request.GET.get("paid") == "1" and invoice.status in PAYABLE,
    })


@staff_action_required(Action.MANAGE_BILLING)
@require_POST
def invoice_pay_now(request: HttpRequest, number: str) -> HttpResponse:
    """To a hosted Checkout page for the invoice's amount due. Paid there, the invoice is settled by Stripe's
    webhook, never by the return to ?paid=1."""
    invoice = _invoice_or_404(request, number)
    try:
        url = invoice_pay_now_url_create(invoice=invoice, now=timezone.now())
    except BillingError as error:
        messages.error(request, error.message)
        return redirect("billing_invoice", number=invoice.number)
    return _see_other(url)


@staff_action_required(Action.VIEW_BILLING)
@require_GET
def invoice_pdf_download(request: HttpRequest, number: str) -> HttpResponse:
    invoice = _invoice_or_404(request, number)
    response = HttpResponse(invoice_pdf(invoice=invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{invoice.number}.pdf"'
    return response


@staff_action_required(Action.VIEW_BILLING)
@require_GET
def invoice_line_usage(request: HttpRequest, number: str, line_id: int) -> HttpResponse:
    """The usage behind a usage line, day by day (UTC): the figures the line's quantity adds up from."""
    invoice = _invoice_or_404(request, number)
    line = next((line for line in invoice.lines.all() if line.pk == line_id), None)
    if line is None or line.kind != InvoiceLine.Kind.USAGE or line.usage_charge is None or line.period_start is None:
        raise Http404("No usage behind this line.")
    charge = line.usage_charge
    days = usage_daily(tenant=request.tenant, charge=charge, start=line.period_start, end=line.period_end)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{invoice.number}-line-{line.pk}-usage.csv"'
        writer = csv.writer(response)
        writer.writerow(["date", charge.unit_name])
        writer.writerows((day.isoformat(), format(value.normalize(), "f")) for day, value in days)
        return response
    return render(request, "billing/invoice_line_usage.html", {
        "active_section": "billing", "invoice": invoice, "line": line, "charge": charge, "days": days,
        "total": sum((value for _, value in days), Decimal(0)),
    })


# --- Token packs (ordered and cancelled from the Wallet page, which shows them) -------------------------------

@staff_action_required(Action.MANAGE_BILLING)
@require_POST
def token_pack_order_submit(request: HttpRequest) -> HttpResponse:
    form = TokenPackOrderForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Nothing was ordered: {form.errors['pack'][0]}")
        return redirect("section_wallet")
    try:
        order = token_pack_purchase(tenant=request.tenant, pack=form.cleaned_data["pack"], actor=_actor(request),
                                    now=timezone.now())
    except DomainError as error:
        messages.error(request, f"Nothing was ordered: {error.message}")
        return redirect("section_wallet")
    purchase, invoice = order.purchase, order.invoice
    if invoice.status == Invoice.Status.PAID:
        messages.success(request, f"{purchase.tokens:,} tokens added: invoice {invoice.number} was paid from your "
                                  "account credit.")
        return redirect("section_wallet")
    checkout = _purchase_checkout(request, invoice=invoice, ordered=f"{purchase.pack.name} ordered on invoice "
                                                                    f"{invoice.number}")
    if checkout is not None:
        return checkout
    messages.success(request, f"{purchase.pack.name} ordered on invoice {invoice.number}: the tokens are added as "
                              "soon as it is paid. How to pay is below.")
    return redirect("section_wallet")


def _purchase_checkout(request: HttpRequest, *, invoice: Invoice, ordered: str) -> HttpResponse | None:
    """With Stripe, to the hosted Checkout page where the purchase just invoiced is paid by card; its webhook
    settles the invoice (and credits the tokens), never the return. None when it is paid otherwise (without
    Stripe, or already paid); when the page cannot be opened, says so and sends the buyer back (the purchase
    stays invoiced, payable from its invoice)."""
    try:
        url = purchase_checkout_url_create(invoice=invoice, now=timezone.now())
    except DomainError as error:
        messages.warning(request, f"{ordered}, but the card payment page could not be opened: {error.message} "
                                  f"Pay it from invoice {invoice.number} with Pay now.")
        return redirect("billing_invoice", number=invoice.number)
    return None if url is None else _see_other(url)


@staff_action_required(Action.VIEW_BILLING)
@require_GET
def invoice_checkout_return(request: HttpRequest, number: str, result: str) -> HttpResponse:
    """Back from the hosted Checkout page of a one-time purchase (`result`: paid or canceled): a message on the
    page that shows what it bought. Nothing is paid or credited here, whatever the URL says: Stripe's webhook
    settles the invoice, and paying it credits the tokens (billing.token_packs)."""
    invoice = _invoice_or_404(request, number)
    if result not in CHECKOUT_RESULTS:
        raise Http404("No such result.")
    paid = result == "paid"
    purchase = token_purchase_of_invoice(tenant=request.tenant, invoice_id=invoice.pk)
    if purchase is not None:
        messages.info(request, _token_pack_return_message(purchase, invoice=invoice, paid=paid))
        return redirect("section_wallet")
    quote = service_quote_of_invoice(tenant=request.tenant, invoice_id=invoice.pk)
    if quote is not None:
        messages.info(request, _quote_return_message(invoice, paid=paid))
        return HttpResponseRedirect(reverse("section_billing") + SERVICES_SECTION)
    return HttpResponseRedirect(reverse("billing_invoice", args=[invoice.number]) + ("?paid=1" if paid else ""))


def _token_pack_return_message(purchase: TokenPurchase, *, invoice: Invoice, paid: bool) -> str:
    if purchase.status == TokenPurchase.Status.PAID:
        return f"Payment received: {purchase.tokens:,} tokens were added to your balance."
    if purchase.status != TokenPurchase.Status.PENDING:
        return f"Order #{purchase.pk} was cancelled: nothing is due for it."
    if paid:
        return (f"Payment received: tokens are being credited. The {purchase.tokens:,} tokens show in your balance "
                "as soon as Stripe confirms the payment, usually within seconds.")
    return (f"No payment was made: order #{purchase.pk} awaits payment on invoice {invoice.number}. Pay it by card "
            "below, or cancel the order.")


def _quote_return_message(invoice: Invoice, *, paid: bool) -> str:
    if invoice.status == Invoice.Status.PAID:
        return f"Payment received: invoice {invoice.number} is paid."
    if paid:
        return (f"Payment received: invoice {invoice.number} shows as paid as soon as Stripe confirms the payment, "
                "usually within seconds.")
    return f"No payment was made: invoice {invoice.number} awaits payment. Pay it by card from the invoice."


@staff_action_required(Action.MANAGE_BILLING)
@require_POST
def token_pack_cancel_submit(request: HttpRequest, purchase_id: int) -> HttpResponse:
    purchase = token_purchase_get(tenant=request.tenant, purchase_id=purchase_id)
    if purchase is None:
        raise Http404("No such order.")
    try:
        token_pack_purchase_cancel(purchase=purchase, actor=_actor(request), now=timezone.now())
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"The order of {purchase.pack.name} was cancelled"
                                  + (" and its invoice voided." if purchase.invoice_id else "."))
    return redirect("section_wallet")
