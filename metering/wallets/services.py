"""Writes on AI-token wallets: debits (the hot path), credits, refunds, usage that is owed, token purchases,
monthly grants and their expiry, the low-balance alert.

Every balance change writes its ledger entry in the same transaction, and the balance never goes below zero:
the database refuses it (CHECK balance >= 0), and a debit is one guarded statement, so concurrent debits cannot
overdraw and no lock is ever taken in Python on the hot path.

Allowance and expiry. A wallet has at most one open allowance: what is left of its latest expiring grant
(`Wallet.allowance`, part of the balance). Everything that takes tokens (usage, a negative adjustment, a
repayment) takes them from the open allowance first and only then from the rest, which never expires; each
entry records how much of it was allowance (`grant_tokens`) and which grant that was (`grant`), decided under
the wallet's row lock as the entry is written. A refund names the debit it refunds and gives back to the same
places, the part that never expires first: what it gives back to a grant rejoins that grant's allowance if it
is still open, and expires at once if it is not. So a reservation and its refund leave the allowance as if only
the real usage had been taken, and the allowance can never outlive its grant. When the grant expires, what is
left of the allowance expires (one `expiry` entry, computed in O(1)). A grant with the same expiry as the open
one tops it up; a grant arriving after the open one is due closes it first.

Owed tokens. Usage that was already served and that the balance cannot cover (real usage over a reservation)
is never written off: `wallet_debit_or_owe` takes what the balance has and records the rest as owed
(`Wallet.owed`, the sum of the entries' `owed_tokens`). Every later credit repays the debt first (a
`repayment` entry), so a debt and a positive balance never coexist (a CHECK says so) and nothing can be spent
while anything is owed; what stays owed is for the billing issue to invoice.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time
from datetime import timezone as dt_timezone
from functools import partial

from django.db import IntegrityError, connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from billing.selectors import InvoiceBrief, entitlements_for, invoice_briefs
from config.errors import DomainError
from metering.models import TokenPack, TokenPurchase, Wallet, WalletEntry, WalletFeature
from metering.usage.selectors import month_bounds
from metering.wallets.signals import wallet_balance_fell
from notifications.categories import Category
from notifications.services import Delivery, EmailContent, notify
from tenants.models import Tenant
from tenants.urls_for import tenant_url

logger = logging.getLogger(__name__)

Kind = WalletEntry.Kind
# Refunds are not among them: a refund names its debit (wallet_refund).
CREDIT_KINDS = frozenset({Kind.GRANT, Kind.PURCHASE, Kind.ADJUSTMENT})
# A bigint holds 9.2e18; refusing more than 1e15 tokens per entry keeps every sum far from overflowing.
MAX_TOKENS = 10**15
KEY_CONSTRAINT = "wallet_entry_key_once"
WALLET_PATH = "/wallet/"
BUY_SECTION = "#wallet-buy-title"


# --- Domain errors (config/api/errors.py maps them by their .status and .code) -----------------------------

class WalletError(DomainError):
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


class PurchaseInvoiced(WalletError):
    """The order is sold on an invoice, which settles it: paying the invoice pays it, voiding it cancels it."""

    code = "purchase_invoiced"
    status = 409


# --- Debits ----------------------------------------------------------------------------------------

# One statement: the guarded UPDATE takes the tokens only if the balance covers them and the key is new, the
# open allowance first (an UPDATE re-reads a row another debit just changed, so the allowance it sees is
# current), and notes in last_debit_from_allowance how much of it was allowance, for the ledger row inserted
# from what it returned. Outside a transaction the statement is its own transaction, so the row lock is held
# for the statement and its commit only, never across a round trip to Python: that is what lets one wallet take
# thousands of debits a second. A concurrent debit with the same key (not yet visible to NOT EXISTS) makes the
# INSERT violate wallet_entry_key_once, which undoes the UPDATE with it.
DEBIT_SQL = """
WITH debited AS (
    UPDATE metering_wallet AS wallet
    SET balance = wallet.balance - %(tokens)s,
        last_debit_from_allowance = least(wallet.allowance, %(tokens)s),
        allowance = wallet.allowance - least(wallet.allowance, %(tokens)s),
        updated_at = %(now)s
    WHERE wallet.tenant_id = %(tenant_id)s AND wallet.balance >= %(tokens)s
      AND NOT EXISTS (SELECT 1 FROM metering_walletentry AS seen
                      WHERE seen.wallet_id = wallet.id AND seen.idempotency_key = %(key)s)
    RETURNING wallet.id, wallet.balance, wallet.low_balance_threshold, wallet.recharge_below,
              CASE WHEN wallet.last_debit_from_allowance > 0 THEN wallet.allowance_grant_id END AS grant_id,
              wallet.last_debit_from_allowance AS from_grant
),
entry AS (
    INSERT INTO metering_walletentry
        (wallet_id, kind, tokens, balance_after, reason, feature, idempotency_key, created_by, created_at,
         grant_id, grant_tokens, owed_tokens)
    SELECT id, 'usage_debit', -%(tokens)s, balance, %(reason)s, %(feature)s, %(key)s, %(created_by)s, %(now)s,
           grant_id, -from_grant, 0
    FROM debited
    RETURNING id, wallet_id, grant_id, grant_tokens
)
SELECT entry.id, entry.wallet_id, debited.balance, debited.low_balance_threshold, entry.grant_id,
       entry.grant_tokens, debited.recharge_below
