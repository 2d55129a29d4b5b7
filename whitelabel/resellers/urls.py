"""Reseller billing pages on tenant hosts (included by config/urls_tenant.py): the agency's price list and
invoices, and a client's invoices from its agency."""

from django.urls import path

from whitelabel.resellers import views

urlpatterns = [
    path("agency/prices/", views.price_list_page, name="reseller_prices"),
    path("agency/invoices/", views.agency_invoices_page, name="reseller_agency_invoices"),
    path("agency/invoices/<str:number>.pdf", views.agency_invoice_pdf, name="reseller_agency_invoice_pdf"),
    path("agency/invoices/<str:number>/", views.agency_invoice_page, name="reseller_agency_invoice"),
    path("agency/invoices/<str:number>/<str:change>/", views.agency_invoice_status_submit,
         name="reseller_agency_invoice_status"),
    path("billing/reseller-invoices/", views.client_invoices_page, name="reseller_client_invoices"),
    path("billing/reseller-invoices/<str:number>.pdf", views.client_invoice_pdf, name="reseller_client_invoice_pdf"),
    path("billing/reseller-invoices/<str:number>/", views.client_invoice_page, name="reseller_client_invoice"),
]
