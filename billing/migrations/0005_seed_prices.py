"""The prices the products ask for, their usage charges and the productized services. Ops edit them in admin
(a price in use is replaced by a new one, never changed)."""

from decimal import Decimal

from django.db import migrations

D = Decimal
API_CALLS_OVERAGE = {"amount": "0.05", "package_size": "1000", "free_units": "0"}
COMPUTE_PER_HOUR = {"unit_amount": "0.12"}
# (plan, price code, currency, interval, fixed amount, per-seat amount, included seats, trial days)
PRICES = [
    ("free", "free-month-usd", "USD", "month", D("0"), D("0"), 2, 0),
    ("starter", "starter-month-usd", "USD", "month", D("19.00"), D("0"), 3, 14),
    ("starter", "starter-year-usd", "USD", "year", D("199.00"), D("0"), 3, 14),
    ("starter", "starter-month-eur", "EUR", "month", D("18.00"), D("0"), 3, 14),
    ("pro", "pro-month-usd", "USD", "month", D("99.00"), D("12.00"), 5, 14),
    ("pro", "pro-year-usd", "USD", "year", D("999.00"), D("120.00"), 5, 14),
    ("pro", "pro-month-eur", "EUR", "month", D("92.00"), D("11.00"), 5, 14),
    ("business", "business-month-usd", "USD", "month", D("299.99"), D("10.00"), 10, 14),
    ("business", "business-quarter-usd", "USD", "quarter", D("849.99"), D("28.50"), 10, 14),
    ("business", "business-year-usd", "USD", "year", D("2999.99"), D("100.00"), 10, 14),
    ("agency", "agency-month-usd", "USD", "month", D("199.00"), D("12.00"), 5, 0),
    ("agency", "agency-year-usd", "USD", "year", D("1990.00"), D("120.00"), 5, 0),
    ("white-label", "white-label-month-usd", "USD", "month", D("499.00"), D("10.00"), 10, 0),
    ("white-label", "white-label-year-usd", "USD", "year", D("4990.00"), D("100.00"), 10, 0),
]
# Plan code -> API calls included before the overage charge (the plan's monthly quota, per month of the period).
API_CALLS_INCLUDED = {"starter": 10_000, "pro": 100_000, "business": 1_000_000, "agency": 100_000,
                      "white-label": 1_000_000}
COMPUTE_PLANS = {"pro", "business", "agency", "white-label"}
PRODUCTS = [
    ("micro-feature", "Micro-Feature Development Package", D("499"), D("1499"), 10,
     "A small, well-defined feature built, tested and shipped into your product."),
    ("website-audit", "Website Audit & Optimization Report", D("299"), D("799"), 20,
     "Performance, accessibility, SEO and conversion review with a prioritised list of fixes."),
    ("api-endpoint", "Automated API Endpoint Creation", D("799"), D("1999"), 30,
     "A documented, tested API endpoint generated from your specification and deployed."),
]
INTERVAL_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def seed(apps, schema_editor):
    Plan = apps.get_model("billing", "Plan")
    Price = apps.get_model("billing", "Price")
    UsageCharge = apps.get_model("billing", "UsageCharge")
    Product = apps.get_model("billing", "Product")
    Plan.objects.filter(code="enterprise").update(contact_sales=True)
    for plan_code, code, currency, interval, fixed, per_seat, seats, trial in PRICES:
        plan = Plan.objects.filter(code=plan_code).first()
        if plan is None:
            continue
        price, created = Price.objects.get_or_create(code=code, defaults={
            "plan": plan, "currency": currency, "interval": interval, "fixed_amount": fixed,
            "per_seat_amount": per_seat, "included_seats": seats, "trial_days": trial})
        if not created:
            continue
        months = INTERVAL_MONTHS[interval]
        if plan_code in API_CALLS_INCLUDED:
            UsageCharge.objects.create(price=price, meter_code="api_calls", name="API calls", unit_name="calls",
                                       charge_model="package", properties=API_CALLS_OVERAGE,
                                       included_units=API_CALLS_INCLUDED[plan_code] * months)
        if plan_code in COMPUTE_PLANS:
            UsageCharge.objects.create(price=price, meter_code="compute_seconds", name="Compute", unit_name="hours",
                                       charge_model="standard", properties=COMPUTE_PER_HOUR, divide_by=D("3600"))
    for code, name, low, high, order, description in PRODUCTS:
        Product.objects.get_or_create(code=code, defaults={
            "name": name, "min_amount": low, "max_amount": high, "currency": "USD", "sort_order": order,
            "description": description})


def unseed(apps, schema_editor):
    apps.get_model("billing", "UsageCharge").objects.filter(price__code__in=[row[1] for row in PRICES]).delete()
    apps.get_model("billing", "Price").objects.filter(code__in=[row[1] for row in PRICES]).delete()
    apps.get_model("billing", "Product").objects.filter(code__in=[row[0] for row in PRODUCTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("billing", "0004_invoice_immutable")]

    operations = [migrations.RunPython(seed, unseed)]