FROM entry, debited
"""


def wallet_debit(*, tenant: Tenant, tokens: int, feature: str, reason: str, idempotency_key: str,
                 created_by: str = "", now: datetime | None = None) -> WalletEntry:
    """Take `tokens` from the tenant's wallet for `feature` and return the usage_debit entry.

    Raises InsufficientBalance (and changes nothing) when the balance does not cover them, a tenant without a
    wallet included. A retry with the same idempotency key changes nothing and returns the first entry; the
    same key for a different debit raises IdempotencyKeyReused. When the debit takes the balance from above
    the tenant's low-balance threshold to at or below it, its billing staff are notified once it has committed
    (wallet_low_balance_notify); when it
    leaves the balance below the armed auto-recharge threshold, or is refused while the balance is below it,
    wallet_balance_fell is sent once it has committed (metering.wallets.signals).

    Not @transaction.atomic on purpose: the work is one SQL statement, which is atomic by itself (see
    DEBIT_SQL). Called inside a transaction, it runs in a savepoint so that a racing duplicate key does not
    break the caller's transaction."""
    _tokens_check(tokens, positive=True)
    _feature_check(feature)
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
    entry_id, wallet_id, balance, threshold, grant_id, grant_tokens, recharge_below = row
    _low_balance_check(tenant=tenant, balance=balance, tokens=tokens, threshold=threshold, entry_id=entry_id)
    _recharge_check(tenant=tenant, balance=balance, recharge_below=recharge_below)
    # The entry as stored, without reading it back (marked as loaded, as Model.from_db would).
    entry = WalletEntry(id=entry_id, wallet_id=wallet_id, kind=Kind.USAGE_DEBIT, tokens=-tokens,
                        balance_after=balance, reason=params["reason"], feature=feature,
                        idempotency_key=idempotency_key, created_by=params["created_by"], created_at=now,
                        grant_id=grant_id, grant_tokens=grant_tokens, owed_tokens=0)
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
    balance, recharge_below = Wallet.objects.filter(tenant=tenant).values_list("balance", "recharge_below").first() \
        or (0, None)
    # A refused debit asks for a recharge too: at a balance too low for any request, no debit would ever succeed.
    _recharge_check(tenant=tenant, balance=balance, recharge_below=recharge_below)
    raise InsufficientBalance(balance=balance, requested=tokens)


def _constraint_name(error: IntegrityError) -> str | None:
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)


@transaction.atomic
def wallet_debit_or_owe(*, tenant: Tenant, tokens: int, feature: str, reason: str, idempotency_key: str,
                        created_by: str = "", now: datetime | None = None) -> WalletEntry:
    """Charge `tokens` of usage that was already served (e.g. real usage over an AI request's reservation):
    what the balance covers is debited (the open allowance first), the rest is owed, in one usage_debit entry
    (`tokens` what was taken, `owed_tokens` the rest). Never refused for want of balance, so nothing used is
    ever written off; the next credit repays the debt first. A retry with the same key returns the first entry."""
    _tokens_check(tokens, positive=True)
    _feature_check(feature)
    now = now or timezone.now()
    wallet = _wallet_locked(tenant)
    previous = wallet.entries.filter(idempotency_key=idempotency_key).first()
    if previous is not None:
        if (previous.kind, previous.owed_tokens - previous.tokens, previous.feature) != (
                Kind.USAGE_DEBIT, tokens, feature):
            raise IdempotencyKeyReused("This idempotency key was already used for a different wallet entry.")
        return previous
    taken = min(wallet.balance, tokens)
    owed = tokens - taken
    entry = _entry_append(wallet, now=now, kind=Kind.USAGE_DEBIT, tokens=-taken, owed_tokens=owed, feature=feature,
                          reason=reason, idempotency_key=idempotency_key, created_by=created_by,
                          **_allowance_draw(wallet, taken))
    _wallet_save(wallet, now=now)
    if owed:
        logger.warning("wallet_usage_owed tenant=%s key=%s tokens=%s owed=%s owed_total=%s", tenant.pk,
                       idempotency_key, tokens, owed, wallet.owed)
    if taken:
        _low_balance_check(tenant=tenant, balance=wallet.balance, tokens=taken, threshold=wallet.low_balance_threshold,
                           entry_id=entry.pk)
    _recharge_check(tenant=tenant, balance=wallet.balance, recharge_below=wallet.recharge_below)
    return entry


