"""Writes on AI-token wallets: debits (the hot path), credits, token purchases, monthly grants and their expiry,
the low-balance email.

Every balance change writes its ledger entry in the same transaction, and the balance never goes below zero:
the database refuses it (CHECK balance >= 0), and a debit is one guarded `UPDATE ... WHERE balance >= n`, so
concurrent debits cannot overdraw and no lock is ever taken in Python on the hot path.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import date, datetime, time
from datetime import timezone as dt_timezone
from functools import partial

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django_tenants.utils import schema_context

from billing.selectors import entitlements_for
from metering.models import TokenPack, TokenPurchase, Wallet, WalletEntry, WalletFeature
from metering.selectors import month_bounds
from tenants.exceptions import TenantError
from tenants.models import Tenant
from tenants.urls_for import tenant_url

logger = logging.getLogger(__name__)

Kind = WalletEntry.Kind
CREDIT_KINDS = frozenset({Kind.GRANT, Kind.PURCHASE, Kind.REFUND, Kind.ADJUSTMENT})
# A bigint holds 9.2e18; refusing more than 1e15 tokens per entry keeps every sum far from overflowing.
MAX_TOKENS = 10**15
KEY_CONSTRAINT = "wallet_entry_key_once"


# --- Domain errors (config/api/errors.py maps TenantError by its .status and .code) -------------------------

class WalletError(TenantError):
    code = "wallet_error"
    status = 400


class InsufficientBalance(WalletError):
    code = "insufficient_balance"
    status = 402

    def __init__(self, *, balance: int, requested: int):
        super().__init__(f"Not enough AI tokens: {requested:,} needed, {balance:,} available.")
        self.balance = balance
        self.requested = requested


class IdempotencyKeyReused(WalletError):
    code = "idempotency_key_reused"
    status = 409


class PurchaseNotPending(WalletError):
    code = "purchase_not_pending"
    status = 409


class TokenPackUnavailable(WalletError):
    code = "token_pack_unavailable"
    status = 400


# --- Debits ----------------------------------------------------------------------------------------

# One statement: the guarded UPDATE takes the tokens only if the balance covers them and the key is new, and
# the ledger row is inserted from what it returned. Outside a transaction the statement is its own
# transaction, so the wallet's row lock is held for the statement and its commit only, never across a round
# trip to Python: that is what lets one wallet take thousands of debits a second. A concurrent debit with the
# same key (not yet visible to NOT EXISTS) makes the INSERT violate wallet_entry_key_once, which undoes the
# UPDATE with it.
DEBIT_SQL = """
WITH debited AS (
    UPDATE metering_wallet AS wallet
    SET balance = wallet.balance - %(tokens)s, updated_at = %(now)s
    WHERE wallet.tenant_id = %(tenant_id)s AND wallet.balance >= %(tokens)s
      AND NOT EXISTS (SELECT 1 FROM metering_walletentry AS seen
                      WHERE seen.wallet_id = wallet.id AND seen.idempotency_key = %(key)s)
    RETURNING wallet.id, wallet.balance, wallet.low_balance_threshold
),
entry AS (
    INSERT INTO metering_walletentry
        (wallet_id, kind, tokens, balance_after, reason, feature, idempotency_key, created_by, created_at)
    SELECT id, 'usage_debit', -%(tokens)s, balance, %(reason)s, %(feature)s, %(key)s, %(created_by)s, %(now)s
    FROM debited
    RETURNING id, wallet_id
)
SELECT entry.id, entry.wallet_id, debited.balance, debited.low_balance_threshold FROM entry, debited
"""


def wallet_debit(*, tenant: Tenant, tokens: int, feature: str, reason: str, idempotency_key: str,
                 created_by: str = "", now: datetime | None = None) -> WalletEntry:
    """Take `tokens` from the tenant's wallet for `feature` and return the usage_debit entry.

    Raises InsufficientBalance (and changes nothing) when the balance does not cover them, a tenant without a
    wallet included. A retry with the same idempotency key changes nothing and returns the first entry; the
    same key for a different debit raises IdempotencyKeyReused. When the debit takes the balance from above
    the tenant's low-balance threshold to at or below it, the owners are emailed once it has committed.

    Not @transaction.atomic on purpose: the work is one SQL statement, which is atomic by itself (see
    DEBIT_SQL). Called inside a transaction, it runs in a savepoint so that a racing duplicate key does not
    break the caller's transaction."""
    _tokens_check(tokens, positive=True)
    if feature not in WalletFeature.values:
        raise ValueError(f"Unknown feature {feature!r}; use one of {', '.join(WalletFeature.values)}.")
    now = now or timezone.now()
    params = {"tenant_id": tenant.pk, "tokens": tokens, "feature": feature, "reason": reason[:255],
              "key": idempotency_key, "created_by": created_by[:255], "now": now}
    try:
        if connection.in_atomic_block:
            with transaction.atomic():
                row = _debit_execute(params)
        else:
            row = _debit_execute(params)
    except IntegrityError as error:
        if _constraint_name(error) != KEY_CONSTRAINT:
            raise
        row = None  # a concurrent debit with this key committed first: answer with its entry, below
    if row is None:
        return _debit_not_applied(tenant=tenant, tokens=tokens, feature=feature, idempotency_key=idempotency_key)
    entry_id, wallet_id, balance, threshold = row
    if threshold is not None and balance <= threshold < balance + tokens:
        transaction.on_commit(partial(wallet_low_balance_email_send, tenant=tenant, balance=balance,
                                      threshold=threshold), robust=True)
    # The entry as stored, without reading it back (marked as loaded, as Model.from_db would).
    entry = WalletEntry(id=entry_id, wallet_id=wallet_id, kind=Kind.USAGE_DEBIT, tokens=-tokens,
                        balance_after=balance, reason=params["reason"], feature=feature,
                        idempotency_key=idempotency_key, created_by=params["created_by"], created_at=now)
    entry._state.adding, entry._state.db = False, connection.alias
    return entry


