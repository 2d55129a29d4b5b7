"""Metering's models, one module per sub-package (usage, wallets, gateway; limits keep no rows), re-exported here
so the app label, table names and migrations stay those of one app."""

from metering.models.gateway import AiReservationRecord, ModelPrice
from metering.models.usage import Meter, UsageAlert, UsageEvent, UsageEventKey, UsageRollup, UsageUniqueValue
from metering.models.wallets import TokenPack, TokenPurchase, Wallet, WalletEntry, WalletFeature

__all__ = [
    "AiReservationRecord", "Meter", "ModelPrice", "TokenPack", "TokenPurchase", "UsageAlert", "UsageEvent",
    "UsageEventKey", "UsageRollup", "UsageUniqueValue", "Wallet", "WalletEntry", "WalletFeature",
]
