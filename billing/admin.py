"""Billing's ops admin (public host only). Each part registers its own models in its own module; Django's admin
autodiscovery imports only `billing.admin`, so this module imports them:

- billing.catalogue_admin: plans, prices and usage charges, products, tax rates, coupons, promotion codes,
  billing profiles and plan assignments;
- billing.subscriptions.admin: subscriptions with their history and the lifecycle actions;
- billing.invoicing.admin: invoices, credit notes, account credit, quotes and the emails sent;
- billing.analytics.admin: the revenue dashboard;
- billing.payments.admin: dunning cases (retry now, close) and payment attempts;
- billing.payments.reconciliation_admin: reconciliation runs and the disagreements they left (mark resolved);
- billing.consolidation.admin: reseller mode's arrangements, read only.

Every change to money or to a subscription goes through the billing services; their refusals are shown as
admin messages or form errors."""

from billing import catalogue_admin  # noqa: F401
from billing.analytics import admin as analytics_admin  # noqa: F401
from billing.consolidation import admin as consolidation_admin  # noqa: F401
from billing.invoicing import admin as invoicing_admin  # noqa: F401
from billing.payments import admin as payments_admin  # noqa: F401
from billing.payments import reconciliation_admin  # noqa: F401
from billing.subscriptions import admin as subscriptions_admin  # noqa: F401
