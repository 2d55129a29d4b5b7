"""Self-referral by the people: an affiliate whose own address is on the referred workspace's team, or an agency
referring (not creating) a workspace with someone on both teams, has its commission held by a self-referral
flag; an unrelated team, and the agency's own clients, are not flagged."""

from decimal import Decimal

import pytest

from accounts.models import Role
from affiliates.commissions.services import commission_earn
from affiliates.models import Affiliate, AgencyProfile, Commission, FraudFlag, Referral
from tests.support.clock import NOW
from tests.support.commissions import affiliate_make, invoice_paid, program_set, referral_make
from tests.support.factories import StaffUserFactory

pytestmark = pytest.mark.django_db
Rule = FraudFlag.Rule


@pytest.fixture(autouse=True)
def program():
    return program_set(payout_threshold=Decimal("1"), min_paying_customers=0)


def earn(referral) -> Commission:
    return commission_earn(invoice=invoice_paid(referral.tenant, "100.00", at=NOW), now=NOW)


def agency_of(tenant) -> Affiliate:
    AgencyProfile.objects.create(agency=tenant, earnings_mode=AgencyProfile.EarningsMode.REFERRAL,
                                 commission_rate=Decimal("10"))
    return affiliate_make(kind=Affiliate.Kind.AGENCY, tenant=tenant, email=tenant.owner_email)


def flags_of(affiliate) -> list[FraudFlag]:
    return list(FraudFlag.objects.filter(affiliate=affiliate))


def test_member_email_in_both_workspaces_flags_self_referral(tenant_alpha, tenant_beta):
    agency = agency_of(tenant_alpha)
    StaffUserFactory(tenant=tenant_alpha, role=Role.MEMBER, email="lee@studio.test")
    StaffUserFactory(tenant=tenant_beta, role=Role.ADMIN, email="lee@studio.test")

    commission = earn(referral_make(agency, tenant=tenant_beta, source=Referral.Source.CLICK))

    [flag] = flags_of(agency)
    assert flag.rule == Rule.SELF_REFERRAL and "on its team" in flag.reason
    assert commission.status == Commission.Status.HELD


def test_the_affiliates_own_address_on_the_referred_workspaces_team_is_self_referral(tenant_beta):
    affiliate = affiliate_make(email="sam@promoter.test")
    StaffUserFactory(tenant=tenant_beta, role=Role.MEMBER, email="Sam@Promoter.test")

    commission = earn(referral_make(affiliate, tenant=tenant_beta))

    assert [flag.rule for flag in flags_of(affiliate)] == [Rule.SELF_REFERRAL]
    assert commission.status == Commission.Status.HELD


def test_an_unrelated_team_is_not_self_referral(tenant_alpha, tenant_beta):
    agency = agency_of(tenant_alpha)
    StaffUserFactory(tenant=tenant_alpha, role=Role.MEMBER, email="lee@studio.test")
    StaffUserFactory(tenant=tenant_beta, role=Role.MEMBER, email="kim@elsewhere.test")

    commission = earn(referral_make(agency, tenant=tenant_beta, source=Referral.Source.CLICK))

    assert flags_of(agency) == [] and commission.status == Commission.Status.PENDING


def test_an_agencys_own_client_with_the_agencys_people_on_its_team_is_not_self_referral(tenant_alpha, tenant_beta):
    agency = agency_of(tenant_alpha)
    tenant_beta.parent_agency = tenant_alpha
    tenant_beta.save(update_fields=["parent_agency"])
    StaffUserFactory(tenant=tenant_alpha, role=Role.MEMBER, email="lee@studio.test")
    StaffUserFactory(tenant=tenant_beta, role=Role.ADMIN, email="lee@studio.test")

    commission = earn(referral_make(agency, tenant=tenant_beta, source=Referral.Source.AGENCY))

    assert flags_of(agency) == [] and commission.status == Commission.Status.PENDING
