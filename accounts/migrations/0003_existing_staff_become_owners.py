"""Staff created before roles existed were all tenant owners (provisioning made them); give them that role.
Ops accounts in the public schema keep no role."""

from django.db import migrations


def owners_backfill(apps, schema_editor):
    if schema_editor.connection.schema_name == "public":
        return
    User = apps.get_model("accounts", "User")
    User.objects.filter(role="").update(role="owner")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_user_role_invitation")]

    operations = [migrations.RunPython(owners_backfill, migrations.RunPython.noop)]