# --- Credits and refunds ---------------------------------------------------------------------------

@transaction.atomic
def wallet_credit(*, tenant: Tenant, tokens: int, kind: str, reason: str, idempotency_key: str,
                  expires_at: datetime | None = None, created_by: str = "system",
                  now: datetime | None = None) -> WalletEntry:
    """Add tokens to the tenant's wallet (creating it if needed) as a grant, purchase or adjustment, and return
    the entry. Adjustments may be negative (taken from the open allowance first), never below zero
    (InsufficientBalance), and need a reason; only grants may expire, and an expiring grant opens the wallet's
    allowance or tops up the open one (see the module docstring). Tokens credited repay what is owed first.
    A retry with the same idempotency key changes nothing and returns the first entry."""
    if kind not in CREDIT_KINDS:
        raise ValueError(f"A credit is one of {', '.join(sorted(CREDIT_KINDS))}, not {kind!r}"
                         f"{' (a refund names its debit: wallet_refund)' if kind == Kind.REFUND else ''}.")
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
    common = {"kind": kind, "tokens": tokens, "reason": reason, "idempotency_key": idempotency_key,
              "created_by": created_by}
    if expires_at is not None:
        entry = _grant_append(wallet, now=now, expires_at=expires_at, **common)
    elif tokens < 0:
        if wallet.balance + tokens < 0:
            raise InsufficientBalance(balance=wallet.balance, requested=-tokens)
        entry = _entry_append(wallet, now=now, **common, **_allowance_draw(wallet, -tokens))
    else:
        entry = _entry_append(wallet, now=now, **common)
    if tokens > 0:
        _owed_repay(wallet, credit=entry, up_to=tokens, now=now)
    _wallet_save(wallet, now=now)
    return entry


@transaction.atomic
def wallet_refund(*, tenant: Tenant, debit_key: str, tokens: int, reason: str, idempotency_key: str,
                  created_by: str = "", now: datetime | None = None) -> WalletEntry:
    """Give back `tokens` of the usage debit whose idempotency key is `debit_key` (e.g. the unused part of an
    AI reservation) and return the refund entry, which names that debit.

    The tokens go back where the debit took them from, last taken first: first to the part that never expires,
    then to the debit's grant: into its allowance if that grant is still the open one, else they expire at once
    (an `expiry` entry right after the refund). So a refund never turns allowance into tokens that outlive it.
    Refunds of one debit never add up to more than it took (WalletError). A retry with the same key changes
    nothing and returns the first refund."""
    _tokens_check(tokens, positive=True)
    now = now or timezone.now()
    wallet = _wallet_locked(tenant)
    debit = wallet.entries.filter(idempotency_key=debit_key, kind=Kind.USAGE_DEBIT).first()
    if debit is None:
        raise WalletError(f"There is no usage debit {debit_key!r} to refund.")
    previous = wallet.entries.filter(idempotency_key=idempotency_key).first()
    if previous is not None:
        if (previous.kind, previous.tokens, previous.refund_of_id) != (Kind.REFUND, tokens, debit.pk):
            raise IdempotencyKeyReused("This idempotency key was already used for a different wallet entry.")
        return previous
    refunded = debit.refunds.aggregate(tokens=Sum("tokens"), grant_tokens=Sum("grant_tokens"))
    refunded_tokens, refunded_grant = refunded["tokens"] or 0, refunded["grant_tokens"] or 0
    taken, from_grant = -debit.tokens, -debit.grant_tokens
    if tokens > taken - refunded_tokens:
        raise WalletError(f"A refund cannot give back more than its debit took: {taken - refunded_tokens:,} "
                          f"of debit {debit_key!r} are left to refund, not {tokens:,}.")
    to_rest = min(tokens, (taken - from_grant) - (refunded_tokens - refunded_grant))
    to_grant = tokens - to_rest
    grant_open = to_grant > 0 and debit.grant_id == wallet.allowance_grant_id
    entry = _entry_append(wallet, now=now, kind=Kind.REFUND, tokens=tokens, reason=reason, feature=debit.feature,
                          idempotency_key=idempotency_key, created_by=created_by, refund_of_id=debit.pk,
                          grant_id=debit.grant_id if to_grant else None, grant_tokens=to_grant,
                          allowance=to_grant if grant_open else 0)
    kept = tokens
    if to_grant and not grant_open:
        _entry_append(wallet, now=now, kind=Kind.EXPIRY, tokens=-to_grant, grant_id=debit.grant_id,
                      grant_tokens=-to_grant, allowance=0, idempotency_key=f"expiry:refund:{entry.pk}",
                      created_by="system",
                      reason=f"Refund #{entry.pk} gave {to_grant:,} back to grant #{debit.grant_id}, which has "
                             "expired")
        kept = to_rest
    _owed_repay(wallet, credit=entry, up_to=kept, now=now)
    _wallet_save(wallet, now=now)
    return entry


