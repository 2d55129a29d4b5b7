"""Admin: see affiliates/admin/__init__.py."""
