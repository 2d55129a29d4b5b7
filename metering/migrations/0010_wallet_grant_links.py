"""The wallet ledger links every entry to the allowance it drew from or gave back to, refunds name their debit,
and usage the balance could not cover is owed instead of written off.

Existing data: each wallet's open allowance is what the old rule (a replay of the ledger: every outgoing entry
takes from the open grants first, soonest-expiring first) leaves of its grants without an expiry entry; if
several were open (only in the minutes between a month's end and the hourly expiry job), their remainders form
one allowance that expires with the latest of them. Entries written before this migration name no grant and no
debit: a refund of such a debit gives its tokens back to the part that never expires, as it always did.
"""

import django.db.models.deletion
from django.db import migrations, models


def _open_grants_remaining(cursor, wallet_id: int) -> dict[int, list]:
    """The old replay: {grant id: [expires_at, what is left]} for the wallet's grants without an expiry entry.
    Consecutive usage entries are summed in SQL, so it is one row per credit rather than one per debit."""
    cursor.execute(
        """
        WITH ledger AS (
            SELECT id, kind, tokens, expires_at, idempotency_key,
                   count(*) FILTER (WHERE kind <> 'usage_debit') OVER (ORDER BY id) AS segment
            FROM metering_walletentry WHERE wallet_id = %s
        )
        SELECT id, kind, tokens, expires_at, idempotency_key FROM ledger WHERE kind <> 'usage_debit'
        UNION ALL
        SELECT max(id), 'usage_debit', sum(tokens)::bigint, NULL::timestamptz, NULL::varchar
        FROM ledger WHERE kind = 'usage_debit' GROUP BY segment
        ORDER BY 1
        """,
        [wallet_id],
    )
    open_grants: dict[int, list] = {}
    for entry_id, kind, tokens, expires_at, key in cursor.fetchall():
        if kind == "grant" and expires_at is not None:
            open_grants[entry_id] = [expires_at, tokens]
        elif kind == "expiry":
            open_grants.pop(int(key.split(":", 1)[1]), None)
        elif tokens < 0:
            taking = -tokens
            for grant_id in sorted(open_grants, key=lambda grant_id: (open_grants[grant_id][0], grant_id)):
                used = min(open_grants[grant_id][1], taking)
                open_grants[grant_id][1] -= used
                taking -= used
    return open_grants