def _debit_execute(params: dict) -> tuple | None:
    with connection.cursor() as cursor:
        cursor.execute(DEBIT_SQL, params)
        return cursor.fetchone()


def _debit_not_applied(*, tenant: Tenant, tokens: int, feature: str, idempotency_key: str) -> WalletEntry:
    """Why the guarded UPDATE took nothing: a key seen before (a retry), or a balance that does not cover it."""
    previous = WalletEntry.objects.filter(wallet__tenant=tenant, idempotency_key=idempotency_key).first()
    if previous is not None:
        if (previous.kind, previous.tokens, previous.feature) != (Kind.USAGE_DEBIT, -tokens, feature):
            raise IdempotencyKeyReused("This idempotency key was already used for a different wallet entry.")
        return previous
    balance = Wallet.objects.filter(tenant=tenant).values_list("balance", flat=True).first() or 0
    raise InsufficientBalance(balance=balance, requested=tokens)


def _constraint_name(error: IntegrityError) -> str | None:
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)


# --- Credits ---------------------------------------------------------------------------------------

@transaction.atomic
def wallet_credit(*, tenant: Tenant, tokens: int, kind: str, reason: str, idempotency_key: str,
                  expires_at: datetime | None = None, created_by: str = "system",
                  now: datetime | None = None) -> WalletEntry:
    """Add tokens to the tenant's wallet (creating it if needed) as a grant, purchase, refund or adjustment,
    and return the entry. Adjustments may be negative, never below zero (InsufficientBalance), and need a
    reason; only grants may expire. A retry with the same idempotency key changes nothing and returns the
    first entry."""
    if kind not in CREDIT_KINDS:
        raise ValueError(f"A credit is one of {', '.join(sorted(CREDIT_KINDS))}, not {kind!r}.")
    _tokens_check(tokens, positive=kind != Kind.ADJUSTMENT)
    if expires_at is not None and kind != Kind.GRANT:
        raise ValueError("Only grants expire.")
    if kind == Kind.ADJUSTMENT and not reason.strip():
        raise WalletError("An adjustment needs a reason.", field="reason")
    now = now or timezone.now()
    wallet = _wallet_locked(tenant)
    previous = wallet.entries.filter(idempotency_key=idempotency_key).first()
    if previous is not None:
        if (previous.kind, previous.tokens) != (kind, tokens):
            raise IdempotencyKeyReused("This idempotency key was already used for a different wallet entry.")
        return previous
    balance = wallet.balance + tokens
    if balance < 0:
        raise InsufficientBalance(balance=wallet.balance, requested=-tokens)
    Wallet.objects.filter(pk=wallet.pk).update(balance=balance, updated_at=now)
    return WalletEntry.objects.create(
        wallet=wallet, kind=kind, tokens=tokens, balance_after=balance, reason=reason[:255],
        idempotency_key=idempotency_key, created_by=created_by[:255], created_at=now, expires_at=expires_at,
    )


