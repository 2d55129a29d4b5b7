"""Reseller billing: an agency in reseller mode sets its own prices for the plans it offers and invoices its
clients itself, under its brand, with its own legal details, tax and gapless numbers. Tollgate's consolidated
invoice charges the agency wholesale; the margin is the difference. The agency collects from its clients outside
Tollgate and marks its invoices paid or void here."""

from django.db import models

AMOUNT = {"max_digits": 16, "decimal_places": 4}


class ResellerPrice(models.Model):
    """What a reseller agency charges its clients for a plan (at or above the wholesale price, in its currency)."""

    agency = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="reseller_prices")
    plan = models.ForeignKey("billing.Plan", on_delete=models.PROTECT, related_name="+")
    interval = models.CharField(max_length=10, default="month")
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(max_digits=14, decimal_places=4)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["agency", "plan", "interval"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "plan", "interval", "currency"], name="reseller_price_once"),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="reseller_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id} at {self.amount} {self.currency}/{self.interval} by {self.agency_id}"


class ResellerSettings(models.Model):
    """The agency as the issuer of its clients' invoices: its legal details, its tax, its number prefix and how
    its clients pay it. Copied onto each invoice when it is issued (ResellerInvoice.issuer), so a later change
    never rewrites an issued invoice."""

    agency = models.OneToOneField("tenants.Tenant", on_delete=models.CASCADE, related_name="reseller_settings")
    legal_name = models.CharField(max_length=200, blank=True, help_text="Blank: the agency's workspace name.")
    address = models.TextField(blank=True)
    email = models.EmailField(blank=True)
    tax_id = models.CharField(max_length=50, blank=True)
    tax_name = models.CharField(max_length=60, blank=True, default="Tax")
    tax_percentage = models.DecimalField(max_digits=7, decimal_places=4, null=True, blank=True,
                                         help_text="Added to the invoice's taxable lines; blank: no tax line.")
    number_prefix = models.CharField(max_length=10, help_text="Invoice numbers read PREFIX-2026-0001.")
    payment_instructions = models.TextField(blank=True, help_text="How clients pay you (bank details, a link).")
    payment_terms_days = models.PositiveSmallIntegerField(default=14)
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "reseller settings"
        constraints = [
            models.CheckConstraint(condition=models.Q(number_prefix__regex=r"^[A-Z0-9]{1,10}$"),
                                   name="reseller_settings_prefix_plain"),
            models.CheckConstraint(condition=models.Q(tax_percentage__isnull=True)
                                   | models.Q(tax_percentage__gte=0, tax_percentage__lte=100),
                                   name="reseller_settings_tax_percentage_range"),
        ]

    def __str__(self) -> str:
        return f"Reseller settings of {self.agency_id}"


class ResellerDocumentSequence(models.Model):
    """The last invoice number an agency gave in a year: taken under this row's lock in the transaction that
    stores the invoice, so an agency's numbers have no gaps and never repeat (another agency's never wait)."""

    agency = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agency", "year"], name="reseller_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.agency_id}-{self.year}: {self.last_number}"


class ResellerInvoice(models.Model):
    """The agency's invoice to its client for one consolidated Tollgate invoice of that client (exactly one:
    `source_invoice` is unique), at the agency's prices and tax. `wholesale_amount` is what Tollgate's
    consolidated invoice charges the agency for the same client invoice, before Tollgate's tax on it."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PAID = "paid", "Paid"
        VOID = "void", "Void"

    agency = models.ForeignKey("tenants.Tenant", on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey("tenants.Tenant", on_delete=models.PROTECT, related_name="+")
    source_invoice = models.OneToOneField("billing.Invoice", on_delete=models.PROTECT, related_name="+")
    number = models.CharField(max_length=30)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    currency = models.CharField(max_length=3)
    subtotal = models.DecimalField(**AMOUNT)
    tax_name = models.CharField(max_length=60, blank=True)
    tax_percentage = models.DecimalField(max_digits=7, decimal_places=4, null=True, blank=True)
    tax_total = models.DecimalField(default=0, **AMOUNT)
    total = models.DecimalField(**AMOUNT)
    wholesale_amount = models.DecimalField(**AMOUNT)
    list_price_used = models.BooleanField(
        default=False, help_text="The agency had no price for the plan: its subscription line is at Tollgate's list "
                                 "price.")
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    issuer = models.JSONField(default=dict, help_text="The agency's details as they were when issued.")
    customer = models.JSONField(default=dict, help_text="The client's billing details as they were when issued.")
    issued_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.CharField(max_length=254, blank=True)

    class Meta:
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "number"], name="reseller_invoice_number_once"),
            models.CheckConstraint(condition=~models.Q(agency=models.F("client")),
                                   name="reseller_invoice_not_to_itself"),
        ]
        indexes = [
            models.Index(fields=["client", "issued_at"], name="reseller_invoice_client_idx"),
            models.Index(fields=["agency", "issued_at"], name="reseller_invoice_agency_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def margin(self):
        """What the agency keeps: its pre-tax amount less what Tollgate charges it."""
        return self.subtotal - self.wholesale_amount


class ResellerInvoiceLine(models.Model):
    """One line of a reseller invoice, from one line of the client's Tollgate invoice. `list_amount` is that
    line's Tollgate amount; `amount` what the agency charges (its price for the subscription line, the list
    amount otherwise)."""

    class Pricing(models.TextChoices):
        RESELLER_PRICE = "reseller_price", "The agency's price"
        LIST_PRICE = "list_price", "Tollgate's list price (the agency has no price for the plan)"
        PASSED_THROUGH = "passed_through", "As on Tollgate's invoice"

    invoice = models.ForeignKey(ResellerInvoice, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=20)
    description = models.CharField(max_length=300)
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    quantity = models.DecimalField(max_digits=24, decimal_places=6, default=1)
    unit_amount = models.DecimalField(max_digits=24, decimal_places=10, null=True, blank=True)
    amount = models.DecimalField(**AMOUNT)
    list_amount = models.DecimalField(**AMOUNT)
    pricing = models.CharField(max_length=20, choices=Pricing.choices)
    # The subscription line's plan and interval (blank on other lines): what the dashboard names when the agency
    # has no price for it.
    plan_code = models.CharField(max_length=40, blank=True)
    interval = models.CharField(max_length=10, blank=True)
    taxable = models.BooleanField(default=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["invoice", "sort_order", "id"]

    def __str__(self) -> str:
        return self.description
