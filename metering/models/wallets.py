"""AI-token wallets: the cached balance, its immutable ledger, token packs and their purchases."""

from django.db import models

from config.money import Money, money_format
from tenants.models import Tenant


class Wallet(models.Model):
    """A tenant's AI tokens: a cached balance plus the immutable ledger (WalletEntry) it is the sum of. Every
    change to `balance` writes its entry in the same transaction (metering.wallets.services); the CHECK
    constraints make a negative balance impossible whatever the code does.

    Part of the balance may be the open allowance (`allowance`, what is left of the grant `allowance_grant`,
    which expires with it); the rest never expires. `owed` is usage the balance could not cover: while
    anything is owed the balance is zero, and the next credit repays it first."""

    tenant = models.OneToOneField(Tenant, on_delete=models.PROTECT, related_name="+")
    balance = models.BigIntegerField(default=0)
    allowance = models.BigIntegerField(default=0, db_default=0,
                                       help_text="The part of the balance left of the open grant (it expires).")
    allowance_grant = models.ForeignKey("WalletEntry", on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="+", help_text="The grant whose allowance is open now.")
    owed = models.BigIntegerField(default=0, db_default=0,
                                  help_text="Tokens used beyond the balance: repaid first from the next credit.")
    low_balance_threshold = models.BigIntegerField(
        null=True, blank=True,
        help_text="Email the owners when a debit takes the balance from above this to at or below it.",
    )
    # Kept by billing's auto-recharge (wallet_recharge_arm): its threshold while a recharge may start, empty while it
    # is off or one is in flight. Read by the debit's own statement, so arming costs the hot path nothing.
    recharge_below = models.BigIntegerField(
        null=True, blank=True, editable=False,
        help_text="Auto-recharge is armed: a debit leaving the balance below this asks billing for a recharge.",
    )
    # Written by every debit with what it took from the allowance, so that the one UPDATE can return it
    # (RETURNING sees only the new row before PostgreSQL 18): no separate row lock to read the old allowance.
    # Means nothing between debits.
    last_debit_from_allowance = models.BigIntegerField(default=0, db_default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(balance__gte=0), name="wallet_balance_not_negative"),
            models.CheckConstraint(condition=models.Q(low_balance_threshold__gte=0),
                                   name="wallet_threshold_not_negative"),
            models.CheckConstraint(condition=models.Q(recharge_below__gte=1), name="wallet_recharge_below_positive"),
            models.CheckConstraint(condition=models.Q(allowance__gte=0, allowance__lte=models.F("balance")),
                                   name="wallet_allowance_within_balance"),
            models.CheckConstraint(condition=models.Q(allowance=0) | models.Q(allowance_grant__isnull=False),
                                   name="wallet_allowance_has_grant"),
            # Anything credited repays what is owed first, so a debt and a balance never coexist.
            models.CheckConstraint(condition=models.Q(owed=0) | models.Q(owed__gt=0, balance=0),
                                   name="wallet_owed_only_at_zero_balance"),
        ]

    def __str__(self) -> str:
        return f"Wallet of {self.tenant}"


class WalletFeature(models.TextChoices):
    """What a usage debit paid for."""

    AI_API = "ai_api", "AI API"
    COACH = "coach", "Coach"
    CONTENT = "content", "Content generation"


