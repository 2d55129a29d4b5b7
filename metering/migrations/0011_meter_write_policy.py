"""Placeholder reserved for the hardening work on the meters (platform-owned, negative values, frozen definitions)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("metering", "0010_wallet_grant_links"),
    ]

    operations = []
