"""The plan flag that lets a white-label brand hide "Powered by Tollgate"; the seeded White-Label plan has it."""

from django.db import migrations, models


def white_label_plan_flag(apps, schema_editor):
    apps.get_model("billing", "Plan").objects.filter(code="white-label").update(remove_powered_by=True)


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0018_lost_charges'),
    ]

    operations = [
        migrations.AddField(
            model_name='plan',
            name='remove_powered_by',
            field=models.BooleanField(default=False, help_text='White-label: the brand may hide "Powered by Tollgate" (pages, emails, invoices).'),
        ),
        migrations.RunPython(white_label_plan_flag, migrations.RunPython.noop),
    ]
