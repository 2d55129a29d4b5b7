"""'Open workspace': agency staff reach a client's host through a signed, single-use, short-lived hand-off, only
with the client's current grant and with MFA respected; what they do there is refused where it must be and
recorded in the client's audit log as agency staff acting for their agency."""

import pytest
import time_machine
from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.mfa.models import Authenticator
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import Role, User
from accounts.services import member_role_change
from affiliates.agencies.exceptions import AgencyAccessRefused, HandoffInvalid
from affiliates.agencies.handoff import HANDOFF_MAX_AGE_S, handoff_consume, handoff_create, shadow_email_for
from affiliates.agencies.services import agency_access_revoke
from tenants.models import TenantAuditLog
from tests.support.agencies import agency_make, client_make, grant_make, path_of, signed_in
from tests.support.tenants import client_for

pytestmark = pytest.mark.django_db

STAFF = "staff@agency-one.test"


@pytest.fixture
def agency():
    return agency_make()


@pytest.fixture
def client_ws(agency):
    return client_make(agency, "client-one")


def open_workspace(agency, client_ws, *, staff_page=None):
    """Agency staff click 'Open workspace': the agency's answer (a redirect to the client's host, or back)."""
    staff_page = staff_page or signed_in(agency, email=STAFF, role=Role.ADMIN)
    return staff_page.post(f"/clients/{client_ws.slug}/open/")


def follow_handoff(client_ws, response):
    browser = client_for(client_ws)
    return browser, browser.get(path_of(response["Location"]))


def link_for(agency, client_ws, **kwargs) -> str:
    arguments = {"staff_email": STAFF, "staff_has_mfa": False, "second_factor_verified": False, **kwargs}
    return path_of(handoff_create(agency=agency, client_slug=client_ws.slug, **arguments))


def totp_for(tenant, email):
    with schema_context(tenant.schema_name):
        user = User.objects.filter(email=email).first() or User.objects.create_user(email, None, role=Role.ADMIN)
        Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "x"})


def test_the_handoff_signs_staff_in_as_the_agencys_shadow_account_with_the_granted_role(agency, client_ws):
    grant_make(client_ws, Role.ADMIN)
    response = open_workspace(agency, client_ws)
    assert response["Location"].startswith("http://client-one.localhost")
    browser, landed = follow_handoff(client_ws, response)
    assert landed.status_code == 302 and landed["Location"] == "/"
    page = browser.get("/")
    assert page.status_code == 200
    assert f"agency staff {STAFF} acting for agency Agency One" in page.content.decode()
    with schema_context(client_ws.schema_name):
        shadow = User.objects.get(email=shadow_email_for(agency=agency, staff_email=STAFF))
    assert (shadow.role, shadow.has_usable_password()) == (Role.ADMIN, False)


def test_the_handoff_is_audited_in_the_clients_log(agency, client_ws):
    grant_make(client_ws)
    follow_handoff(client_ws, open_workspace(agency, client_ws))
    entry = TenantAuditLog.objects.get(tenant=client_ws, action="agency_handoff")
    assert entry.source == TenantAuditLog.Source.AGENCY
    assert entry.actor_email == STAFF
    assert entry.after["acting"] == f"agency staff {STAFF} acting for agency Agency One"


def test_opening_a_workspace_without_a_grant_is_refused(agency, client_ws):
    response = open_workspace(agency, client_ws)
    assert response["Location"] == "/clients/"
    with pytest.raises(AgencyAccessRefused):
        link_for(agency, client_ws)


def test_a_link_made_before_the_grant_was_revoked_is_refused(agency, client_ws):
    grant_make(client_ws)
    link = link_for(agency, client_ws)
    agency_access_revoke(client=client_ws, actor_email=client_ws.owner_email)
    browser = client_for(client_ws)
    page = browser.get(link)
    assert "no longer gives your agency access" in page.content.decode()
    assert browser.get("/").status_code == 302  # still signed out: the login page


def test_a_replayed_handoff_is_refused(agency, client_ws):
    grant_make(client_ws)
    link = link_for(agency, client_ws)
    assert client_for(client_ws).get(link).status_code == 302
    replay = client_for(client_ws).get(link)
    assert replay.status_code == 200 and "already used" in replay.content.decode()


def test_an_expired_handoff_is_refused(agency, client_ws):
    grant_make(client_ws)
    link = link_for(agency, client_ws)
    with time_machine.travel(timezone.now() + timezone.timedelta(seconds=HANDOFF_MAX_AGE_S + 1)):
        page = client_for(client_ws).get(link)
    assert "expired" in page.content.decode()


def test_a_handoff_for_one_client_does_not_open_another(agency, client_ws):
    other = client_make(agency, "client-two")
    grant_make(client_ws)
    grant_make(other)
    token = link_for(agency, client_ws).split("/")[-2]
    with pytest.raises(HandoffInvalid):
        handoff_consume(token=token, client=other)


