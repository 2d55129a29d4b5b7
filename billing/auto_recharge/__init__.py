"""Wallet auto-recharge: a tenant with a saved card sets a threshold and a token pack; when usage leaves its AI-token
balance below the threshold, the pack is ordered on a one-time invoice collected by Stripe and charged off-session
at once, and the tokens are credited when that invoice is paid (billing.token_packs). A failure turns auto-recharge
off and tells the owners. The reasoning is in services.py."""
