"""Reseller portals: an agency's clients on `<client-slug>.<reseller-domain>`, and the agency's branded public
pages (landing, pricing, signup) on its own custom domain."""
