"""Who may write a meter and whether it takes negative values: the meters the platform writes itself (the AI
gateway's token meters, API-call tracking, the coach) are closed to tenants' own events, and no seeded meter
accepts negative values."""

from django.db import migrations, models

PLATFORM_METERS = ["api_calls", "ai_input_tokens", "ai_output_tokens", "coach_messages"]


def platform_meters_mark(apps, schema_editor):
    apps.get_model("metering", "Meter").objects.filter(code__in=PLATFORM_METERS).update(platform_owned=True)


class Migration(migrations.Migration):

    dependencies = [
        ("metering", "0010_wallet_grant_links"),
    ]

    operations = [
        migrations.AddField(
            model_name="meter",
            name="platform_owned",
            field=models.BooleanField(
                default=False, help_text="Written only by the platform itself (AI gateway, API-call tracking, coach): "
                                         "tenants' own events to it are refused, so they cannot change what they are "
                                         "billed."),
        ),
        migrations.AddField(
            model_name="meter",
            name="allow_negative",
            field=models.BooleanField(
                default=False, help_text="Accept negative values (e.g. corrections). Off: a negative value is "
                                         "refused, so one event cannot erase recorded usage."),
        ),
        migrations.RunPython(platform_meters_mark, migrations.RunPython.noop),
    ]
