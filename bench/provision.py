"""Provisioning speed: 20 signups in a row (p50/p95 seconds each), then a no-op migrate_schemas over 200 tenants
(the deploy with nothing to migrate: public and template schemas migrated, every tenant schema compared with the
template and skipped), as seconds in all and milliseconds per tenant, and what the comparison alone costs per
tenant (the part that grows with the number of tenants; the rest is the public and template schemas' migrate).

Run with `./dev bench provision`. Works on its own copy of the migrated test template database.
Prints one line per figure: `name: value unit`.
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import override_settings  # noqa: E402

from tenants.migration_state import schemas_migrated_like_template  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import tenant_provision  # noqa: E402
from tests.support.database import bench_database  # noqa: E402

SIGNUPS = 20
TENANTS_FOR_MIGRATE = 200
PASSWORD = "bench-password-2026"


def provision(index: int) -> float:
    started = time.perf_counter()
    tenant_provision(name=f"Bench {index}", slug=f"bench-{index}", owner_email=f"owner{index}@bench.test",
                     owner_password=PASSWORD)
    return time.perf_counter() - started


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    with bench_database("tollgate_bench"):
        # Production password hashing: a signup's time includes hashing the owner's password.
        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.Argon2PasswordHasher"]):
            timings = [provision(index) for index in range(SIGNUPS)]
        existing = Tenant.objects.exclude(schema_name="public").count()
        for index in range(SIGNUPS, SIGNUPS + TENANTS_FOR_MIGRATE - existing):
            provision(index)
        tenant_count = Tenant.objects.exclude(schema_name="public").count()
        started = time.perf_counter()
        # As `manage.py migrate` runs on a deploy: system checks included.
        call_command("migrate_schemas", interactive=False, verbosity=0, skip_checks=False)
        migrate_seconds = time.perf_counter() - started
        schema_names = list(Tenant.objects.exclude(schema_name="public").values_list("schema_name", flat=True))
        started = time.perf_counter()
        schemas_migrated_like_template(schema_names=schema_names, template=settings.TENANT_BASE_SCHEMA)
        compare_seconds = time.perf_counter() - started
    print(f"provision_p50_s: {statistics.median(timings):.3f} s")
    print(f"provision_p95_s: {percentile(timings, 0.95):.3f} s")
    print(f"provision_max_s: {max(timings):.3f} s")
    print(f"migrate_schemas_noop_{tenant_count}_tenants_s: {migrate_seconds:.2f} s")
    print(f"migrate_schemas_noop_per_tenant_ms: {migrate_seconds * 1000 / tenant_count:.1f} ms")
    print(f"migrate_schemas_compare_per_tenant_ms: {compare_seconds * 1000 / tenant_count:.2f} ms")


if __name__ == "__main__":
    main()