def wallet_ensure(*, tenant: Tenant) -> Wallet:
    """The tenant's wallet, created empty if it has none (safe when two processes race)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO metering_wallet (tenant_id, balance, allowance, owed, created_at, updated_at) "
            "VALUES (%s, 0, 0, 0, now(), now()) ON CONFLICT (tenant_id) DO NOTHING",
            [tenant.pk],
        )
    return Wallet.objects.get(tenant=tenant)


def _wallet_locked(tenant: Tenant) -> Wallet:
    wallet_ensure(tenant=tenant)
    return Wallet.objects.select_for_update().get(tenant=tenant)


def _wallet_save(wallet: Wallet, *, now: datetime) -> None:
    Wallet.objects.filter(pk=wallet.pk).update(balance=wallet.balance, allowance=wallet.allowance,
                                               allowance_grant_id=wallet.allowance_grant_id, owed=wallet.owed,
                                               updated_at=now)


def _entry_append(wallet: Wallet, *, now: datetime, kind: str, tokens: int, reason: str, idempotency_key: str,
                  created_by: str, allowance: int | None = None, **fields) -> WalletEntry:
    """Write one entry on a wallet the caller has locked, and move the wallet (in memory; _wallet_save writes
    it) by it: the balance by `tokens`, the debt by `owed_tokens`, the open allowance by `allowance` (by
    default the entry's `grant_tokens`)."""
    wallet.balance += tokens
    wallet.owed += fields.get("owed_tokens", 0)
    wallet.allowance += fields.get("grant_tokens", 0) if allowance is None else allowance
    return WalletEntry.objects.create(wallet=wallet, kind=kind, tokens=tokens, balance_after=wallet.balance,
                                      reason=reason[:255], idempotency_key=idempotency_key,
                                      created_by=created_by[:255], created_at=now, **fields)


def _allowance_draw(wallet: Wallet, tokens: int) -> dict:
    """How `tokens` going out of a locked wallet split: the open allowance first, then the rest."""
    from_grant = min(wallet.allowance, tokens)
    return {"grant_id": wallet.allowance_grant_id if from_grant else None, "grant_tokens": -from_grant}


def _owed_repay(wallet: Wallet, *, credit: WalletEntry, up_to: int, now: datetime) -> None:
    """Repay what the wallet owes from the tokens a credit just added (at most `up_to` of them)."""
    repaid = min(wallet.owed, up_to)
    if repaid <= 0:
        return
    _entry_append(wallet, now=now, kind=Kind.REPAYMENT, tokens=-repaid, owed_tokens=-repaid,
                  idempotency_key=f"repayment:{credit.pk}", created_by="system",
                  reason=f"{repaid:,} owed tokens repaid from entry #{credit.pk}", **_allowance_draw(wallet, repaid))
    logger.info("wallet_owed_repaid wallet=%s tokens=%s owed_left=%s", wallet.pk, repaid, wallet.owed)


def _tokens_check(tokens: int, *, positive: bool) -> None:
    if isinstance(tokens, bool) or not isinstance(tokens, int):
        raise ValueError("tokens is a whole number.")
    if tokens == 0 or (positive and tokens < 0) or abs(tokens) > MAX_TOKENS:
        raise ValueError(f"tokens must be {'positive' if positive else 'non-zero'} and at most {MAX_TOKENS:,}.")


def _feature_check(feature: str) -> None:
    if feature not in WalletFeature.values:
        raise ValueError(f"Unknown feature {feature!r}; use one of {', '.join(WalletFeature.values)}.")


def _low_balance_check(*, tenant: Tenant, balance: int, tokens: int, threshold: int | None, entry_id: int) -> None:
    """Notify, once committed, when the debit `entry_id` taking `tokens` brought the balance from above the
    threshold to at or below it. Pure arithmetic on what the debit returned: a debit that does not cross costs
    no query. Robust: a failing notification never fails the debit."""
    if threshold is not None and balance <= threshold < balance + tokens:
        transaction.on_commit(partial(wallet_low_balance_notify, tenant=tenant, balance=balance,
                                      threshold=threshold, entry_id=entry_id), robust=True)


def _recharge_check(*, tenant: Tenant, balance: int, recharge_below: int | None) -> None:
    """Tell billing, once committed, that the balance is below the armed auto-recharge threshold. Robust: a
    receiver's failure never fails the debit, and the wallet stays armed, so the next debit asks again."""
    if recharge_below is not None and balance < recharge_below:
        transaction.on_commit(partial(wallet_balance_fell.send_robust, sender=Wallet, tenant_id=tenant.pk,
                                      balance=balance), robust=True)


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


def wallet_recharge_arm(*, tenant: Tenant, below: int | None) -> int:
    """Arm auto-recharge at `below` tokens (debits leaving the balance below it send wallet_balance_fell), or
    disarm it with None; return the balance as the wallet's row lock sees it. For billing's auto-recharge, which
    decides under its own lock when a recharge may start: the row lock taken here is held until the caller's
    transaction ends."""
    if below is not None and (isinstance(below, bool) or not 1 <= below <= MAX_TOKENS):
        raise WalletError(f"The auto-recharge threshold is a number of tokens from 1 to {MAX_TOKENS:,}.",
                          field="threshold")
    wallet_ensure(tenant=tenant)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE metering_wallet SET recharge_below = %s WHERE tenant_id = %s RETURNING balance",
                       [below, tenant.pk])
        return cursor.fetchone()[0]


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


