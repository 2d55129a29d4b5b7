"""A reseller invoice as a PDF, drawn with fpdf2 from the same ResellerInvoiceDocument as the HTML page, with the
agency's logo and colours. Helvetica covers Latin-1 only, so text is folded to it first (as billing's invoice PDF
does: amounts print ISO codes, never symbols)."""

from __future__ import annotations

import io
import logging
import unicodedata

from django.core.files.storage import default_storage
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from whitelabel.models import ResellerInvoice
from whitelabel.resellers.documents import ResellerInvoiceDocument, reseller_invoice_document

logger = logging.getLogger(__name__)

PAGE_WIDTH_MM = 180  # A4 minus 15 mm margins
AMOUNT_WIDTH_MM = 34
QUANTITY_WIDTH_MM = 24
UNIT_WIDTH_MM = 34
LOGO_HEIGHT_MM = 14


def reseller_invoice_pdf(*, invoice: ResellerInvoice) -> bytes:
    return _render(reseller_invoice_document(invoice=invoice))


def _render(document: ResellerInvoiceDocument) -> bytes:
    brand = document.brand
    pdf = FPDF(format="A4")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_title(_latin1(f"{brand.display_name} invoice {document.number}"))
    pdf.set_author(_latin1(brand.display_name))
    pdf.set_creator(_latin1(brand.display_name))
    pdf.add_page()

    # The brand's band: its colour, its logo and name in the text colour that reads on it.
    pdf.set_fill_color(*_rgb(brand.primary_colour))
    pdf.rect(0, 0, 210, 30, style="F")
    x = 15 + _logo_draw(pdf, brand.logo_name)
    pdf.set_text_color(*_rgb(brand.primary_text))
    pdf.set_font("Helvetica", "B", 16)
    pdf.set_xy(x, 10)
    pdf.cell(0, 10, _latin1(brand.display_name))
    pdf.set_text_color(0, 0, 0)
    pdf.set_y(36)

    if brand.invoice_header:
        pdf.set_font("Helvetica", "", 9)
        pdf.multi_cell(PAGE_WIDTH_MM, 4.5, _latin1(brand.invoice_header), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(2)
    pdf.set_font("Helvetica", "B", 16)
    _line(pdf, f"Invoice {document.number}", height=9)
    pdf.set_font("Helvetica", "", 9)
    facts = [f"Status: {document.status_label}", f"Issued: {document.issued_on}"]
    facts += [f"Due: {document.due_on}"] if document.due_on else []
    facts += [f"Paid: {document.paid_on}"] if document.paid_on else []
    facts += [f"Period: {document.period}"] if document.period else []
    _line(pdf, "   ".join(facts), height=5)
    pdf.ln(4)

    _parties(pdf, document)
    pdf.ln(4)
    _lines_table(pdf, document)
    pdf.ln(2)
    _totals(pdf, document)

    if document.payment_instructions:
        pdf.ln(4)
        pdf.set_font("Helvetica", "B", 9)
        _line(pdf, "How to pay", height=5)
        pdf.set_font("Helvetica", "", 9)
        pdf.multi_cell(PAGE_WIDTH_MM, 4.5, _latin1(document.payment_instructions), new_x=XPos.LMARGIN,
                       new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "", 8)
    pdf.set_text_color(90, 98, 110)
    for text in (brand.invoice_footer, brand.legal_footer, "Powered by Tollgate" if brand.powered_by else ""):
        if text:
            pdf.ln(3)
            pdf.multi_cell(PAGE_WIDTH_MM, 4, _latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


def _logo_draw(pdf: FPDF, name: str) -> float:
    """The brand's logo (a PNG re-encoded on upload) on the band; the width it took, with a gap after it. A
    missing or unreadable file leaves it out (0)."""
    if not name:
        return 0
    try:
        with default_storage.open(name, "rb") as stored:
            drawn = pdf.image(io.BytesIO(stored.read()), x=15, y=8, h=LOGO_HEIGHT_MM)
    except Exception:
        logger.warning("reseller_invoice_logo_unreadable name=%s", name)
        return 0
    return drawn.rendered_width + 4


def _parties(pdf: FPDF, document: ResellerInvoiceDocument) -> None:
    half = PAGE_WIDTH_MM / 2
    top = pdf.get_y()
    bottoms = []
    for column, (heading, lines, tax_id) in enumerate((("From", document.issuer_lines, document.issuer_tax_id),
                                                       ("Bill to", document.customer_lines,
                                                        document.customer_tax_id))):
        x = 15 + column * half
        pdf.set_xy(x, top)
        pdf.set_font("Helvetica", "B", 9)
        pdf.cell(half, 5, _latin1(heading), new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.set_font("Helvetica", "", 9)
        for text in [*lines, *([f"Tax ID: {tax_id}"] if tax_id else [])]:
            pdf.set_x(x)
            pdf.cell(half, 4.5, _latin1(text), new_x=XPos.LEFT, new_y=YPos.NEXT)
        bottoms.append(pdf.get_y())
    pdf.set_xy(15, max(bottoms))


def _lines_table(pdf: FPDF, document: ResellerInvoiceDocument) -> None:
    description_width = PAGE_WIDTH_MM - QUANTITY_WIDTH_MM - UNIT_WIDTH_MM - AMOUNT_WIDTH_MM
    pdf.set_font("Helvetica", "B", 9)
    pdf.set_fill_color(235, 238, 242)
    for text, width, align in (("Description", description_width, "L"), ("Quantity", QUANTITY_WIDTH_MM, "R"),
                               ("Unit price", UNIT_WIDTH_MM, "R"), ("Amount", AMOUNT_WIDTH_MM, "R")):
        pdf.cell(width, 7, _latin1(text), align=align, fill=True)
    pdf.ln(7)
    for line in document.lines:
        pdf.set_font("Helvetica", "", 9)
        top = pdf.get_y()
        pdf.multi_cell(description_width, 5, _latin1(line.description), new_x=XPos.RIGHT, new_y=YPos.TOP)
        pdf.cell(QUANTITY_WIDTH_MM, 5, _latin1(line.quantity), align="R")
        pdf.cell(UNIT_WIDTH_MM, 5, _latin1(line.unit_amount), align="R")
        pdf.cell(AMOUNT_WIDTH_MM, 5, _latin1(line.amount), align="R")
        pdf.set_y(max(pdf.get_y() + 5, top + 5))
        if line.period:
            pdf.set_font("Helvetica", "", 7.5)
            pdf.set_text_color(90, 98, 110)
            pdf.set_x(19)
            pdf.cell(description_width, 3.8, _latin1(line.period), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.set_text_color(0, 0, 0)
        pdf.ln(1)


def _totals(pdf: FPDF, document: ResellerInvoiceDocument) -> None:
    rows = [("Subtotal", document.subtotal)]
    if document.tax_label:
        rows.append((document.tax_label, document.tax_total))
    rows.append(("Total", document.total))
    label_width = PAGE_WIDTH_MM - AMOUNT_WIDTH_MM
    for label, amount in rows:
        pdf.set_font("Helvetica", "B" if label == "Total" else "", 9.5)
        pdf.cell(label_width, 6, _latin1(label), align="R")
        pdf.cell(AMOUNT_WIDTH_MM, 6, _latin1(amount), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _line(pdf: FPDF, text: str, *, height: float) -> None:
    pdf.cell(0, height, _latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _latin1(text: str) -> str:
    """Text Helvetica can draw: Latin-1 kept, typographic dashes and quotes mapped, anything else decomposed
    (accents dropped) or replaced by '?'."""
    text = text.replace("–", "-").replace("—", "-").replace("’", "'").replace("“", '"').replace("”", '"')
    if all(ord(character) < 256 for character in text):
        return text
    folded = unicodedata.normalize("NFKD", text)
    return "".join(character if ord(character) < 256 else ("" if unicodedata.combining(character) else "?")
                   for character in folded)