def wallet_ensure(*, tenant: Tenant) -> Wallet:
    """The tenant's wallet, created empty if it has none (safe when two processes race)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO metering_wallet (tenant_id, balance, created_at, updated_at) VALUES (%s, 0, now(), now()) "
            "ON CONFLICT (tenant_id) DO NOTHING",
            [tenant.pk],
        )
    return Wallet.objects.get(tenant=tenant)


def _wallet_locked(tenant: Tenant) -> Wallet:
    wallet_ensure(tenant=tenant)
    return Wallet.objects.select_for_update().get(tenant=tenant)


def _tokens_check(tokens: int, *, positive: bool) -> None:
    if isinstance(tokens, bool) or not isinstance(tokens, int):
        raise ValueError("tokens is a whole number.")
    if tokens == 0 or (positive and tokens < 0) or abs(tokens) > MAX_TOKENS:
        raise ValueError(f"tokens must be {'positive' if positive else 'non-zero'} and at most {MAX_TOKENS:,}.")


# --- Settings --------------------------------------------------------------------------------------

@transaction.atomic
def wallet_threshold_set(*, tenant: Tenant, threshold: int | None) -> Wallet:
    """Set (or clear, with None) the balance at or below which a debit emails the owners."""
    if threshold is not None and (isinstance(threshold, bool) or threshold < 0 or threshold > MAX_TOKENS):
        raise WalletError(f"The threshold is a number of tokens from 0 to {MAX_TOKENS:,}.",
                          field="low_balance_threshold")
    wallet = _wallet_locked(tenant)
    wallet.low_balance_threshold = threshold
    wallet.save(update_fields=["low_balance_threshold", "updated_at"])
    return wallet


# --- Token purchases -------------------------------------------------------------------------------

@transaction.atomic
def token_purchase_create(*, tenant: Tenant, pack: TokenPack, created_by: str) -> TokenPurchase:
    """Order a pack: a pending purchase at the pack's current tokens and price. Ordering a pack that is already
    awaiting payment returns that purchase (a double-clicked Buy makes one order)."""
    pack = TokenPack.objects.filter(pk=pack.pk, active=True).first()
    if pack is None:
        raise TokenPackUnavailable("This token pack is no longer offered.", field="pack")
    pending = TokenPurchase.objects.filter(tenant=tenant, pack=pack, status=TokenPurchase.Status.PENDING)
    existing = pending.first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return TokenPurchase.objects.create(tenant=tenant, pack=pack, tokens=pack.tokens, price=pack.price,
                                                currency=pack.currency, created_by=created_by[:255])
    except IntegrityError:
        # The same order from a concurrent request won the partial unique constraint.
        return pending.get()


@transaction.atomic
def token_purchase_mark_paid(*, purchase: TokenPurchase, actor) -> TokenPurchase:
    """Ops received the payment: credit the tokens, exactly once. Refused unless the purchase is pending; the
    row lock makes a second, concurrent mark wait and then see it paid, and the credit's idempotency key
    (purchase:<id>) would absorb even a credit attempted twice."""
    purchase = TokenPurchase.objects.select_for_update().select_related("pack").get(pk=purchase.pk)
    if purchase.status != TokenPurchase.Status.PENDING:
        raise PurchaseNotPending(f"Purchase #{purchase.pk} is {purchase.get_status_display().lower()}, not pending.")
    now = timezone.now()
    wallet_credit(tenant=purchase.tenant, tokens=purchase.tokens, kind=Kind.PURCHASE,
                  reason=f"Purchase #{purchase.pk}: {purchase.pack.name} ({purchase.price} {purchase.currency})",
                  idempotency_key=f"purchase:{purchase.pk}", created_by=_actor_name(actor), now=now)
    purchase.status = TokenPurchase.Status.PAID
    purchase.paid_at = now
    purchase.save(update_fields=["status", "paid_at"])
    return purchase


@transaction.atomic
def token_purchase_cancel(*, purchase: TokenPurchase, actor) -> TokenPurchase:
    """Withdraw an order that was not paid (by the tenant on its Wallet page, or by ops)."""
    purchase = TokenPurchase.objects.select_for_update().get(pk=purchase.pk)
    if purchase.status != TokenPurchase.Status.PENDING:
        raise PurchaseNotPending(f"Purchase #{purchase.pk} is {purchase.get_status_display().lower()}, not pending.")
    purchase.status = TokenPurchase.Status.CANCELLED
    purchase.save(update_fields=["status"])
    logger.info("token_purchase_cancelled purchase=%s tenant=%s actor=%s", purchase.pk, purchase.tenant_id,
                _actor_name(actor))
    return purchase


def _actor_name(actor) -> str:
    return getattr(actor, "email", None) or str(actor)


# --- Monthly grants and their expiry ------------------------------------------------------------------

def wallet_monthly_grant(*, tenant: Tenant, period_start: date | datetime) -> WalletEntry | None:
    """Credit the plan's monthly AI-token allowance for the calendar month (UTC) of period_start, as a grant
    that expires when the month ends. Once per month (idempotency key grant:<yyyy-mm>); None when the plan
    has no allowance."""
    if not isinstance(period_start, datetime):
        period_start = datetime.combine(period_start, time.min, tzinfo=dt_timezone.utc)
    start, end = month_bounds(period_start)
    entitlements = entitlements_for(tenant)
    if entitlements.monthly_ai_token_allowance <= 0:
        return None
    return wallet_credit(tenant=tenant, tokens=entitlements.monthly_ai_token_allowance, kind=Kind.GRANT,
                         reason=f"Monthly allowance {start:%Y-%m} ({entitlements.plan_name} plan)",
                         idempotency_key=f"grant:{start:%Y-%m}", expires_at=end)


def wallet_monthly_grants_run(*, now: datetime | None = None) -> int:
    """Grant this month's allowance to every active tenant that has not had it yet (the beat job; running it
    again, or daily, grants nothing twice and catches tenants that signed up or were reactivated since).
    Returns how many grants were written."""
    now = now or timezone.now()
    start, _ = month_bounds(now)
    # Grants are few and partially indexed, so this is cheap even with a large ledger.
    granted_already = set(WalletEntry.objects.filter(kind=Kind.GRANT, idempotency_key=f"grant:{start:%Y-%m}")
                          .values_list("wallet__tenant_id", flat=True))
    tenants = (Tenant.objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME).filter(status=Tenant.Status.ACTIVE)
               .exclude(pk__in=granted_already).order_by("pk"))
    granted = 0
    for tenant in tenants.iterator():
        try:
            entry = wallet_monthly_grant(tenant=tenant, period_start=start)
        except Exception:  # one tenant's failure must not cost every later tenant its allowance
            logger.exception("wallet_monthly_grant_failed tenant=%s", tenant.pk)
            continue
        granted += entry is not None
    return granted


def wallet_grants_expire(*, now: datetime) -> int:
    """Write an `expiry` entry for the unused part of every grant whose expires_at has passed; returns how many
    grants it closed. Safe to run any number of times (key expiry:<grant id>).

    The rule for "unused": tokens are spent in a fixed order, and a grant's unused part is what that order
    leaves of it. Every outgoing entry (usage, or a negative adjustment) takes first from the open grants,
    the one expiring soonest first, and only then from the other tokens (purchases, refunds, positive
    adjustments, grants without an expiry). So a tenant's allowance is used before anything it paid for, and
    an expiry never takes a purchased token. Examples: grant 100 + purchase 50, usage 30 -> 70 expire, 50
    stay; grant 100 + purchase 50, usage 120 -> nothing expires, 30 stay.

    The order is the ledger's (entry ids, which follow the wallet's row lock). A grant still counts as open
    until its expiry entry is written, so usage in the moments between expires_at and this job's run still
    comes out of it: the job runs often (hourly), and that margin only ever favours the tenant."""
    closed = 0
    for wallet_id in _wallets_with_grants_due(now):
        closed += _wallet_grants_expire(wallet_id=wallet_id, now=now)
    return closed


def _wallets_with_grants_due(now: datetime) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT DISTINCT grant_entry.wallet_id FROM metering_walletentry AS grant_entry
            WHERE grant_entry.kind = 'grant' AND grant_entry.expires_at <= %s
              AND NOT EXISTS (SELECT 1 FROM metering_walletentry AS expiry
                              WHERE expiry.wallet_id = grant_entry.wallet_id
                                AND expiry.idempotency_key = 'expiry:' || grant_entry.id)
            ORDER BY 1
            """,
            [now],
        )
        return [row[0] for row in cursor.fetchall()]