def allowances_open(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT DISTINCT grant_entry.wallet_id FROM metering_walletentry AS grant_entry
            WHERE grant_entry.kind = 'grant' AND grant_entry.expires_at IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM metering_walletentry AS expiry
                              WHERE expiry.wallet_id = grant_entry.wallet_id
                                AND expiry.idempotency_key = 'expiry:' || grant_entry.id)
            ORDER BY 1
            """
        )
        wallet_ids = [row[0] for row in cursor.fetchall()]
        for wallet_id in wallet_ids:
            cursor.execute("SELECT balance FROM metering_wallet WHERE id = %s FOR UPDATE", [wallet_id])
            (balance,) = cursor.fetchone()
            open_grants = _open_grants_remaining(cursor, wallet_id)
            if not open_grants:
                continue
            latest = max(open_grants, key=lambda grant_id: (open_grants[grant_id][0], grant_id))
            remaining = min(balance, sum(left for _, left in open_grants.values()))
            cursor.execute("UPDATE metering_wallet SET allowance = %s, allowance_grant_id = %s WHERE id = %s",
                           [remaining, latest, wallet_id])


class Migration(migrations.Migration):

    dependencies = [
        ("metering", "0009_model_prices_seed"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="walletentry",
            name="wallet_entry_sign_fits_kind",
        ),
        migrations.AddField(
            model_name="wallet",
            name="allowance",
            field=models.BigIntegerField(db_default=0, default=0,
                                         help_text="The part of the balance left of the open grant (it expires)."),
        ),
        migrations.AddField(
            model_name="wallet",
            name="allowance_grant",
            field=models.ForeignKey(blank=True, help_text="The grant whose allowance is open now.", null=True,
                                    on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="metering.walletentry"),
        ),
        migrations.AddField(
            model_name="wallet",
            name="owed",
            field=models.BigIntegerField(db_default=0, default=0,
                                         help_text="Tokens used beyond the balance: repaid first from the next credit."),
        ),
        migrations.AddField(
            model_name="walletentry",
            name="grant",
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False,
                                    help_text="The grant whose allowance this entry drew from or gave back to (a "
                                              "top-up grant: the one it adds to).",
                                    null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="metering.walletentry"),
        ),
        migrations.AddField(
            model_name="walletentry",
            name="grant_tokens",
            field=models.BigIntegerField(db_default=0, default=0,
                                         help_text="The part of the tokens that was that grant's allowance."),
        ),
        migrations.AddField(
            model_name="walletentry",
            name="owed_tokens",
            field=models.BigIntegerField(db_default=0, default=0,
                                         help_text="Usage not covered by the balance (+), or its repayment (-)."),
        ),
        migrations.AddField(
            model_name="walletentry",
            name="refund_of",
            field=models.ForeignKey(blank=True, db_index=False,
                                    help_text="Refunds: the usage debit this gives tokens back for.", null=True,
                                    on_delete=django.db.models.deletion.PROTECT, related_name="refunds",
                                    to="metering.walletentry"),
        ),
        migrations.AlterField(
            model_name="walletentry",
            name="kind",
            field=models.CharField(choices=[("grant", "Grant"), ("purchase", "Purchase"), ("usage_debit", "Usage"),
                                            ("refund", "Refund"), ("expiry", "Expiry"), ("adjustment", "Adjustment"),
                                            ("repayment", "Repayment of owed tokens")], max_length=20),
        ),
        migrations.AddIndex(
            model_name="walletentry",
            index=models.Index(condition=models.Q(("refund_of__isnull", False)), fields=["refund_of"],
                               name="wallet_entry_refund_of_idx"),
        ),
        migrations.AddConstraint(
            model_name="wallet",
            constraint=models.CheckConstraint(condition=models.Q(("allowance__gte", 0),
                                                                 ("allowance__lte", models.F("balance"))),
                                              name="wallet_allowance_within_balance"),
        ),
        migrations.AddConstraint(
            model_name="wallet",
            constraint=models.CheckConstraint(condition=models.Q(("allowance", 0), ("allowance_grant__isnull", False),
                                                                 _connector="OR"),
                                              name="wallet_allowance_has_grant"),
        ),
        migrations.AddConstraint(
            model_name="wallet",
            constraint=models.CheckConstraint(condition=models.Q(("owed", 0), models.Q(("balance", 0), ("owed__gt", 0)),
                                                                 _connector="OR"),
                                              name="wallet_owed_only_at_zero_balance"),
        ),
        migrations.AddConstraint(
            model_name="walletentry",
            constraint=models.CheckConstraint(
                condition=models.Q(models.Q(("kind__in", ["grant", "purchase", "refund"]), ("tokens__gt", 0)),
                                   models.Q(("kind", "usage_debit"), ("tokens__lt", 0)),
                                   models.Q(("kind", "usage_debit"), ("owed_tokens__gt", 0), ("tokens", 0)),
                                   models.Q(("kind", "expiry"), ("tokens__lte", 0)),
                                   models.Q(("kind", "repayment"), ("tokens__lt", 0)),
                                   models.Q(("kind", "adjustment"), models.Q(("tokens", 0), _negated=True)),
                                   _connector="OR"),
                name="wallet_entry_sign_fits_kind"),
        ),
        migrations.AddConstraint(
            model_name="walletentry",
            constraint=models.CheckConstraint(
                condition=models.Q(("owed_tokens", 0), models.Q(("kind", "usage_debit"), ("owed_tokens__gt", 0)),
                                   models.Q(("kind", "repayment"), ("owed_tokens", models.F("tokens"))),
                                   _connector="OR"),
                name="wallet_entry_owed_fits_kind"),
        ),
        migrations.AddConstraint(
            model_name="walletentry",
            constraint=models.CheckConstraint(
                condition=models.Q(models.Q(models.Q(("grant_tokens__gte", 0), ("grant_tokens__lte", models.F("tokens")),
                                                     ("tokens__gte", 0)),
                                            models.Q(("grant_tokens__gte", models.F("tokens")), ("grant_tokens__lte", 0),
                                                     ("tokens__lte", 0)),
                                            _connector="OR"),
                                   models.Q(("grant_tokens", 0), ("grant__isnull", False), ("kind", "grant"),
                                            _connector="OR")),
                name="wallet_entry_grant_part_fits"),
        ),
        migrations.AddConstraint(
            model_name="walletentry",
            constraint=models.CheckConstraint(condition=models.Q(("refund_of__isnull", True), ("kind", "refund"),
                                                                 _connector="OR"),
                                              name="wallet_entry_only_refunds_refund"),
        ),
        migrations.RunPython(allowances_open, migrations.RunPython.noop),
    ]
