"""Export as Markdown (as written) and as HTML rendered from it, escaped: no tag or script URL of the text gets
through."""

import pytest

from creators.content.export import markdown_to_html
from tests.support.content import content_document_make

pytestmark = pytest.mark.django_db


def test_markdown_is_exported_as_written(alpha_owner_client, tenant_alpha):
    document = content_document_make(tenant_alpha, title="Bread & butter", output="# Bread\n\n*Warm* loaves.")

    response = alpha_owner_client.get(f"/content/{document.pk}/export.md")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="bread-butter-{document.pk}.md"'
    assert response.content.decode() == "# Bread\n\n*Warm* loaves.\n"


def test_html_is_rendered_from_the_markdown_with_the_title_escaped(alpha_owner_client, tenant_alpha):
    document = content_document_make(tenant_alpha, title="<b>Loaves</b>", output="# Bread\n\n*Warm* loaves.")

    response = alpha_owner_client.get(f"/content/{document.pk}/export.html")

    html = response.content.decode()
    assert response["Content-Disposition"].startswith('attachment; filename="bloavesb-')
    assert "<title>&lt;b&gt;Loaves&lt;/b&gt;</title>" in html
    assert "<h1>Bread</h1>\n<p><em>Warm</em> loaves.</p>" in html


def test_raw_html_in_the_markdown_is_escaped():
    html = markdown_to_html('Hi <script>alert(1)</script> <img src=x onerror="alert(2)">\n\n<div>block</div>')

    assert "<script" not in html and "<img" not in html and "<div" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize("url", ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "vbscript:x", "data:text/html,x"])
def test_script_urls_are_not_made_links(url):
    html = markdown_to_html(f"[click]({url}) ![img]({url})")

    assert "href=" not in html and "src=" not in html


def test_ordinary_links_and_tables_are_kept():
    html = markdown_to_html("[site](https://example.com)\n\n| a | b |\n|---|---|\n| 1 | 2 |")

    assert '<a href="https://example.com">site</a>' in html
    assert "<table>" in html
