"""Content templates: what the content generator can write, each version immutable once used (a document records
the template key and version it was written with, so editing a template never rewrites history)."""

from django.db import models


class ContentTemplate(models.Model):
    class Category(models.TextChoices):
        MARKETING = "marketing", "Marketing copy"
        PRODUCT = "product", "Product descriptions"
        COURSE = "course", "Course material"
        DOCUMENTATION = "documentation", "Technical documentation"
        INVESTOR = "investor", "Investor materials"
        REPORT = "report", "Reports"

    key = models.SlugField(max_length=60, help_text="Stable across versions, e.g. marketing-copy.")
    version = models.PositiveIntegerField()
    name = models.CharField(max_length=120)
    category = models.CharField(max_length=20, choices=Category.choices)
    description = models.CharField(max_length=500, blank=True)
    fields = models.JSONField(
        default=list,
        help_text="The form: a list of {name, label, type: text|textarea|choice|number|csv, required, choices, "
                  "max_length, help}.")
    system_prompt = models.TextField()
    prompt = models.TextField(help_text="The user prompt, with {field_name} placeholders for the form's fields.")
    max_tokens = models.PositiveIntegerField(default=4096)
    is_active = models.BooleanField(default=True, help_text="The current version of its key, offered to tenants.")
    created_by = models.CharField(max_length=254)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["category", "name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="content_template_key_version_unique"),
            models.UniqueConstraint(fields=["key"], condition=models.Q(is_active=True),
                                    name="content_template_one_active_version"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"