def token_purchase_lock(*, purchase: TokenPurchase) -> TokenPurchase:
    """The purchase as stored, its row locked until the caller's transaction ends (for billing, which orders a
    pack and invoices it in one transaction: a second order of the same pack waits, then finds the invoice)."""
    if not connection.in_atomic_block:
        raise RuntimeError("token_purchase_lock must run inside the caller's transaction.")
    # of=self: the purchase's row only, not its tenant's, which invoicing locks too (they would deadlock).
    return TokenPurchase.objects.select_for_update(of=("self",)).select_related("pack", "tenant").get(pk=purchase.pk)


@transaction.atomic
def token_purchase_invoice_link(*, purchase: TokenPurchase, invoice_id: int) -> TokenPurchase:
    """Record the one-time invoice that sells a pending order (billing.token_packs, in the transaction that
    issues it). An order has one invoice and an invoice one order: a second link is refused (PurchaseInvoiced),
    and the database refuses an invoice given to two orders."""
    purchase = token_purchase_lock(purchase=purchase)
    if purchase.status != TokenPurchase.Status.PENDING:
        raise PurchaseNotPending(f"Purchase #{purchase.pk} is {purchase.get_status_display().lower()}, not pending.")
    if purchase.invoice_id is not None:
        raise PurchaseInvoiced(f"Purchase #{purchase.pk} already has its invoice.")
    purchase.invoice_id = invoice_id
    purchase.save(update_fields=["invoice"])
    return purchase


