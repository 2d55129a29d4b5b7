"""Saved content drafts: what the content generator wrote for a tenant (from a template of the operator's
catalogue, creators.catalog), kept with its inputs, cost and every edited version."""

from django.conf import settings
from django.db import models

from creators.models.coach import COST


class ContentDocument(models.Model):
    title = models.CharField(max_length=300)
    template_key = models.SlugField(max_length=60)
    template_version = models.PositiveIntegerField()
    template_name = models.CharField(max_length=120)
    inputs = models.JSONField(default=dict)
    output = models.TextField(help_text="Markdown.")
    model = models.CharField(max_length=100, blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(default=0, **COST)
    currency = models.CharField(max_length=3, default="USD")
    request_id = models.UUIDField(null=True, blank=True, unique=True,
                                  help_text="The AI gateway's request: a draft is saved once per generation.")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["template_key", "updated_at"], name="content_document_template_idx")]

    def __str__(self) -> str:
        return self.title


class ContentDocumentVersion(models.Model):
    """The document as it was before an edit (version 1 is what the AI wrote)."""

    document = models.ForeignKey(ContentDocument, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=300)
    output = models.TextField()
    edited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["document", "-number"]
        constraints = [models.UniqueConstraint(fields=["document", "number"], name="content_version_number_unique")]

    def __str__(self) -> str:
        return f"{self.document_id} v{self.number}"
