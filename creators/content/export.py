"""A saved document as a file: its Markdown as written, or a standalone HTML page rendered from it.

The HTML is rendered by markdown-it-py's CommonMark parser with raw HTML off, so any tag in the Markdown (the
model's or an editor's) comes out as escaped text, and links and images keep only the URL schemes markdown-it
validates (no javascript:, vbscript:, file: or non-image data:). Nothing else is needed to make it safe to
open in a browser: no HTML from the input reaches the output unescaped."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils.text import slugify
from markdown_it import MarkdownIt

from creators.models import ContentDocument

_renderer = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


def markdown_to_html(markdown: str) -> str:
    """The Markdown as an HTML fragment (safe: see the module's note)."""
    return _renderer.render(markdown)


def export_filename(document: ContentDocument, extension: str) -> str:
    return f"{slugify(document.title)[:80] or 'document'}-{document.pk}.{extension}"


def document_markdown(document: ContentDocument) -> str:
    return document.output if document.output.endswith("\n") else document.output + "\n"


def document_html(document: ContentDocument) -> str:
    """A standalone page: the title escaped by the template, the body rendered from the Markdown."""
    return render_to_string("creators/content/export.html", {
        "document": document, "body": markdown_to_html(document.output)})