@transaction.atomic
def token_purchase_mark_paid(*, purchase: TokenPurchase, actor) -> TokenPurchase:
    """The purchase is paid: credit the tokens, exactly once. Refused unless the purchase is pending; the row
    lock makes a second, concurrent mark wait and then see it paid, and the credit's idempotency key
    (purchase:<id>) would absorb even a credit attempted twice.

    An order sold on an invoice is paid by that invoice only: until the invoice is paid this is refused
    (PurchaseInvoiced), so no one credits its tokens behind the invoice's back. billing.token_packs calls it in
    the very transaction that marks the invoice paid, which is what makes the credit exactly-once."""
    purchase = token_purchase_lock(purchase=purchase)
    if purchase.status != TokenPurchase.Status.PENDING:
        raise PurchaseNotPending(f"Purchase #{purchase.pk} is {purchase.get_status_display().lower()}, not pending.")
    invoice = _purchase_invoice(purchase)
    if invoice is not None and not invoice.is_paid:
        raise PurchaseInvoiced(f"Purchase #{purchase.pk} is sold on invoice {invoice.number}: its "
                               "tokens are credited when that invoice is paid. Mark the invoice paid instead.",
                               details={"invoice": invoice.number})
    now = timezone.now()
    wallet_credit(tenant=purchase.tenant, tokens=purchase.tokens, kind=Kind.PURCHASE,
                  reason=f"Purchase #{purchase.pk}: {purchase.pack.name} ({purchase.price} {purchase.currency})"
                         + (f", invoice {invoice.number}" if invoice else ""),
                  idempotency_key=f"purchase:{purchase.pk}", created_by=_actor_name(actor), now=now)
    purchase.status = TokenPurchase.Status.PAID
    purchase.paid_at = now
    purchase.save(update_fields=["status", "paid_at"])
    return purchase


@transaction.atomic
def token_purchase_cancel(*, purchase: TokenPurchase, actor) -> TokenPurchase:
    """Withdraw an order that was not paid (by the tenant on its Wallet page, or by ops). An order sold on an
    invoice is cancelled by voiding that invoice (billing.token_packs), and only then (PurchaseInvoiced)."""
    purchase = token_purchase_lock(purchase=purchase)
    if purchase.status != TokenPurchase.Status.PENDING:
        raise PurchaseNotPending(f"Purchase #{purchase.pk} is {purchase.get_status_display().lower()}, not pending.")
    invoice = _purchase_invoice(purchase)
    if invoice is not None and not invoice.is_void:
        raise PurchaseInvoiced(f"Purchase #{purchase.pk} is sold on invoice {invoice.number}: void "
                               "the invoice to cancel it.", details={"invoice": invoice.number})
    purchase.status = TokenPurchase.Status.CANCELLED
    purchase.save(update_fields=["status"])
    logger.info("token_purchase_cancelled purchase=%s tenant=%s actor=%s", purchase.pk, purchase.tenant_id,
                _actor_name(actor))
    return purchase


@transaction.atomic
def token_purchase_refund(*, purchase: TokenPurchase, tokens: int, reason: str, idempotency_key: str,
                          actor, now: datetime | None = None) -> WalletEntry:
    """Take back `tokens` of a paid purchase whose money goes back to the tenant (a credit note on its invoice),
    as a negative adjustment, and return it.

    Taken from the tokens that never expire, never from the plan's open allowance: the purchase added none of it,
    and taking it instead would leave bought tokens that outlive the refund. Refused, with nothing changed, when
    that part of the balance does not cover them (InsufficientBalance: tokens already used cannot be given
    back), and when the purchase's refunds would add up to more than it added (WalletError; the database checks
    it too). A retry with the same key changes nothing and returns the first entry."""
    _tokens_check(tokens, positive=True)
    now = now or timezone.now()
    purchase = token_purchase_lock(purchase=purchase)
    if purchase.status != TokenPurchase.Status.PAID:
        raise WalletError(f"Purchase #{purchase.pk} is {purchase.get_status_display().lower()}: it credited no "
                          "tokens to take back.")
    wallet = _wallet_locked(purchase.tenant)
    previous = wallet.entries.filter(idempotency_key=idempotency_key).first()
    if previous is not None:
        if (previous.kind, previous.tokens) != (Kind.ADJUSTMENT, -tokens):
            raise IdempotencyKeyReused("This idempotency key was already used for a different wallet entry.")
        return previous
    if purchase.tokens_refunded + tokens > purchase.tokens:
        raise WalletError(f"Purchase #{purchase.pk} added {purchase.tokens:,} tokens and {purchase.tokens_refunded:,} "
                          f"were taken back already: {tokens:,} more cannot be.")
    never_expiring = wallet.balance - wallet.allowance
    if tokens > never_expiring:
        raise InsufficientBalance(balance=never_expiring, requested=tokens)
    entry = _entry_append(wallet, now=now, kind=Kind.ADJUSTMENT, tokens=-tokens, reason=reason,
                          idempotency_key=idempotency_key, created_by=_actor_name(actor), grant_tokens=0)
    _wallet_save(wallet, now=now)
    purchase.tokens_refunded += tokens
    purchase.save(update_fields=["tokens_refunded"])
    logger.info("token_purchase_refunded purchase=%s tenant=%s tokens=%s refunded_total=%s", purchase.pk,
                purchase.tenant_id, tokens, purchase.tokens_refunded)
    return entry


