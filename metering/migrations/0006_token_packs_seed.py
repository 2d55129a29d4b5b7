"""The token packs ops start with: $0.10 per 1K tokens, in two sizes. Ops change or add packs in the admin."""

from decimal import Decimal

from django.db import migrations

PACKS = [
    {"code": "tokens-100k", "name": "100K tokens", "tokens": 100_000, "price": Decimal("10.00"), "currency": "USD"},
    {"code": "tokens-1m", "name": "1M tokens", "tokens": 1_000_000, "price": Decimal("100.00"), "currency": "USD"},
]


def packs_seed(apps, schema_editor):
    TokenPack = apps.get_model("metering", "TokenPack")
    for spec in PACKS:
        TokenPack.objects.get_or_create(code=spec["code"], defaults=spec)


def packs_unseed(apps, schema_editor):
    apps.get_model("metering", "TokenPack").objects.filter(code__in=[spec["code"] for spec in PACKS],
                                                           purchases__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("metering", "0005_wallets")]

    operations = [migrations.RunPython(packs_seed, packs_unseed)]
