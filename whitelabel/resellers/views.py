"""Reseller billing pages. On an agency's host: Price list (its prices beside Tollgate's list and wholesale
prices, and its invoicing details) and Client invoices (its invoices to its clients, their margin, marking them
paid or void). On a client's host: Billing → Invoices from <agency>, the agency's invoices to it. Each invoice
page and PDF is dressed in the agency's brand."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import Action, staff_action_required
from config.errors import DomainError
from tenants.models import Tenant
from whitelabel.models import ResellerInvoice
from whitelabel.resellers.documents import reseller_invoice_document
from whitelabel.resellers.forms import InvoicingDetailsForm, PriceListForm
from whitelabel.resellers.pdf import reseller_invoice_pdf
from whitelabel.resellers.selectors import (
    number_prefix_default,
    reseller_display_name,
    reseller_invoice_get_for_agency,
    reseller_invoice_get_for_client,
    reseller_invoice_list_for_agency,
    reseller_invoice_list_for_client,
    reseller_margin,
    reseller_may_price,
    reseller_mode_is,
    reseller_price_list,
    reseller_settings_get,
)
from whitelabel.resellers.services import (
    reseller_invoice_mark_paid,
    reseller_invoice_void,
    reseller_price_check,
    reseller_prices_set,
    reseller_settings_save,
)

SHOWN = 100


def _agency(request: HttpRequest) -> Tenant:
    if request.tenant.type != Tenant.Type.AGENCY:
        raise Http404("Reseller billing is for agencies.")
    return request.tenant


# --- The agency's host ----------------------------------------------------------------------------------------

@staff_action_required(Action.MANAGE_BILLING)
@require_http_methods(["GET", "POST"])
def price_list_page(request: HttpRequest) -> HttpResponse:
    """GET: each plan's list, wholesale and own price with the margin, and the invoicing details; POST `prices`
    or `details` saves one of the two forms."""
    agency = _agency(request)
    rows = reseller_price_list(agency=agency)
    submitted = request.POST.get("form") if request.method == "POST" else None
    prices = PriceListForm(request.POST if submitted == "prices" else None, rows=rows)
    details = InvoicingDetailsForm(request.POST if submitted == "details" else None,
                                   initial=InvoicingDetailsForm.initial_for(reseller_settings_get(agency=agency),
                                                                            prefix=number_prefix_default(agency=agency)))
    may_price, reselling = reseller_may_price(agency=agency), reseller_mode_is(agency=agency)
    if submitted == "prices" and may_price and prices.is_valid() and _prices_save(request, agency, prices):
        messages.success(request, "Your prices were saved. Your clients' next invoices use them.")
        return redirect("reseller_prices")
    if submitted == "details" and reselling and details.is_valid() and _details_save(request, agency, details):
        messages.success(request, "Your invoicing details were saved for the invoices you issue from now on.")
        return redirect("reseller_prices")
    failed = (submitted == "prices" and prices.errors) or (submitted == "details" and details.errors)
    return render(request, "whitelabel/resellers/prices.html", {
        "active_section": "clients", "price_rows": [(row, prices[row.key]) for row in rows],
        "prices_form": prices, "details_form": details,
        "may_price": may_price, "reselling": reselling,
    }, status=400 if failed else 200)


def _prices_save(request: HttpRequest, agency: Tenant, form: PriceListForm) -> bool:
    """Every changed row checked first (each refusal under its own field), then all saved together."""
    entries = form.entries()
    for entry in entries:
        if entry["amount"] is None:
            continue
        try:
            reseller_price_check(agency=agency, plan_code=entry["plan"], interval=entry["interval"],
                                 currency=entry["currency"], amount=entry["amount"])
        except DomainError as error:
            form.add_error(entry["key"], error.message)
    if form.errors:
        return False
    try:
        reseller_prices_set(agency=agency, entries=entries, now=timezone.now())
    except DomainError as error:
        form.add_error(None, error.message)
        return False
    return True


def _details_save(request: HttpRequest, agency: Tenant, form: InvoicingDetailsForm) -> bool:
    try:
        reseller_settings_save(agency=agency, data=form.cleaned_data, now=timezone.now())
    except DomainError as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return False
    return True


@staff_action_required(Action.VIEW_BILLING)
@require_GET
def agency_invoices_page(request: HttpRequest) -> HttpResponse:
    agency = _agency(request)
    return render(request, "whitelabel/resellers/agency_invoices.html", {
        "active_section": "clients", "invoices": reseller_invoice_list_for_agency(agency=agency)[:SHOWN],
        "margin": reseller_margin(agency=agency), "reselling": reseller_mode_is(agency=agency),
    })


@staff_action_required(Action.VIEW_BILLING)
@require_GET
def agency_invoice_page(request: HttpRequest, number: str) -> HttpResponse:
    invoice = _agency_invoice_or_404(request, number)
    return _invoice_render(request, invoice, back_url="reseller_agency_invoices", pdf_url="reseller_agency_invoice_pdf",
                           agency_view=True)


@staff_action_required(Action.VIEW_BILLING)
@require_GET
def agency_invoice_pdf(request: HttpRequest, number: str) -> HttpResponse:
    return _pdf_response(_agency_invoice_or_404(request, number))


@staff_action_required(Action.MANAGE_BILLING)
@require_POST
def agency_invoice_status_submit(request: HttpRequest, number: str, change: str) -> HttpResponse:
    """Mark paid (the client paid the agency, outside Tollgate) or void."""
    invoice = _agency_invoice_or_404(request, number)
    act = {"paid": reseller_invoice_mark_paid, "void": reseller_invoice_void}.get(change)
    if act is None:
        raise Http404("No such change.")
    try:
        act(agency=request.tenant, number=invoice.number, actor=request.user.email, now=timezone.now())
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Invoice {invoice.number} is now {'paid' if change == 'paid' else 'void'}.")
    return redirect("reseller_agency_invoice", number=invoice.number)


def _agency_invoice_or_404(request: HttpRequest, number: str) -> ResellerInvoice:
    invoice = reseller_invoice_get_for_agency(agency=_agency(request), number=number)
    if invoice is None:
        raise Http404("No such invoice.")
    return invoice


# --- The client's host ----------------------------------------------------------------------------------------

@staff_action_required(Action.VIEW_BILLING)
@require_GET
def client_invoices_page(request: HttpRequest) -> HttpResponse:
    """The invoices the client's agency sent it (it bills the client itself: Tollgate sends the client none)."""
    invoices = list(reseller_invoice_list_for_client(client=request.tenant)[:SHOWN])
    if not invoices and request.tenant.parent_agency_id is None:
        raise Http404("This workspace has no agency.")
    agency_name = reseller_display_name(agency=invoices[0].agency if invoices else request.tenant.parent_agency)
    return render(request, "whitelabel/resellers/client_invoices.html", {
        "active_section": "billing", "invoices": invoices, "agency_name": agency_name,
    })


