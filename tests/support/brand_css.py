"""The brand stylesheet a page links (/branding/brand.css?v=...), fetched as the browser would, from the page's host."""

import re

from django.test import Client

LINK = re.compile(r'<link rel="stylesheet" href="(/branding/brand\.css\?v=[0-9a-f]+)" data-brand-css>')


def linked_brand_css(client: Client, page: str, **extra: str) -> str:
    """The text of the brand stylesheet `page` links, or "" when it links none."""
    link = LINK.search(page)
    if link is None:
        return ""
    response = client.get(link.group(1), **extra)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/css")
    return response.content.decode()
