"""Saved drafts for the demo tenant's content library, written by hand (no AI call: their tokens and cost are 0
and their model is empty, so nothing pretends to have been metered). Safe to repeat: a draft whose title is
already in the library is not written again."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.selectors import member_list
from creators.catalog.selectors import content_template_active_get
from creators.content.services import content_document_update
from creators.models import ContentDocument
from tenants.models import Tenant

DEMO_DRAFTS = [
    {"template": "marketing-copy", "days_ago": 6,
     "inputs": {"topic": "The launch of the Sourdough Circle, a paid community for home bakers",
                "content_type": "email", "tone": "friendly", "audience": "Newsletter readers who bake at weekends"},
     "output": "# Your starter deserves company\n\n**Subject:** The Sourdough Circle opens on Monday\n\n"
               "You have been asking for a place to trade starters, troubleshoot flat loaves and bake together. "
               "On Monday it opens: the Sourdough Circle, a members' community with a live bake-along every "
               "Saturday, a recipe vault and a channel for every question.\n\n"
               "Founding members pay **$9 a month** for life. [Join the waitlist] before Sunday to keep that "
               "price.\n\nHappy baking,\nMaya",
     "edited": "# Your starter deserves company\n\n**Subject:** The Sourdough Circle opens on Monday\n\n"
               "You asked for a place to trade starters, fix flat loaves and bake together. On Monday it opens: "
               "the Sourdough Circle, with a live bake-along every Saturday, a recipe vault and a channel for "
               "every question.\n\nFounding members pay **$9 a month**, for as long as they stay. "
               "[Join the waitlist] before Sunday.\n\nHappy baking,\nMaya"},
    {"template": "product-description", "days_ago": 3,
     "inputs": {"product_name": "Banneton proofing basket", "features": "Rattan, 25 cm round\nLinen liner\n"
                "Dusting brush included", "tone": "friendly", "length": "short"},
     "output": "# Banneton proofing basket\n\nGive every loaf the shape and the spiral crust of a bakery boule.\n\n"
               "- Natural rattan, 25 cm round: holds a 1 kg dough\n- Washable linen liner for wetter doughs\n"
               "- Dusting brush included\n\nProof tonight, bake tomorrow."},
    {"template": "course-material", "days_ago": 1,
     "inputs": {"course_topic": "Sourdough from scratch", "material": "outline", "level": "beginner"},
     "output": "# Sourdough from scratch: course outline\n\n## Module 1: The starter\n1. Flour, water, time "
               "(20 min). Exercise: start a starter.\n2. Feeding and reading it (15 min).\n\n"
               "## Module 2: The first loaf\n1. Mixing and folding (25 min).\n2. Shaping and proofing (25 min).\n"
               "3. Baking in a Dutch oven (20 min).\n\n**Final project:** bake and photograph one loaf a week "
               "for three weeks."},
]


def content_demo_seed(*, tenant: Tenant, author_email: str) -> int:
    """Write the demo drafts the tenant's library lacks; returns how many were written."""
    written = 0
    now = timezone.now()
    with schema_context(tenant.schema_name):
        author = member_list().filter(email=author_email).first()
        for draft in DEMO_DRAFTS:
            template = content_template_active_get(key=draft["template"])
            title = draft["output"].splitlines()[0].lstrip("# ").strip()
            if template is None or ContentDocument.objects.filter(title=title).exists():
                continue
            created = now - timedelta(days=draft["days_ago"])
            document = ContentDocument.objects.create(
                title=title, template_key=template.key, template_version=template.version,
                template_name=template.name, inputs=draft["inputs"], output=draft["output"], author=author,
                created_at=created, updated_at=created)
            if "edited" in draft:
                content_document_update(document=document, output=draft["edited"], editor=author,
                                        now=created + timedelta(hours=2))
            written += 1
    return written
