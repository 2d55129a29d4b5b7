"""The one door every transactional email goes through. The apps that send (the notification centre, so billing's
and metering's emails too; accounts' invitations; allauth's adapter) render their content and build their message
here; the module named by settings.EMAIL_COMPOSER does the work: whitelabel.email.composer dresses the content in
the workspace's brand (one layout) and decides the sender and reply-to.

Why a door: whitelabel sits above the apps that send and none of them may import it, so settings wire them
together, as ACCOUNT_ADAPTER names allauth's adapter. A workspace is named by its schema, which every sender knows
(the public schema sends platform mail: Tollgate's layout and sender). Imports nothing of ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from types import ModuleType
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives


@dataclass(frozen=True)
class RenderedEmail:
    """An email ready to send but for its addresses: the subject, the text part and the HTML part (layout
    included)."""

    subject: str
    text: str
    html: str


def email_render(*, schema_name: str, subject: str, template: str, context: dict[str, Any]) -> RenderedEmail:
    """`<template>.txt` (and `<template>.html` when it exists, else the text) rendered with `context` inside the
    workspace's layout. The content templates are fragments: the layout supplies the document, the header and
    the footer, and gives them `email_brand` (name, colours) to draw buttons with."""
    return _composer().email_render(schema_name=schema_name, subject=subject, template=template, context=context)


def email_message(*, schema_name: str, email: RenderedEmail, to: list[str]) -> EmailMultiAlternatives:
    """The message to send `email` to `to`, its From and Reply-To decided for the workspace."""
    return _composer().email_message(schema_name=schema_name, email=email, to=to)


def _composer() -> ModuleType:
    return import_module(settings.EMAIL_COMPOSER)
