"""Where the API kit keeps Idempotency-Key records: IdempotencyRecord rows in the public schema.

config.api.idempotency decides what a retry gets; this store only reads and writes the rows. The API kit
imports no app, so it loads this class by name from settings.API_IDEMPOTENCY_STORE.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction

from tenants.models import IdempotencyRecord, Tenant

State = IdempotencyRecord.State


class IdempotencyStore:
    def claim(self, *, tenant: Tenant, caller: str, key: str, fingerprint: str, now: datetime,
              expires_at: datetime) -> tuple[IdempotencyRecord | None, bool]:
        """Insert the in-progress record and return (it, True), or (the existing one, False). (None, False)
        when the request that held the key failed and let it go between our insert and our read. Committed at
        once so a concurrent retry sees it (requests run in autocommit)."""
        mine = IdempotencyRecord.objects.filter(tenant=tenant, caller=caller, key=key)
        mine.filter(expires_at__lte=now).delete()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    tenant=tenant, caller=caller, key=key, request_fingerprint=fingerprint, started_at=now,
                    expires_at=expires_at,
                )
            return record, True
        except IntegrityError:
            return mine.first(), False

    def in_progress(self, record: IdempotencyRecord) -> bool:
        return record.state == State.IN_PROGRESS

    def take_over(self, record: IdempotencyRecord, *, stale_before: datetime, now: datetime,
                  expires_at: datetime) -> bool:
        """Make an in-progress record started before `stale_before` ours, restarting it at `now`. One guarded
        UPDATE: of retries racing for it, the first to update wins and the others no longer match."""
        taken = IdempotencyRecord.objects.filter(
            pk=record.pk, state=State.IN_PROGRESS, started_at__lte=stale_before,
        ).update(started_at=now, expires_at=expires_at)
        if taken:
            record.started_at = now
        return bool(taken)

    def complete(self, record: IdempotencyRecord, *, response_status: int, response_body: str,
                 secret_withheld: bool) -> bool:
        """Store the response; False when the record is no longer ours (a retry took it over)."""
        return bool(_owned(record).update(state=State.COMPLETED, response_status=response_status,
                                          response_body=response_body, secret_withheld=secret_withheld))

    def release(self, record: IdempotencyRecord) -> None:
        """Let the key go (the request failed), unless a retry took the record over."""
        _owned(record).delete()

    def reload(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        return IdempotencyRecord.objects.filter(pk=record.pk).first()


def _owned(record: IdempotencyRecord):
    """The record as long as it is still ours: filtered on the start time we own, so once a retry has taken it
    over this matches nothing."""
    return IdempotencyRecord.objects.filter(pk=record.pk, started_at=record.started_at)
