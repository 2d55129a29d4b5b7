"""Notifications of category domain_alert: a custom or sender domain whose DNS records stopped checking out, or
checked out again."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('notifications', '0003_low_balance_category'),
    ]

    operations = [
        migrations.AlterField(
            model_name='notification',
            name='category',
            field=models.CharField(choices=[('welcome', 'Welcome'), ('trial_ending', 'Trial ending'), ('invoice_issued', 'Invoice issued'), ('payment_succeeded', 'Payment succeeded'), ('payment_failed', 'Payment failed'), ('action_required', 'Payment needs your action'), ('card_expiring', 'Card expiring'), ('subscription_changed', 'Subscription changed'), ('quote_sent', 'Service quotes'), ('usage_alert', 'Usage alerts'), ('low_balance', 'Low AI-token balance'), ('upgrade_suggestion', 'Upgrade suggestions'), ('ai_cost_alert', 'Platform AI cost'), ('payment_alert', 'Disputes and failed refunds'), ('domain_alert', 'Domains')], max_length=30),
        ),
        migrations.AlterField(
            model_name='notificationemail',
            name='category',
            field=models.CharField(choices=[('welcome', 'Welcome'), ('trial_ending', 'Trial ending'), ('invoice_issued', 'Invoice issued'), ('payment_succeeded', 'Payment succeeded'), ('payment_failed', 'Payment failed'), ('action_required', 'Payment needs your action'), ('card_expiring', 'Card expiring'), ('subscription_changed', 'Subscription changed'), ('quote_sent', 'Service quotes'), ('usage_alert', 'Usage alerts'), ('low_balance', 'Low AI-token balance'), ('upgrade_suggestion', 'Upgrade suggestions'), ('ai_cost_alert', 'Platform AI cost'), ('payment_alert', 'Disputes and failed refunds'), ('domain_alert', 'Domains')], max_length=30),
        ),
        migrations.AlterField(
            model_name='notificationpreference',
            name='category',
            field=models.CharField(choices=[('welcome', 'Welcome'), ('trial_ending', 'Trial ending'), ('invoice_issued', 'Invoice issued'), ('payment_succeeded', 'Payment succeeded'), ('payment_failed', 'Payment failed'), ('action_required', 'Payment needs your action'), ('card_expiring', 'Card expiring'), ('subscription_changed', 'Subscription changed'), ('quote_sent', 'Service quotes'), ('usage_alert', 'Usage alerts'), ('low_balance', 'Low AI-token balance'), ('upgrade_suggestion', 'Upgrade suggestions'), ('ai_cost_alert', 'Platform AI cost'), ('payment_alert', 'Disputes and failed refunds'), ('domain_alert', 'Domains')], max_length=30),
        ),
    ]
