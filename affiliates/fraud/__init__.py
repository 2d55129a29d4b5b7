"""Fraud checks on referrals and commissions: each finding is a FraudFlag that holds the commissions it covers
until ops clear it (released) or confirm it (reversed). See README "Affiliates"."""
