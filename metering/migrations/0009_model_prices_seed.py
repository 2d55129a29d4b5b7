"""The models the AI API starts with, at Anthropic's published list prices (USD per million tokens: input,
output, 5-minute cache write, cache read) when they were seeded. Ops change prices or add models in the admin."""

from decimal import Decimal

from django.db import migrations

# Anthropic list prices, USD per MTok: input / output / cache write / cache read.
PRICES = [
    {"model": "claude-sonnet-4-6", "display_name": "Claude Sonnet 4.6", "input_per_mtok": Decimal("3"),
     "output_per_mtok": Decimal("15"), "cache_write_per_mtok": Decimal("3.75"), "cache_read_per_mtok": Decimal("0.30")},
    {"model": "claude-haiku-4-5", "display_name": "Claude Haiku 4.5", "input_per_mtok": Decimal("1"),
     "output_per_mtok": Decimal("5"), "cache_write_per_mtok": Decimal("1.25"), "cache_read_per_mtok": Decimal("0.10")},
    {"model": "claude-opus-4-1", "display_name": "Claude Opus 4.1", "input_per_mtok": Decimal("15"),
     "output_per_mtok": Decimal("75"), "cache_write_per_mtok": Decimal("18.75"), "cache_read_per_mtok": Decimal("1.50")},
]


def prices_seed(apps, schema_editor):
    ModelPrice = apps.get_model("metering", "ModelPrice")
    for spec in PRICES:
        ModelPrice.objects.get_or_create(model=spec["model"], defaults=spec)


def prices_unseed(apps, schema_editor):
    apps.get_model("metering", "ModelPrice").objects.filter(model__in=[spec["model"] for spec in PRICES]).delete()


class Migration(migrations.Migration):
    dependencies = [("metering", "0008_model_prices")]

    operations = [migrations.RunPython(prices_seed, prices_unseed)]
