"""Billing's models, one module per concern, re-exported here so the app label, table names and migrations stay
those of one app."""

from billing.models.analytics import (
    RevenueDay,
    RevenueMoneyDay,
    RevenuePlanDay,
    RevenueSnapshot,
    SubscriptionRevenueDay,
    TenantChurnRisk,
)
from billing.models.auto_recharge import AutoRecharge, AutoRechargeOrder
from billing.models.catalogue import Plan, PlanQuota, Price, Product, TenantPlan, UsageCharge
from billing.models.consolidation import ConsolidatedBilling
from billing.models.coupons import Coupon, CouponRedemption, PromotionCode
from billing.models.credit import AccountCredit, AccountCreditEntry
from billing.models.dunning import DunningCase
from billing.models.invoices import CreditNote, DocumentSequence, Invoice, InvoiceLine, PendingInvoiceItem
from billing.models.notifications import BillingEmail
from billing.models.payments import Payment, StripeSettlement
from billing.models.quotes import ServiceQuote
from billing.models.reconciliation import ReconciliationDisagreement, ReconciliationRun
from billing.models.refunds import CardRefund, Dispute
from billing.models.subscriptions import CURRENT_STATUSES, Subscription, SubscriptionEvent
from billing.models.tax import BillingProfile, TaxRate

__all__ = [
    "CURRENT_STATUSES", "AccountCredit", "AccountCreditEntry", "BillingEmail", "BillingProfile", "Coupon", "CouponRedemption",
    "CreditNote", "DocumentSequence", "Invoice", "InvoiceLine", "Payment", "PendingInvoiceItem", "Plan", "PlanQuota",
    "Price", "Product", "PromotionCode", "ServiceQuote", "StripeSettlement", "Subscription", "SubscriptionEvent",
    "TaxRate", "TenantPlan", "UsageCharge",
    "DunningCase",
    "CardRefund", "Dispute", "ReconciliationDisagreement", "ReconciliationRun",
    "AutoRecharge", "AutoRechargeOrder",
    "ConsolidatedBilling",
    "RevenueDay", "RevenueMoneyDay", "RevenuePlanDay", "RevenueSnapshot", "SubscriptionRevenueDay", "TenantChurnRisk",
]
