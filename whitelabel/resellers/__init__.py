"""Reseller billing: an agency in reseller mode prices the plans for its clients and invoices them under its brand."""