@dataclass
class _OpenGrant:
    entry_id: int
    expires_at: datetime
    reason: str
    remaining: int


@transaction.atomic
def _wallet_grants_expire(*, wallet_id: int, now: datetime) -> int:
    # The wallet's row lock keeps debits out while the remainders are computed and written.
    wallet = Wallet.objects.select_for_update().get(pk=wallet_id)
    balance = wallet.balance
    due = sorted((grant for grant in _open_grants(wallet_id).values() if grant.expires_at <= now),
                 key=lambda grant: (grant.expires_at, grant.entry_id))
    entries = []
    for grant in due:
        expired = min(grant.remaining, balance)
        balance -= expired
        entries.append(WalletEntry(
            wallet_id=wallet_id, kind=Kind.EXPIRY, tokens=-expired, balance_after=balance,
            reason=f"Unused part of grant #{grant.entry_id} expired ({grant.reason})"[:255],
            idempotency_key=f"expiry:{grant.entry_id}", created_by="system", created_at=now,
        ))
    if entries:
        WalletEntry.objects.bulk_create(entries)
        Wallet.objects.filter(pk=wallet_id).update(balance=balance, updated_at=now)
    return len(entries)


def _open_grants(wallet_id: int) -> dict[int, _OpenGrant]:
    """The wallet's grants without an expiry entry, each with what the spending order leaves of it.

    Replays the ledger from the last entry at which no grant was open (nothing before it can change what is
    left of an open grant), with consecutive usage entries summed in SQL, so the replay is one row per credit
    rather than one per debit."""
    grants = _grant_intervals(wallet_id)
    start = _open_block_start(grants)
    if start is None:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(max(id), 0) FROM metering_walletentry WHERE wallet_id = %s AND id < %s",
            [wallet_id, start],
        )
        (checkpoint_id,) = cursor.fetchone()
        cursor.execute(
            """
            WITH ledger AS (
                SELECT id, kind, tokens, expires_at, idempotency_key, reason,
                       count(*) FILTER (WHERE kind <> 'usage_debit') OVER (ORDER BY id) AS segment
                FROM metering_walletentry WHERE wallet_id = %s AND id > %s
            )
            SELECT id, kind, tokens, expires_at, idempotency_key, reason FROM ledger WHERE kind <> 'usage_debit'
            UNION ALL
            SELECT max(id), 'usage_debit', sum(tokens)::bigint, NULL::timestamptz, NULL::varchar, NULL::varchar
            FROM ledger WHERE kind = 'usage_debit' GROUP BY segment
            ORDER BY 1
            """,
            [wallet_id, checkpoint_id],
        )
        ledger = cursor.fetchall()
    open_grants: dict[int, _OpenGrant] = {}
    for entry_id, kind, tokens, expires_at, key, reason in ledger:
        if kind == Kind.GRANT and expires_at is not None:
            open_grants[entry_id] = _OpenGrant(entry_id=entry_id, expires_at=expires_at, reason=reason,
                                               remaining=tokens)
        elif kind == Kind.EXPIRY:
            open_grants.pop(int(key.split(":", 1)[1]), None)
        elif tokens < 0:
            # Taken from the open grants, soonest expiry first; whatever they cannot cover came out of the
            # other tokens, which never expire and so need no tracking here.
            taking = -tokens
            for grant in sorted(open_grants.values(), key=lambda grant: (grant.expires_at, grant.entry_id)):
                used = min(grant.remaining, taking)
                grant.remaining -= used
                taking -= used
    return open_grants