@staff_action_required(Action.VIEW_BILLING)
@require_GET
def client_invoice_page(request: HttpRequest, number: str) -> HttpResponse:
    return _invoice_render(request, _client_invoice_or_404(request, number), back_url="reseller_client_invoices",
                           pdf_url="reseller_client_invoice_pdf", agency_view=False)


@staff_action_required(Action.VIEW_BILLING)
@require_GET
def client_invoice_pdf(request: HttpRequest, number: str) -> HttpResponse:
    return _pdf_response(_client_invoice_or_404(request, number))


def _client_invoice_or_404(request: HttpRequest, number: str) -> ResellerInvoice:
    invoice = reseller_invoice_get_for_client(client=request.tenant, number=number)
    if invoice is None:
        raise Http404("No such invoice.")
    return invoice


# --- Both ------------------------------------------------------------------------------------------------------

def _invoice_render(request: HttpRequest, invoice: ResellerInvoice, *, back_url: str, pdf_url: str,
                    agency_view: bool) -> HttpResponse:
    return render(request, "whitelabel/resellers/invoice.html", {
        "invoice": invoice, "document": reseller_invoice_document(invoice=invoice), "back_url": back_url,
        "pdf_url": pdf_url, "agency_view": agency_view,
    })


def _pdf_response(invoice: ResellerInvoice) -> HttpResponse:
    response = HttpResponse(reseller_invoice_pdf(invoice=invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{invoice.number}.pdf"'
    return response
