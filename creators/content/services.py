"""Content generation: a template of the operator's catalogue, filled in by tenant staff (or an API caller), written
by Claude through the metered AI gateway and kept as a document of the tenant's library.

Every generation is one gateway request under the wallet feature `content`: the gateway reserves the tokens
(InsufficientBalance, 402, before anything is sent), calls Anthropic and settles once; the document keeps the
usage and cost of that settlement, so it shows exactly what the wallet paid. A document is saved once per
generation (its `request_id` is the gateway's, unique). A streamed generation that ends early (the client left,
the upstream broke) is charged for what was forwarded, and what was forwarded is saved: the tenant paid for it.

Edits keep history: the state an edit replaces becomes a ContentDocumentVersion (version 1 is what the AI
wrote; a version's created_at and edited_by say when and by whom it was replaced).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import orjson
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django_tenants.utils import schema_context

from creators.catalog.fields import inputs_clean, prompt_render
from creators.catalog.models import ContentTemplate
from creators.catalog.selectors import content_template_specs
from creators.content.readability import word_count
from creators.models import ContentDocument, ContentDocumentVersion
from metering.gateway.client import AiUnavailable, AiUsage
from metering.gateway.services import (
    AiRequest,
    AiSettlement,
    AiStream,
    ai_message_complete,
    ai_message_stream,
    model_names_active,
    model_price_active_get,
    sse_frame,
)
from metering.models import ModelPrice, WalletFeature
from tenants.models import Tenant

logger = logging.getLogger(__name__)

TITLE_MAX = 300
OUTPUT_MAX = 200_000
HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
MARKS = re.compile(r"[*_`~]")


# --- Pure pieces ----------------------------------------------------------------------------------------------

def content_model_price() -> ModelPrice:
    """The operator's content model (AI_CONTENT_MODEL) while it is active, else the first active model by name."""
    price = model_price_active_get(model=settings.AI_CONTENT_MODEL)
    if price is None:
        names = model_names_active()
        price = model_price_active_get(model=names[0]) if names else None
    if price is None:
        raise AiUnavailable("No AI model is enabled on this server.")
    return price


def content_inputs_validate(*, template: ContentTemplate, raw: Any) -> dict[str, str]:
    """The template's validator (creators.catalog.fields.inputs_clean): ContentInputsInvalid lists every field
    at fault."""
    return inputs_clean(specs=content_template_specs(template=template), raw=raw)


def content_prompt(*, template: ContentTemplate, inputs: dict[str, str]) -> tuple[str, str]:
    """(system prompt, user prompt) for cleaned inputs."""
    specs = content_template_specs(template=template)
    return (prompt_render(text=template.system_prompt, specs=specs, inputs=inputs),
            prompt_render(text=template.prompt, specs=specs, inputs=inputs))


def content_title(*, output: str, template: ContentTemplate, inputs: dict[str, str]) -> str:
    """The draft's first heading, else the template's name and its first input."""
    match = HEADING.search(output)
    if match:
        title = MARKS.sub("", match.group(1)).strip()
        if title:
            return title[:TITLE_MAX]
    first = next((value for value in inputs.values() if value), "")
    first = " ".join(first.split())
    return (f"{template.name}: {first}" if first else template.name)[:TITLE_MAX]


def content_ai_request(*, tenant: Tenant, template: ContentTemplate, inputs: dict[str, str],
                       created_by: str) -> AiRequest:
    system, prompt = content_prompt(template=template, inputs=inputs)
    return AiRequest(tenant=tenant, price=content_model_price(), system=system,
                     messages=[{"role": "user", "content": prompt}], max_tokens=template.max_tokens,
                     created_by=created_by, feature=WalletFeature.CONTENT)


# --- Generation -----------------------------------------------------------------------------------------------

def content_generate(*, tenant: Tenant, template: ContentTemplate, inputs: dict[str, str], author: Any | None,
                     created_by: str) -> ContentDocument:
    """Write the draft and wait for all of it; the saved document. Raises the gateway's and the wallet's errors
    (AiUnavailable, InsufficientBalance, upstream errors) as they are, with nothing saved."""
    request = content_ai_request(tenant=tenant, template=template, inputs=inputs, created_by=created_by)
    completion = ai_message_complete(request=request)
    return content_document_record(tenant=tenant, template=template, inputs=inputs, output=completion.message.text,
                                   settlement=completion.settlement, model=request.price.model,
                                   request_id=str(request.request_id), author=author)


def content_generate_stream(*, tenant: Tenant, template: ContentTemplate, inputs: dict[str, str],
                            author: Any | None, created_by: str) -> ContentStream:
    """Open a streamed generation: refusals raise here, before any byte; the ContentStream forwards the
    gateway's events, saves the document once the request is settled and ends with `event: tollgate.content`."""
    request = content_ai_request(tenant=tenant, template=template, inputs=inputs, created_by=created_by)
    stream = ai_message_stream(request=request)
    return ContentStream(stream=stream, tenant=tenant, template=template, inputs=inputs, author=author,
                         model=request.price.model, request_id=str(request.request_id))


