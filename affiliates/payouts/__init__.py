"""Payouts: approved commissions batched per affiliate and currency each cycle, exported for PayPal or Wise, marked
paid, or sent as Stripe Connect transfers. See README "Affiliates"."""
