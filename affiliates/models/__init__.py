"""The affiliate program, tenant referrals and agencies, all in the public schema: they span tenants."""

from affiliates.models.agencies import AgencyAccessGrant, AgencyHandoff, AgencyProfile
from affiliates.models.commissions import Commission, FraudFlag, Payout
from affiliates.models.fingerprints import AffiliateFingerprint
from affiliates.models.program import Affiliate, AffiliateApplication, AffiliateProgram
from affiliates.models.referrals import Referral, ReferralClick, TenantReferralReward

__all__ = [
    "Affiliate", "AffiliateApplication", "AffiliateFingerprint", "AffiliateProgram", "AgencyAccessGrant",
    "AgencyHandoff", "AgencyProfile", "Commission", "FraudFlag", "Payout", "Referral", "ReferralClick",
    "TenantReferralReward",
]
