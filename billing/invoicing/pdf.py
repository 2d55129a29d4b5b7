"""The invoice as a PDF, drawn with fpdf2 from the same InvoiceDocument as the HTML page.

fpdf2 installs from wheels alone (WeasyPrint would need the system's Pango). Its built-in Helvetica covers
Latin-1 only, so text is folded to Latin-1 first (accents kept, other scripts replaced): amounts never need
more, since they print ISO codes rather than currency symbols."""

from __future__ import annotations

import unicodedata

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from billing.invoicing.documents import InvoiceDocument, invoice_document
from billing.models import Invoice

PAGE_WIDTH_MM = 180  # A4 minus 15 mm margins
AMOUNT_WIDTH_MM = 34
QUANTITY_WIDTH_MM = 28
UNIT_WIDTH_MM = 34


def invoice_pdf(*, invoice: Invoice) -> bytes:
    """The invoice's PDF (A4). A draft is watermarked as such in its title."""
    return _render(invoice_document(invoice=invoice))


def _render(document: InvoiceDocument) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_title(_latin1(f"{document.title} {document.number}"))
    pdf.add_page()

    pdf.set_font("Helvetica", "B", 18)
    title = f"{document.title} {document.number}" if document.status != "draft" else "Draft invoice"
    _cell(pdf, title, height=10, newline=True)
    pdf.set_font("Helvetica", "", 9)
    facts = [f"Status: {document.status_label}"]
    facts += [f"Issued: {document.issued_on}"] if document.issued_on else []
    facts += [f"Due: {document.due_on}"] if document.due_on else []
    facts += [f"Paid: {document.paid_on}"] if document.paid_on else []
    facts += [f"Period: {document.period}"] if document.period else []
    _cell(pdf, "   ".join(facts), height=5, newline=True)
    pdf.ln(4)

    _parties(pdf, document)
    pdf.ln(4)
    _lines_table(pdf, document)
    pdf.ln(2)
    _totals(pdf, document)

    for legend in document.legends:
        pdf.ln(2)
        pdf.set_font("Helvetica", "I", 8)
        pdf.multi_cell(PAGE_WIDTH_MM, 4, _latin1(legend), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if document.credit_notes:
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 9)
        _cell(pdf, "Credit notes", height=5, newline=True)
        pdf.set_font("Helvetica", "", 8)
        for note in document.credit_notes:
            _cell(pdf, note, height=4, newline=True)
    if document.payment_instructions and document.status == "open":
        pdf.ln(4)
        pdf.set_font("Helvetica", "B", 9)
        _cell(pdf, "How to pay", height=5, newline=True)
        pdf.set_font("Helvetica", "", 9)
        pdf.multi_cell(PAGE_WIDTH_MM, 4.5, _latin1(document.payment_instructions), new_x=XPos.LMARGIN,
                       new_y=YPos.NEXT)
    return bytes(pdf.output())


def _parties(pdf: FPDF, document: InvoiceDocument) -> None:
    half = PAGE_WIDTH_MM / 2
    top = pdf.get_y()
    for column, (heading, lines, tax_id) in enumerate((("From", document.issuer_lines, document.issuer_tax_id),
                                                       ("Bill to", document.customer_lines,
                                                        document.customer_tax_id))):
        pdf.set_xy(15 + column * half, top)
        pdf.set_font("Helvetica", "B", 9)
        _cell(pdf, heading, width=half, height=5, newline=True, x=15 + column * half)
        pdf.set_font("Helvetica", "", 9)
        for line in [*lines, *([f"Tax ID: {tax_id}"] if tax_id else [])]:
            pdf.set_x(15 + column * half)
            _cell(pdf, line, width=half, height=4.5, newline=True, x=15 + column * half)
        if column == 0:
            left_bottom = pdf.get_y()
    pdf.set_y(max(left_bottom, pdf.get_y()))


def _lines_table(pdf: FPDF, document: InvoiceDocument) -> None:
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
        pdf.set_font("Helvetica", "", 7.5)
        pdf.set_text_color(90, 98, 110)
        for detail in ([line.period] if line.period else []) + list(line.breakdown):
            pdf.set_x(19)
            pdf.multi_cell(description_width + QUANTITY_WIDTH_MM, 3.8, _latin1(detail), new_x=XPos.LMARGIN,
                           new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)
        pdf.ln(1)


def _totals(pdf: FPDF, document: InvoiceDocument) -> None:
    rows = [("Subtotal", document.subtotal)]
    if document.discount_total and not document.discount_total.startswith("0.00"):
        rows.append(("Discounts", document.discount_total))
    rows.append((document.tax_label, document.tax_total))
    rows.append(("Total", document.total))
    if not document.credit_applied.startswith("0.00"):
        rows.append(("Account credit applied", document.credit_applied))
    rows.append(("Amount due", document.amount_due))
    if not document.amount_paid.startswith("0.00"):
        rows.append(("Amount paid", document.amount_paid))
    label_width = PAGE_WIDTH_MM - AMOUNT_WIDTH_MM
    for label, amount in rows:
        bold = label in ("Total", "Amount due")
        pdf.set_font("Helvetica", "B" if bold else "", 9.5)
        pdf.cell(label_width, 6, _latin1(label), align="R")
        pdf.cell(AMOUNT_WIDTH_MM, 6, _latin1(amount), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _cell(pdf: FPDF, text: str, *, height: float, width: float = 0, newline: bool = False, x: float | None = None
          ) -> None:
    pdf.cell(width, height, _latin1(text), new_x=XPos.LMARGIN if newline else XPos.RIGHT,
             new_y=YPos.NEXT if newline else YPos.TOP)
    if x is not None:
        pdf.set_x(x)


def _latin1(text: str) -> str:
    """Text Helvetica can draw: Latin-1 kept, typographic dashes and quotes mapped, anything else decomposed
    (accents dropped) or replaced by '?'."""
    text = text.replace("–", "-").replace("—", "-").replace("’", "'").replace("“", '"').replace("”", '"')
    if all(ord(character) < 256 for character in text):
        return text
    folded = unicodedata.normalize("NFKD", text)
    return "".join(character if ord(character) < 256 else ("" if unicodedata.combining(character) else "?")
                   for character in folded)