def _grant_intervals(wallet_id: int) -> list[tuple[int, int | None]]:
    """Each expiring grant as (its entry id, its expiry entry's id or None while open)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT grant_entry.id, expiry.id FROM metering_walletentry AS grant_entry
            LEFT JOIN metering_walletentry AS expiry
                   ON expiry.wallet_id = grant_entry.wallet_id AND expiry.idempotency_key = 'expiry:' || grant_entry.id
            WHERE grant_entry.wallet_id = %s AND grant_entry.kind = 'grant' AND grant_entry.expires_at IS NOT NULL
            ORDER BY grant_entry.id
            """,
            [wallet_id],
        )
        return cursor.fetchall()


def _open_block_start(grants: list[tuple[int, int | None]]) -> int | None:
    """The first entry id of the last run of overlapping grant lifetimes, if that run holds an open grant.
    Before it, every grant was expired, so the replay can start there."""
    block_start, block_end = None, 0.0
    for granted, expired in grants:
        end = expired if expired is not None else math.inf
        if block_start is None or granted >= block_end:
            block_start, block_end = granted, end
        else:
            block_end = max(block_end, end)
    return block_start if block_end == math.inf else None


# --- The low-balance email -------------------------------------------------------------------------------

def wallet_low_balance_email_send(*, tenant: Tenant, balance: int, threshold: int) -> int:
    """Email the tenant's owners that a debit took the balance to or below their threshold; returns how many
    owners were written to. Called once the debit has committed."""
    from accounts.models import Role, User

    with schema_context(tenant.schema_name):
        owners = list(User.objects.filter(role=Role.OWNER, is_active=True).values_list("email", flat=True))
    if not owners:
        return 0
    context = {"workspace_name": tenant.name, "balance": f"{balance:,}", "threshold": f"{threshold:,}",
               "wallet_url": tenant_url(tenant, "/wallet/")}
    message = EmailMultiAlternatives(
        subject=f"{tenant.name}: your AI token balance is low ({balance:,} left)",
        body=render_to_string("metering/email/low_balance.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL, to=owners,
    )
    message.attach_alternative(render_to_string("metering/email/low_balance.html", context), "text/html")
    message.send()
    logger.info("wallet_low_balance_emailed tenant=%s balance=%s threshold=%s owners=%s", tenant.pk, balance,
                threshold, len(owners))
    return len(owners)
