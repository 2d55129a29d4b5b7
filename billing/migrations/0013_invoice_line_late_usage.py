"""Invoice lines of kind late_usage: usage of an earlier period that arrived after the billing run invoiced it."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0012_dunning'),
    ]

    operations = [
        migrations.AlterField(
            model_name='invoiceline',
            name='kind',
            field=models.CharField(choices=[('fixed', 'Fixed fee'), ('seats', 'Seats'), ('usage', 'Usage'), ('minimum', 'Minimum'), ('proration', 'Proration'), ('discount', 'Discount'), ('one_time', 'One-time'), ('wallet_shortfall', 'AI tokens owed'), ('late_usage', 'Late usage')], max_length=20),
        ),
        migrations.AlterField(
            model_name='pendinginvoiceitem',
            name='kind',
            field=models.CharField(choices=[('fixed', 'Fixed fee'), ('seats', 'Seats'), ('usage', 'Usage'), ('minimum', 'Minimum'), ('proration', 'Proration'), ('discount', 'Discount'), ('one_time', 'One-time'), ('wallet_shortfall', 'AI tokens owed'), ('late_usage', 'Late usage')], max_length=20),
        ),
    ]