class ContentStream:
    """The gateway's server-sent events as they come (Anthropic's, then `tollgate.usage`), then
    `event: tollgate.content` with the saved document (id, title, word_count), sent only when a draft was
    written. close() (the server calls it when the client goes away) settles the request and saves what was
    forwarded, once."""

    def __init__(self, *, stream: AiStream, tenant: Tenant, template: ContentTemplate, inputs: dict[str, str],
                 author: Any | None, model: str, request_id: str):
        self.stream = stream
        self.tenant = tenant
        self.template = template
        self.inputs = inputs
        self.author = author
        self.model = model
        self.request_id = request_id
        self.document: ContentDocument | None = None
        self._parts: list[str] = []
        self._finished = False
        self._frames = self._generate()

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        return next(self._frames)

    def close(self) -> None:
        self._frames.close()
        self._finish()

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def _generate(self) -> Iterator[bytes]:
        for frame in self.stream:
            self._observe(frame)
            yield frame
        document = self._finish()
        if document is not None:
            yield sse_frame("tollgate.content", {
                "type": "tollgate.content",
                "document": {"id": document.pk, "title": document.title, "word_count": word_count(document.output)},
            })

    def _observe(self, frame: bytes) -> None:
        if not frame.startswith(b"event: content_block_delta\n"):
            return
        _, _, data = frame.partition(b"\ndata: ")
        try:
            delta = orjson.loads(data).get("delta") or {}
        except orjson.JSONDecodeError:
            return
        if delta.get("type") == "text_delta" and isinstance(delta.get("text"), str):
            self._parts.append(delta["text"])

    def _finish(self) -> ContentDocument | None:
        if self._finished:
            return self.document
        self._finished = True
        self.stream.close()  # settles once (a no-op after the stream's own end)
        if self.text.strip():
            self.document = content_document_record(
                tenant=self.tenant, template=self.template, inputs=self.inputs, output=self.text,
                settlement=self.stream.settlement, model=self.model, request_id=self.request_id, author=self.author)
            if not self.stream.upstream.usage_final:  # the client left or the upstream broke: a partial draft
                logger.info("content_draft_partial tenant=%s document=%s request=%s", self.tenant.pk,
                            self.document.pk, self.request_id)
        return self.document


def content_document_record(*, tenant: Tenant, template: ContentTemplate, inputs: dict[str, str], output: str,
                            settlement: AiSettlement, model: str, request_id: str, author: Any | None,
                            now: datetime | None = None) -> ContentDocument:
    """Save a generated draft in the tenant's schema with the settlement's usage and cost; a second call for
    the same gateway request returns the first document."""
    now = now or timezone.now()
    usage: AiUsage = settlement.usage
    with schema_context(tenant.schema_name):  # a stream is saved after the view returned: say where
        try:
            with transaction.atomic():
                return ContentDocument.objects.create(
                    title=content_title(output=output, template=template, inputs=inputs),
                    template_key=template.key, template_version=template.version, template_name=template.name,
                    inputs=inputs, output=output[:OUTPUT_MAX], model=model,
                    input_tokens=usage.total_input_tokens, output_tokens=usage.output_tokens,
                    cost=settlement.cost.amount, currency=settlement.cost.currency, request_id=request_id,
                    author=author, created_at=now, updated_at=now)
        except IntegrityError:
            document = ContentDocument.objects.filter(request_id=request_id).first()
            if document is None:
                raise
            return document


# --- Edits ----------------------------------------------------------------------------------------------------

@transaction.atomic
def content_document_update(*, document: ContentDocument, title: str | None = None, output: str | None = None,
                            editor: Any | None, now: datetime | None = None) -> ContentDocument:
    """Change the title and/or the output; the state replaced is kept as the next version. An edit that changes
    nothing keeps no version. Two editors at once: the document's row lock orders them, and each keeps the
    state it replaced."""
    now = now or timezone.now()
    locked = ContentDocument.objects.select_for_update().get(pk=document.pk)
    new_title = locked.title if title is None else title.strip()[:TITLE_MAX] or locked.title
    new_output = locked.output if output is None else output[:OUTPUT_MAX]
    if (new_title, new_output) == (locked.title, locked.output):
        return locked
    number = (locked.versions.aggregate(top=Max("number"))["top"] or 0) + 1
    ContentDocumentVersion.objects.create(document=locked, number=number, title=locked.title, output=locked.output,
                                          edited_by=editor, created_at=now)
    locked.title, locked.output, locked.updated_at = new_title, new_output, now
    locked.save(update_fields=["title", "output", "updated_at"])
    return locked
