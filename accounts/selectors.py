"""Reads on the current tenant's team (run inside the tenant's schema)."""

from allauth.account.models import EmailAddress
from django.db import connection
from django.db.models import F, QuerySet

from accounts.models import Invitation, User

MEMBER_COUNT_CHUNK = 500


def member_list() -> QuerySet[User]:
    """Active staff, newest first; `created_at` aliases date_joined so every list paginates the same way."""
    return User.objects.filter(is_active=True).annotate(created_at=F("date_joined"))


def member_get(*, member_id: int) -> User | None:
    return User.objects.filter(pk=member_id, is_active=True).first()


def invitation_open_list() -> QuerySet[Invitation]:
    return Invitation.objects.filter(accepted_at__isnull=True, revoked_at__isnull=True).select_related("invited_by")


def invitation_get(*, invitation_id: int) -> Invitation | None:
    return Invitation.objects.filter(pk=invitation_id).first()


def owner_count() -> int:
    return User.objects.filter(role="owner", is_active=True).count()


def email_primary_unverified(*, user: User) -> EmailAddress | None:
    """The user's primary email address while it is unconfirmed (allauth's record), else None."""
    return EmailAddress.objects.filter(user=user, primary=True, verified=False).first()


def member_emails(*, roles: tuple[str, ...]) -> list[str]:
    """The email addresses of the active staff with one of `roles` (in the current schema), oldest member first."""
    return list(User.objects.filter(role__in=roles, is_active=True).order_by("date_joined", "pk")
                .values_list("email", flat=True))


def member_counts(*, schema_names: list[str]) -> dict[str, int]:
    """Active staff per tenant schema, for many tenants at once: one query per MEMBER_COUNT_CHUNK schemas (a
    UNION ALL of counts) instead of entering each schema in turn, which costs a round trip per tenant. Schemas
    that do not exist are left out of the answer. Run from the public schema."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s)", [list(schema_names)])
        existing = sorted(row[0] for row in cursor.fetchall())
        counts = {}
        table = connection.ops.quote_name(User._meta.db_table)
        for at in range(0, len(existing), MEMBER_COUNT_CHUNK):
            chunk = existing[at:at + MEMBER_COUNT_CHUNK]
            cursor.execute(" UNION ALL ".join(
                f"SELECT %s, count(*) FROM {connection.ops.quote_name(schema)}.{table} WHERE is_active"
                for schema in chunk), chunk)
            counts.update(cursor.fetchall())
    return counts