def _purchase_invoice(purchase: TokenPurchase) -> InvoiceBrief | None:
    if purchase.invoice_id is None:
        return None
    return invoice_briefs(tenant=purchase.tenant, invoice_ids=[purchase.invoice_id])[purchase.invoice_id]


def _actor_name(actor) -> str:
    return getattr(actor, "email", None) or str(actor)


# --- Monthly grants and their expiry ------------------------------------------------------------------

def wallet_monthly_grant(*, tenant: Tenant, period_start: date | datetime) -> WalletEntry | None:
    """Grant the plan's monthly AI-token allowance for the calendar month (UTC) of period_start, as a grant
    that expires when the month ends; None when there is nothing (more) to grant.

    Once per month and plan: the month's first grant is the plan's allowance (key grant:<yyyy-mm>). Called
    again after a plan change, a plan whose allowance is larger than what the month was granted so far gets the
    difference, once (key grant:<yyyy-mm>:<plan>); a smaller one gets nothing (what was granted stays until the
    month ends). So a month's allowance is that of the largest plan the tenant was on during it, and switching
    plans back and forth grants nothing more."""
    if not isinstance(period_start, datetime):
        period_start = datetime.combine(period_start, time.min, tzinfo=dt_timezone.utc)
    start, end = month_bounds(period_start)
    entitlements = entitlements_for(tenant=tenant)
    allowance = entitlements.monthly_ai_token_allowance
    if allowance <= 0:
        return None
    month_key = f"grant:{start:%Y-%m}"
    granted = dict(WalletEntry.objects.filter(wallet__tenant=tenant, kind=Kind.GRANT)
                   .filter(Q(idempotency_key=month_key) | Q(idempotency_key__startswith=f"{month_key}:"))
                   .values_list("idempotency_key", "tokens"))
    if not granted:
        key, tokens = month_key, allowance
        reason = f"Monthly allowance {start:%Y-%m} ({entitlements.plan_name} plan)"
    else:
        key, tokens = f"{month_key}:{entitlements.plan_code}", allowance - sum(granted.values())
        if key in granted or tokens <= 0:
            return None
        reason = f"Monthly allowance {start:%Y-%m}: top-up to the {entitlements.plan_name} plan's {allowance:,}"
    return wallet_credit(tenant=tenant, tokens=tokens, kind=Kind.GRANT, reason=reason, idempotency_key=key,
                         expires_at=end)


def wallet_allowance_grant_now(*, tenant: Tenant) -> WalletEntry | None:
    """This month's allowance at once, for a tenant just provisioned or moved to another plan (the monthly job
    would only grant it the next day). The plan it reads is the new one: the change forgot the cached
    entitlements (billing.signals), and the request that made it reads them from the database from then on."""
    if tenant.status != Tenant.Status.ACTIVE:
        return None
    return wallet_monthly_grant(tenant=tenant, period_start=timezone.now())


def wallet_monthly_grants_run(*, now: datetime | None = None) -> int:
    """Grant this month's allowance to every active tenant that has not had it yet (the beat job; running it
    again, or daily, grants nothing twice and catches tenants whose grant at provisioning failed or that were
    reactivated since). Returns how many grants were written."""
    now = now or timezone.now()
    start, _ = month_bounds(now)
    # Grants are few and partially indexed, so this is cheap even with a large ledger.
    granted_already = set(WalletEntry.objects.filter(kind=Kind.GRANT, idempotency_key=f"grant:{start:%Y-%m}")
                          .values_list("wallet__tenant_id", flat=True))
    tenants = (Tenant.objects.customers().filter(status=Tenant.Status.ACTIVE)
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
    """Expire what is left of every open allowance whose grant's expires_at has passed (one `expiry` entry,
    key expiry:<grant id>, possibly of 0 tokens); returns how many it closed. Safe to run any number of times.

    What is left is exact without replaying anything: every entry that took from or gave back to the allowance
    moved `Wallet.allowance` as it was written (see the module docstring). An allowance still counts as open
    until its expiry entry is written, so usage in the moments between expires_at and this job's run still
    comes out of it: the job runs often (hourly), and that margin only ever favours the tenant."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT wallet.id FROM metering_wallet AS wallet
            JOIN metering_walletentry AS grant_entry ON grant_entry.id = wallet.allowance_grant_id
            WHERE grant_entry.expires_at <= %s
            ORDER BY wallet.id
            """,
            [now],
        )
        wallet_ids = [row[0] for row in cursor.fetchall()]
    return sum(_wallet_allowance_expire(wallet_id=wallet_id, now=now) for wallet_id in wallet_ids)


