"""What the wallet tells the apps above it, without importing them (a leaf: billing subscribes, metering never
imports billing's invoicing or payments).

wallet_balance_fell: a debit left the balance below the wallet's armed auto-recharge threshold
(`Wallet.recharge_below`), or was refused while the balance was below it. Sent once the debit has committed (at
once outside a transaction), with `tenant_id` and `balance`. Concurrent debits that cross together may each send
it: the receiver decides, under its own lock, that one recharge is made."""

from django.dispatch import Signal

wallet_balance_fell = Signal()
