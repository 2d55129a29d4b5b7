from django.core.validators import RegexValidator
from django.db import models

HEX_COLOUR = RegexValidator(r"^#[0-9a-fA-F]{6}$", "A colour as #RRGGBB.")


class Brand(models.Model):
    """How a tenant (whose plan has `white_label`) shows itself: in its workspace, on its custom domain, in its
    emails and on its invoices. An agency's brand also dresses its client workspaces that have none of their own.
    `version` goes up on every save so that cached pages and assets (the served CSS) change with it."""

    tenant = models.OneToOneField("tenants.Tenant", on_delete=models.CASCADE, related_name="brand")
    display_name = models.CharField(max_length=100)
    logo = models.ImageField(upload_to="brands/logos/", blank=True)
    favicon = models.ImageField(upload_to="brands/favicons/", blank=True)
    primary_colour = models.CharField(max_length=7, default="#1f4b99", validators=[HEX_COLOUR])
    accent_colour = models.CharField(max_length=7, default="#e07a10", validators=[HEX_COLOUR])
    custom_css = models.TextField(blank=True, help_text="Sanitised on save; served only on this brand's pages.")
    support_url = models.URLField(blank=True)
    support_email = models.EmailField(blank=True)
    legal_footer = models.TextField(blank=True)
    email_sender_name = models.CharField(max_length=100, blank=True)
    email_sender_address = models.EmailField(blank=True, help_text="Used once its domain is authenticated.")
    invoice_header = models.TextField(blank=True)
    invoice_footer = models.TextField(blank=True)
    show_powered_by = models.BooleanField(default=True, help_text="\"Powered by Tollgate\" (a plan may hide it).")
    landing_title = models.CharField(max_length=200, blank=True, help_text="The reseller portal's public landing.")
    landing_text = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Brand {self.display_name} ({self.tenant_id})"