def test_staff_with_mfa_must_have_verified_it_in_their_agency_session(agency, client_ws):
    grant_make(client_ws)
    totp_for(agency, STAFF)
    page = signed_in(agency, email=STAFF)
    assert open_workspace(agency, client_ws, staff_page=page)["Location"] == "/clients/"
    with schema_context(agency.schema_name):
        staff_id = User.objects.get(email=STAFF).pk
    session = page.session
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [{"method": "mfa", "at": 0, "id": 1, "type": "totp"}]
    session["account_authentication_methods_user"] = str(staff_id)
    session.save()
    response = open_workspace(agency, client_ws, staff_page=page)
    assert response["Location"].startswith("http://client-one.localhost")


def test_a_client_that_requires_mfa_refuses_staff_without_it(agency, client_ws):
    grant_make(client_ws)
    client_ws.require_mfa = True
    client_ws.save(update_fields=["require_mfa"])
    with pytest.raises(AgencyAccessRefused):
        link_for(agency, client_ws)


def test_a_client_that_requires_mfa_admits_staff_who_verified_it(agency, client_ws):
    grant_make(client_ws)
    client_ws.require_mfa = True
    client_ws.save(update_fields=["require_mfa"])
    browser = client_for(client_ws)
    browser.get(link_for(agency, client_ws, staff_has_mfa=True, second_factor_verified=True))
    assert browser.get("/").status_code == 200  # not sent to set up MFA for the shadow account


def test_revoking_signs_an_open_agency_session_out_on_its_next_request(agency, client_ws):
    grant_make(client_ws)
    browser, _ = follow_handoff(client_ws, open_workspace(agency, client_ws))
    assert browser.get("/").status_code == 200
    agency_access_revoke(client=client_ws, actor_email=client_ws.owner_email)
    response = browser.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_an_agency_session_whose_grant_ended_elsewhere_is_signed_out(agency, client_ws):
    """Even with its shadow account still active (a grant ended by ops in the admin), the grant is re-checked."""
    grant = grant_make(client_ws)
    browser, _ = follow_handoff(client_ws, open_workspace(agency, client_ws))
    type(grant).objects.filter(pk=grant.pk).update(revoked_at=timezone.now())
    assert browser.get("/").status_code == 401
    assert browser.get("/api/v1/tenant").status_code == 401
    response = browser.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_what_agency_staff_change_is_audited_as_acting_for_the_agency(agency, client_ws):
    grant_make(client_ws)
    browser, _ = follow_handoff(client_ws, open_workspace(agency, client_ws))
    browser.post("/settings/", {"name": "Renamed by agency", "billing_email": "owner@client-one.test"})
    entry = TenantAuditLog.objects.get(tenant=client_ws, action="agency_staff_request")
    assert entry.after["path"] == "/settings/" and entry.after["method"] == "POST"
    assert entry.after["acting"] == f"agency staff {STAFF} acting for agency Agency One"


@pytest.mark.parametrize("path", ["/team/", "/api-keys/", "/settings/agency-access/", "/accounts/password/change/"])
def test_agency_staff_cannot_reach_what_would_outlive_the_grant(agency, client_ws, path):
    grant_make(client_ws)
    browser, _ = follow_handoff(client_ws, open_workspace(agency, client_ws))
    assert browser.get(path).status_code == 403


def test_an_admin_grant_gives_no_billing(agency, client_ws):
    grant_make(client_ws, Role.ADMIN)
    browser, _ = follow_handoff(client_ws, open_workspace(agency, client_ws))
    assert browser.get("/wallet/").status_code == 403
    assert browser.post("/billing/subscription/cancel/").status_code == 403


def test_a_shadow_account_signed_in_without_a_handoff_is_signed_out(agency, client_ws):
    grant_make(client_ws)
    email = shadow_email_for(agency=agency, staff_email=STAFF)
    browser = signed_in(client_ws, email=email, role=Role.ADMIN)
    assert browser.get("/").status_code == 401


@pytest.mark.parametrize("role", [Role.OWNER, Role.BILLING])
def test_a_shadow_account_given_a_role_no_grant_can_give_on_the_team_page_is_signed_out(agency, client_ws, role):
    """Owner (or billing) is never the agency's: a Team page change of its shadow account does not make it so."""
    grant_make(client_ws, Role.ADMIN)
    browser, _ = follow_handoff(client_ws, open_workspace(agency, client_ws))
    with schema_context(client_ws.schema_name):
        owner = User.objects.get(email=client_ws.owner_email)
        owner.is_active = True  # joined (in production, by accepting the invitation)
        shadow = User.objects.get(email=shadow_email_for(agency=agency, staff_email=STAFF))
        member_role_change(member=shadow, role=role, actor=owner)
    assert browser.get("/wallet/").status_code == 401
    assert browser.post("/billing/subscription/cancel/").status_code == 302  # to the login: signed out
    assert not browser.session.get("_auth_user_id")
