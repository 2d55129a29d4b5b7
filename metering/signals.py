from django.db import connection

from metering.services import usage_partitions_ensure


def partitions_after_migrate(sender, **kwargs) -> None:
    """Create the usage partitions around today whenever the public schema is migrated."""
    if connection.schema_name != "public":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('metering_usageevent')")
        if cursor.fetchone()[0] is None:
            return
    usage_partitions_ensure()
