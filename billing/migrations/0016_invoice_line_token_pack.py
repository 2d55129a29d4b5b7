"""Invoice lines of kind token_pack: the line a token-pack order is sold on, so revenue analytics count it as
AI-token revenue. Lines written before keep their kind one_time (an issued invoice's lines never change)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0015_refunds_disputes_reconciliation'),
    ]

    operations = [
        migrations.AlterField(
            model_name='invoiceline',
            name='kind',
            field=models.CharField(choices=[('fixed', 'Fixed fee'), ('seats', 'Seats'), ('usage', 'Usage'), ('minimum', 'Minimum'), ('proration', 'Proration'), ('discount', 'Discount'), ('one_time', 'One-time'), ('wallet_shortfall', 'AI tokens owed'), ('late_usage', 'Late usage'), ('token_pack', 'AI-token pack')], max_length=20),
        ),
        migrations.AlterField(
            model_name='pendinginvoiceitem',
            name='kind',
            field=models.CharField(choices=[('fixed', 'Fixed fee'), ('seats', 'Seats'), ('usage', 'Usage'), ('minimum', 'Minimum'), ('proration', 'Proration'), ('discount', 'Discount'), ('one_time', 'One-time'), ('wallet_shortfall', 'AI tokens owed'), ('late_usage', 'Late usage'), ('token_pack', 'AI-token pack')], max_length=20),
        ),
    ]
