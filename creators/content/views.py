"""The content pages on a tenant's host (staff who may use the product): the library with search, a template's
form (the draft streams in when the browser runs static/js/content-stream.js, else the page waits for the
whole draft), a document with its versions, edit and export. Documents live in the tenant's schema: the host
decides whose they are."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from accounts.permissions import Action, staff_action_required
from config.errors import DomainError
from creators.catalog.models import ContentTemplate
from creators.catalog.selectors import content_template_active_get, content_template_list_active, content_template_specs
from creators.content.export import document_html, document_markdown, export_filename, markdown_to_html
from creators.content.forms import ContentInputsForm, DocumentEditForm, LibrarySearchForm
from creators.content.readability import readability
from creators.content.selectors import content_document_get, content_document_list, content_document_versions
from creators.content.services import content_document_update, content_generate, content_generate_stream
from creators.models import ContentDocument
from metering.gateway.client import ai_configured

LIBRARY_PAGE_SIZE = 25


@staff_action_required(Action.USE_PRODUCT)
@require_GET
def content_library(request: HttpRequest) -> HttpResponse:
    search = LibrarySearchForm(request.GET)
    q = search.cleaned_data["q"] if search.is_valid() else ""
    page = Paginator(content_document_list(q=q), LIBRARY_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "creators/content/library.html", {
        "active_section": "content", "search": search, "q": q, "page": page,
        "templates": list(content_template_list_active()), "ai_available": ai_configured(),
    })


@staff_action_required(Action.USE_PRODUCT)
@require_http_methods(["GET", "POST"])
def content_new(request: HttpRequest, key: str) -> HttpResponse:
    template = content_template_active_get(key=key)
    if template is None:
        raise Http404("No such template.")
    specs = content_template_specs(template=template)
    if request.method == "GET":
        return _new_render(request, template, ContentInputsForm(specs=specs))
    form = ContentInputsForm(request.POST, request.FILES, specs=specs)
    if not form.is_valid():
        return _new_render(request, template, form, status=400)
    if not ai_configured():
        return _new_render(request, template, form, status=503)
    common = {"tenant": request.tenant, "template": template, "inputs": form.cleaned_data["inputs"],
              "author": request.user, "created_by": request.user.email}
    try:
        if "text/event-stream" in request.headers.get("Accept", ""):
            response = StreamingHttpResponse(content_generate_stream(**common), content_type="text/event-stream")
            response["Cache-Control"] = "no-cache"
            response["X-Accel-Buffering"] = "no"
            return response
        document = content_generate(**common)
    except DomainError as error:  # the wallet, the plan's limits, Anthropic: nothing was written or charged
        return _new_render(request, template, form, error=error.message, status=error.status)
    messages.success(request, "Draft written and saved to your library.")
    return redirect("content_document", document_id=document.pk)


def _new_render(request: HttpRequest, template: ContentTemplate, form: ContentInputsForm, *, error: str = "",
                status: int = 200) -> HttpResponse:
    return render(request, "creators/content/new.html", {
        "active_section": "content", "template": template, "form": form, "error": error,
        "ai_available": ai_configured(),
    }, status=status)


@staff_action_required(Action.USE_PRODUCT)
@require_http_methods(["GET", "POST"])
def content_document(request: HttpRequest, document_id: int) -> HttpResponse:
    document = _document_or_404(document_id)
    if request.method == "POST":
        form = DocumentEditForm(request.POST)
        if form.is_valid():
            content_document_update(document=document, title=form.cleaned_data["title"],
                                    output=form.cleaned_data["output"], editor=request.user)
            messages.success(request, "Saved. The previous text is kept under Versions.")
            return redirect("content_document", document_id=document.pk)
        return _document_render(request, document, form, status=400)
    return _document_render(request, document, DocumentEditForm(initial={"title": document.title,
                                                                         "output": document.output}))


def _document_render(request: HttpRequest, document: ContentDocument, form: DocumentEditForm, *,
                     status: int = 200) -> HttpResponse:
    return render(request, "creators/content/document.html", {
        "active_section": "content", "document": document, "form": form,
        "preview": markdown_to_html(document.output), "scores": readability(document.output),
        "versions": list(content_document_versions(document=document)),
    }, status=status)


@staff_action_required(Action.USE_PRODUCT)
@require_GET
def content_export(request: HttpRequest, document_id: int, extension: str) -> HttpResponse:
    document = _document_or_404(document_id)
    if extension == "md":
        response = HttpResponse(document_markdown(document), content_type="text/markdown; charset=utf-8")
    else:
        response = HttpResponse(document_html(document), content_type="text/html; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{export_filename(document, extension)}"'
    return response


def _document_or_404(document_id: int) -> ContentDocument:
    document = content_document_get(document_id=document_id)
    if document is None:
        raise Http404("No such document.")
    return document