class WalletEntry(models.Model):
    """One change to a wallet, never updated (a database trigger refuses UPDATE) and never deleted (the
    foreign key protects it). `tokens` is signed; `balance_after` is the wallet's balance right after it, so
    the ledger in id order replays the balance exactly.

    `grant` and `grant_tokens` say which allowance an entry drew from or gave back to, and how much of `tokens`
    that was (decided when the entry is written, under the wallet's row lock); a refund names the debit it
    refunds (`refund_of`) and gives back to the same grant. `owed_tokens` is usage the balance could not cover
    (positive, on a usage debit) or the repayment of it (negative, on a repayment); summed, it is the debt."""

    class Kind(models.TextChoices):
        GRANT = "grant", "Grant"
        PURCHASE = "purchase", "Purchase"
        USAGE_DEBIT = "usage_debit", "Usage"
        REFUND = "refund", "Refund"
        EXPIRY = "expiry", "Expiry"
        ADJUSTMENT = "adjustment", "Adjustment"
        REPAYMENT = "repayment", "Repayment of owed tokens"

    # No index of its own: the composite indexes below all start with the wallet (one index less per debit).
    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="entries", db_index=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    tokens = models.BigIntegerField()
    balance_after = models.BigIntegerField()
    reason = models.CharField(max_length=255, blank=True)
    feature = models.CharField(max_length=20, choices=WalletFeature.choices, null=True, blank=True)
    idempotency_key = models.CharField(max_length=255)
    created_by = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Grants only: when the unused part expires.")
    # No index of its own: nothing looks entries up by their grant, and debits (the hot path) write none. No
    # database foreign key either: its check locks the grant's row on every debit (a fifth of the hot path's
    # throughput, measured), and the id is copied under the wallet's row lock from Wallet.allowance_grant,
    # which has one, into a ledger whose rows are never changed or deleted.
    grant = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                              db_index=False, db_constraint=False,
                              help_text="The grant whose allowance this entry drew from or gave back to (a top-up "
                                        "grant: the one it adds to).")
    grant_tokens = models.BigIntegerField(default=0, db_default=0,
                                          help_text="The part of the tokens that was that grant's allowance.")
    refund_of = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="refunds",
                                  db_index=False, help_text="Refunds: the usage debit this gives tokens back for.")
    owed_tokens = models.BigIntegerField(default=0, db_default=0,
                                         help_text="Usage not covered by the balance (+), or its repayment (-).")

    class Meta:
        verbose_name_plural = "wallet entries"
        constraints = [
            models.UniqueConstraint(fields=["wallet", "idempotency_key"], name="wallet_entry_key_once"),
            models.CheckConstraint(condition=models.Q(balance_after__gte=0), name="wallet_entry_balance_not_negative"),
            # Credits add, usage, expiry and repayments take away, adjustments go either way; only an expiry may be
            # 0 (a grant that was used up still gets its expiry line, which is what marks it done), and a usage
            # debit only when all of it is owed.
            models.CheckConstraint(
                condition=(models.Q(kind__in=["grant", "purchase", "refund"], tokens__gt=0)
                           | models.Q(kind="usage_debit", tokens__lt=0)
                           | models.Q(kind="usage_debit", tokens=0, owed_tokens__gt=0)
                           | models.Q(kind="expiry", tokens__lte=0)
                           | models.Q(kind="repayment", tokens__lt=0)
                           | (models.Q(kind="adjustment") & ~models.Q(tokens=0))),
                name="wallet_entry_sign_fits_kind",
            ),
            models.CheckConstraint(
                condition=(models.Q(owed_tokens=0) | models.Q(kind="usage_debit", owed_tokens__gt=0)
                           | models.Q(kind="repayment", owed_tokens=models.F("tokens"))),
                name="wallet_entry_owed_fits_kind",
            ),
            # The allowance part has the entry's sign and is no larger than the entry, and names its grant (an
            # opening grant is its own).
            models.CheckConstraint(
                condition=((models.Q(tokens__gte=0, grant_tokens__gte=0, grant_tokens__lte=models.F("tokens"))
                            | models.Q(tokens__lte=0, grant_tokens__lte=0, grant_tokens__gte=models.F("tokens")))
                           & (models.Q(grant_tokens=0) | models.Q(grant__isnull=False) | models.Q(kind="grant"))),
                name="wallet_entry_grant_part_fits",
            ),
            models.CheckConstraint(condition=models.Q(refund_of__isnull=True) | models.Q(kind="refund"),
                                   name="wallet_entry_only_refunds_refund"),
            models.CheckConstraint(condition=models.Q(expires_at__isnull=True) | models.Q(kind="grant"),
                                   name="wallet_entry_only_grants_expire"),
            models.CheckConstraint(condition=~models.Q(kind="usage_debit") | models.Q(feature__isnull=False),
                                   name="wallet_entry_usage_has_feature"),
        ]
        indexes = [
            # The ledger newest first (id order is the order the wallet's row lock applied the entries).
            models.Index(fields=["wallet", "id"], name="wallet_entry_ledger_idx"),
            # Usage per feature over a period.
            models.Index(fields=["wallet", "created_at"], name="wallet_entry_period_idx"),
            # Grants are few: partial indexes cost nothing on the usage hot path.
            models.Index(fields=["expires_at"], condition=models.Q(kind="grant"), name="wallet_grant_expiry_idx"),
            models.Index(fields=["wallet"], condition=models.Q(kind="grant"), name="wallet_grant_wallet_idx"),
            # A debit's refunds (net usage); debits, which have none, stay out of it.
            models.Index(fields=["refund_of"], condition=models.Q(refund_of__isnull=False),
                         name="wallet_entry_refund_of_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.tokens:+,}"


class TokenPack(models.Model):
    """A pack of AI tokens ops sell at a fixed price (e.g. 1M tokens for 100.00 USD)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    tokens = models.BigIntegerField()
    price = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD", help_text="ISO 4217, e.g. USD.")
    active = models.BooleanField(default=True, help_text="Only active packs are offered on the Wallet page.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["tokens"]
        constraints = [
            models.CheckConstraint(condition=models.Q(tokens__gt=0), name="token_pack_tokens_positive"),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="token_pack_price_not_negative"),
            models.CheckConstraint(condition=models.Q(currency__regex=r"^[A-Z]{3}$"), name="token_pack_currency_iso"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({money_format(self.price_money)})"

    @property
    def price_money(self) -> Money:
        return Money(self.price, self.currency)


class TokenPurchase(models.Model):
    """A tenant's order of a pack: pending until it is paid, which credits the tokens exactly once. Tokens and
    price are copied from the pack when ordered, so a later price change does not alter it.

    An order is sold on a one-time invoice (`invoice`, billing.token_packs): paying that invoice pays it, voiding
    it cancels it, and a credit note on it takes back its share of the tokens (`tokens_refunded`). Orders placed
    before invoices existed have none, and ops mark them paid themselves."""

    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting payment"
        PAID = "paid", "Paid"
        CANCELLED = "cancelled", "Cancelled"

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+", db_index=False)
    pack = models.ForeignKey(TokenPack, on_delete=models.PROTECT, related_name="purchases")
    tokens = models.BigIntegerField()
    price = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    created_by = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    # A string reference, not an import: metering never imports billing's invoicing; billing.token_packs links it.
    invoice = models.OneToOneField("billing.Invoice", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", help_text="The one-time invoice that sells this order.")
    tokens_refunded = models.BigIntegerField(default=0, db_default=0,
                                             help_text="Tokens taken back by credit notes on the invoice.")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(tokens__gt=0), name="token_purchase_tokens_positive"),
            models.CheckConstraint(condition=models.Q(tokens_refunded__gte=0, tokens_refunded__lte=models.F("tokens")),
                                   name="token_purchase_refunded_within_tokens"),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="token_purchase_price_not_negative"),
            models.CheckConstraint(condition=models.Q(status="paid", paid_at__isnull=False)
                                   | (~models.Q(status="paid") & models.Q(paid_at__isnull=True)),
                                   name="token_purchase_paid_at_iff_paid"),
            # A double-clicked "Buy" makes one order, not two.
            models.UniqueConstraint(fields=["tenant", "pack"], condition=models.Q(status="pending"),
                                    name="token_purchase_one_pending_per_pack"),
        ]
        indexes = [models.Index(fields=["tenant", "status"], name="token_purchase_tenant_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.tokens:,} tokens for {money_format(self.price_money)} ({self.status})"

    @property
    def price_money(self) -> Money:
        return Money(self.price, self.currency)