@transaction.atomic
def _wallet_allowance_expire(*, wallet_id: int, now: datetime) -> int:
    # The wallet's row lock keeps debits out while the allowance is closed.
    wallet = Wallet.objects.select_for_update().get(pk=wallet_id)
    grant = wallet.allowance_grant
    if grant is None or grant.expires_at > now:
        return 0
    _allowance_close(wallet, grant=grant, now=now)
    _wallet_save(wallet, now=now)
    return 1


def _grant_append(wallet: Wallet, *, now: datetime, expires_at: datetime, **common) -> WalletEntry:
    """An expiring grant on a locked wallet: it tops up the open allowance when it expires at the same time,
    and otherwise opens a new one, after closing the open one if that is due. A grant expiring at another time
    while the open allowance is not due is refused: a wallet has one open allowance at a time."""
    grant = wallet.allowance_grant
    if grant is not None and grant.expires_at != expires_at:
        if grant.expires_at > now:
            raise ValueError(f"The allowance of grant #{grant.pk} is open until {grant.expires_at:%Y-%m-%d %H:%M} "
                             f"UTC; a grant expiring at {expires_at:%Y-%m-%d %H:%M} UTC cannot be added before.")
        _allowance_close(wallet, grant=grant, now=now)
        grant = None
    if grant is not None:
        return _entry_append(wallet, now=now, expires_at=expires_at, grant_id=grant.pk,
                             grant_tokens=common["tokens"], **common)
    entry = _entry_append(wallet, now=now, expires_at=expires_at, grant_tokens=common["tokens"], **common)
    wallet.allowance_grant = entry
    return entry


def _allowance_close(wallet: Wallet, *, grant: WalletEntry, now: datetime) -> None:
    left = wallet.allowance
    _entry_append(wallet, now=now, kind=Kind.EXPIRY, tokens=-left, grant_id=grant.pk, grant_tokens=-left,
                  reason=f"Unused part of grant #{grant.pk} expired ({grant.reason})",
                  idempotency_key=f"expiry:{grant.pk}", created_by="system")
    wallet.allowance_grant = None


# --- The low-balance alert -------------------------------------------------------------------------------

def wallet_low_balance_notify(*, tenant: Tenant, balance: int, threshold: int, entry_id: int) -> Delivery:
    """Tell the tenant's owners and billing members (notifications, category low_balance: in the app and by email,
    as each one's preferences allow) that the debit `entry_id` took the balance to or below their threshold, with
    links to the Wallet page and to buying a pack. Once per crossing: the debit that crossed is the cause, so a
    retried callback tells nobody twice, and the next crossing (after a top-up) is a new cause."""
    wallet_url, buy_url = tenant_url(tenant, WALLET_PATH), tenant_url(tenant, f"{WALLET_PATH}{BUY_SECTION}")
    delivery = notify(
        tenant=tenant, category=Category.LOW_BALANCE, cause=f"wallet_low_balance:{entry_id}",
        title=f"{tenant.name}: your AI token balance is low ({balance:,} left)",
        body=f"The AI token balance is down to {balance:,} tokens, at or below your threshold of {threshold:,}. "
             "When it reaches zero, AI requests are refused until tokens are added: buy a token pack on the "
             "Wallet page.",
        link=WALLET_PATH,
        email=EmailContent(template="metering/email/low_balance", context={
            "workspace_name": tenant.name, "balance": f"{balance:,}", "threshold": f"{threshold:,}",
            "wallet_url": wallet_url, "buy_url": buy_url}))
    logger.info("wallet_low_balance_notified tenant=%s balance=%s threshold=%s entry=%s told=%s", tenant.pk, balance,
                threshold, entry_id, delivery.notified)
    return delivery
