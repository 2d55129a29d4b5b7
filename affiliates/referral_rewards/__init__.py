"""Tenant referrals: every tenant's own referral link (an Affiliate row of kind tenant), the referred signup's
coupon, the referrer's reward when the referred tenant first pays, and the expiry of unused rewards."""
