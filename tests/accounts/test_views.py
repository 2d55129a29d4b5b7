import logging
import re
from datetime import timedelta

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from django.core import mail
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import Invitation, Role, User
from tests.support.staff import ROLES, staff_client, staff_user_create
from tests.support.tenants import client_for

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-long-unusual-passphrase-77"
TEAM_MANAGERS = [Role.OWNER, Role.ADMIN]
NOT_TEAM_MANAGERS = [Role.MEMBER, Role.BILLING]


def alpha_user(email: str) -> User:
    with schema_context("alpha"):
        return User.objects.get(email=email)


def invite(client: Client, capture, email: str = "new@alpha.test", role: str = Role.MEMBER):
    with capture(execute=True):
        return client.post("/team/invitations/", {"email": email, "role": role})


def role_form(member: User, role: str) -> dict:
    return {f"member-{member.pk}-role": role}


def accept_path(message) -> str:
    return re.search(r"http://alpha\.localhost(/invitations/[^/\s]+/)", message.body).group(1)


def accept_form(full_name: str = "New Person", password: str = NEW_PASSWORD) -> dict:
    return {"full_name": full_name, "password1": password, "password2": password}


@pytest.fixture
def invitation_link(alpha_owner_client, django_capture_on_commit_callbacks) -> str:
    invite(alpha_owner_client, django_capture_on_commit_callbacks)
    return accept_path(mail.outbox[-1])


# --- Who sees and does what ----------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_the_member_list(tenant_alpha, role):
    response = staff_client(tenant_alpha, role).get("/team/")

    assert response.status_code == 200
    assert b"owner@alpha.test" in response.content


@pytest.mark.parametrize("role", NOT_TEAM_MANAGERS)
def test_roles_without_team_management_get_no_forms_or_buttons(tenant_alpha, role):
    response = staff_client(tenant_alpha, role).get("/team/")

    assert b"/team/invitations/" not in response.content
    assert b"/team/members/" not in response.content
    assert b"Send invitation" not in response.content
    assert b"Change role" not in response.content


@pytest.mark.parametrize("role", TEAM_MANAGERS)
def test_team_managers_get_the_invite_form_and_member_controls(tenant_alpha, role):
    staff_user_create(tenant_alpha, Role.MEMBER, "someone@alpha.test")

    response = staff_client(tenant_alpha, role).get("/team/")

    assert b'action="/team/invitations/"' in response.content
    assert b"/remove/" in response.content
    assert b"/role/" in response.content


@pytest.mark.parametrize("role", TEAM_MANAGERS)
def test_team_managers_can_invite(tenant_alpha, role, django_capture_on_commit_callbacks):
    response = invite(staff_client(tenant_alpha, role), django_capture_on_commit_callbacks)

    assert response.status_code == 302
    with schema_context("alpha"):
        assert Invitation.objects.filter(email="new@alpha.test").exists()


def test_an_admin_is_offered_no_owner_role_and_no_controls_on_owners(tenant_alpha):
    response = staff_client(tenant_alpha, Role.ADMIN).get("/team/")
    owner = alpha_user("owner@alpha.test")

    assert b'value="owner"' not in response.content
    assert f"/team/members/{owner.pk}/".encode() not in response.content


@pytest.mark.parametrize("role", NOT_TEAM_MANAGERS)
@pytest.mark.parametrize("method, path", [
    ("post", "/team/invitations/"),
    ("post", "/team/invitations/1/resend/"),
    ("post", "/team/invitations/1/revoke/"),
    ("post", "/team/members/1/role/"),
    ("get", "/team/members/1/remove/"),
    ("post", "/team/members/1/remove/"),
])
def test_team_changes_by_direct_url_answer_403_for_roles_without_team_management(tenant_alpha, role, method, path):
    client = staff_client(tenant_alpha, role)

    response = getattr(client, method)(path, {"email": "x@alpha.test", "role": Role.OWNER})

    assert response.status_code == 403
    assert b"Your role doesn" in response.content
    with schema_context("alpha"):
        assert User.objects.get(email="owner@alpha.test").role == Role.OWNER
        assert not Invitation.objects.exists()


def test_anonymous_visitors_of_the_team_page_go_to_login(alpha_client):
    response = alpha_client.get("/team/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- Inviting ----------------------------------------------------------------------------------

def test_an_invitation_emails_a_link_on_the_tenants_host(alpha_owner_client, django_capture_on_commit_callbacks):
    response = invite(alpha_owner_client, django_capture_on_commit_callbacks, role=Role.ADMIN)

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new@alpha.test"]
    assert "Alpha Co" in mail.outbox[0].subject
    assert accept_path(mail.outbox[0])


def test_a_sent_invitation_is_listed_as_pending(alpha_owner_client, django_capture_on_commit_callbacks):
    invite(alpha_owner_client, django_capture_on_commit_callbacks)

    response = alpha_owner_client.get("/team/", follow=True)

    assert b"Pending invitations" in response.content
    assert b"new@alpha.test" in response.content
    assert b"Invitation sent to new@alpha.test" in response.content


def test_inviting_a_current_member_shows_a_field_error(alpha_owner_client, django_capture_on_commit_callbacks):
    response = invite(alpha_owner_client, django_capture_on_commit_callbacks, email="owner@alpha.test")

    assert response.status_code == 400
    assert b"already on the team" in response.content
    assert not mail.outbox


def test_an_invalid_email_shows_a_field_error(alpha_owner_client, django_capture_on_commit_callbacks):
    response = invite(alpha_owner_client, django_capture_on_commit_callbacks, email="not-an-address")

    assert response.status_code == 400
    assert b"Enter a valid email address." in response.content


def test_an_admin_cannot_invite_an_owner(tenant_alpha, django_capture_on_commit_callbacks):
    response = invite(staff_client(tenant_alpha, Role.ADMIN), django_capture_on_commit_callbacks, role=Role.OWNER)

    assert response.status_code == 400
    assert b"Select a valid choice" in response.content
    with schema_context("alpha"):
        assert not Invitation.objects.exists()


# --- Accepting ---------------------------------------------------------------------------------

def test_the_accept_page_shows_workspace_email_and_role(alpha_client, invitation_link):
    response = alpha_client.get(invitation_link)

    assert response.status_code == 200
    assert b"Alpha Co" in response.content
    assert b"new@alpha.test" in response.content
    assert b"Member" in response.content


def test_accepting_sets_the_password_and_lands_signed_in_on_the_dashboard(alpha_client, invitation_link):
    response = alpha_client.post(invitation_link, accept_form(), follow=True)

    assert response.redirect_chain[-1][0] == "/"
    assert response.wsgi_request.user.email == "new@alpha.test"
    joined = alpha_user("new@alpha.test")
    assert joined.role == Role.MEMBER
    assert joined.full_name == "New Person"
    assert joined.check_password(NEW_PASSWORD)


def test_a_returning_member_with_totp_is_not_signed_in_past_the_second_factor(alpha_owner_client, tenant_alpha,
                                                                              django_capture_on_commit_callbacks):
    returning = staff_user_create(tenant_alpha, Role.MEMBER, email="returning@alpha.test")
    with schema_context("alpha"):
        Authenticator.objects.create(user=returning, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"})
    alpha_owner_client.post(f"/team/members/{returning.pk}/remove/")
    invite(alpha_owner_client, django_capture_on_commit_callbacks, email="returning@alpha.test")

    response = client_for(tenant_alpha).post(accept_path(mail.outbox[-1]), accept_form())

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert not response.wsgi_request.user.is_authenticated
    assert alpha_user("returning@alpha.test").check_password(NEW_PASSWORD)


def test_mismatched_passwords_show_an_error_and_create_no_account(alpha_client, invitation_link):
    response = alpha_client.post(invitation_link, {**accept_form(), "password2": "something-else-entirely"})

    assert response.status_code == 200
    assert b"don&#x27;t match" in response.content
    with schema_context("alpha"):
        assert not User.objects.filter(email="new@alpha.test").exists()


def test_a_failed_accept_keeps_the_invitation_token_out_of_the_request_log(alpha_client, invitation_link, caplog):
    # It answered 400, and Django's request logger writes the path of every 4xx: here, a valid token.
    with caplog.at_level(logging.DEBUG):
        alpha_client.post(invitation_link, {**accept_form(), "password2": "something-else-entirely"})

    assert invitation_link.split("/")[-2] not in caplog.text


def test_a_weak_password_is_refused_by_the_password_validators(alpha_client, invitation_link):
    response = alpha_client.post(invitation_link, accept_form(password="12345"))

    assert response.status_code == 200
    assert b"too short" in response.content
    with schema_context("alpha"):
        assert not User.objects.filter(email="new@alpha.test").exists()


def test_an_accepted_link_cannot_be_used_again(alpha_client, tenant_alpha, invitation_link):
    alpha_client.post(invitation_link, accept_form())

    response = client_for(tenant_alpha).get(invitation_link)

    assert response.status_code == 200
    assert b"already used" in response.content


def test_an_expired_link_fails(alpha_client, invitation_link):
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        response = alpha_client.get(invitation_link)

    assert response.status_code == 200
    assert b"expired" in response.content


def test_a_revoked_link_fails(alpha_owner_client, alpha_client, invitation_link):
    with schema_context("alpha"):
        invitation = Invitation.objects.get(email="new@alpha.test")
    alpha_owner_client.post(f"/team/invitations/{invitation.pk}/revoke/")

    response = alpha_client.post(invitation_link, accept_form())

    assert response.status_code == 200
    assert b"revoked" in response.content
    with schema_context("alpha"):
        assert not User.objects.filter(email="new@alpha.test").exists()


def test_resending_invalidates_the_old_link(alpha_owner_client, alpha_client, invitation_link,
                                            django_capture_on_commit_callbacks):
    with schema_context("alpha"):
        invitation = Invitation.objects.get(email="new@alpha.test")
    with django_capture_on_commit_callbacks(execute=True):
        alpha_owner_client.post(f"/team/invitations/{invitation.pk}/resend/")
    new_link = accept_path(mail.outbox[-1])

    old = alpha_client.get(invitation_link)
    new = alpha_client.get(new_link)

    assert new_link != invitation_link
    assert old.status_code == 200
    assert b"not valid" in old.content
    assert new.status_code == 200


def test_an_unknown_token_fails(alpha_client):
    response = alpha_client.get("/invitations/not-a-real-token/")

    assert response.status_code == 200
    assert b"not valid" in response.content


def test_resending_an_unknown_invitation_answers_404(alpha_owner_client):
    assert alpha_owner_client.post("/team/invitations/999999/resend/").status_code == 404


# --- Roles and removal -------------------------------------------------------------------------

def test_an_owner_changes_a_members_role(alpha_owner_client, tenant_alpha):
    member = staff_user_create(tenant_alpha, Role.MEMBER)

    response = alpha_owner_client.post(f"/team/members/{member.pk}/role/", role_form(member, Role.BILLING),
                                       follow=True)

    assert alpha_user(member.email).role == Role.BILLING
    assert b"is now Billing" in response.content


def test_the_last_owner_cannot_be_demoted(alpha_owner_client):
    owner = alpha_user("owner@alpha.test")

    response = alpha_owner_client.post(f"/team/members/{owner.pk}/role/", role_form(owner, Role.ADMIN), follow=True)

    assert response.status_code == 200
    assert b"at least one owner" in response.content
    assert alpha_user("owner@alpha.test").role == Role.OWNER


def test_the_last_owner_cannot_be_removed(alpha_owner_client):
    owner = alpha_user("owner@alpha.test")

    response = alpha_owner_client.post(f"/team/members/{owner.pk}/remove/", follow=True)

    assert response.status_code == 200
    assert b"at least one owner" in response.content
    assert alpha_user("owner@alpha.test").is_active


def test_an_admin_cannot_change_an_owners_role(tenant_alpha):
    owner = alpha_user("owner@alpha.test")

    response = staff_client(tenant_alpha, Role.ADMIN).post(
        f"/team/members/{owner.pk}/role/", role_form(owner, Role.MEMBER), follow=True)

    assert response.status_code == 200
    assert b"Only an owner" in response.content
    assert alpha_user("owner@alpha.test").role == Role.OWNER


def test_an_admin_cannot_make_someone_owner(tenant_alpha):
    member = staff_user_create(tenant_alpha, Role.MEMBER)

    response = staff_client(tenant_alpha, Role.ADMIN).post(
        f"/team/members/{member.pk}/role/", role_form(member, Role.OWNER), follow=True)

    assert b"Choose one of the offered roles" in response.content
    assert alpha_user(member.email).role == Role.MEMBER


def test_removing_asks_for_confirmation_first(alpha_owner_client, tenant_alpha):
    member = staff_user_create(tenant_alpha, Role.MEMBER)

    response = alpha_owner_client.get(f"/team/members/{member.pk}/remove/")

    assert response.status_code == 200
    assert b"Remove member@alpha.test from the team?" in response.content
    assert alpha_user(member.email).is_active


def test_a_removed_member_is_off_the_list_and_signed_out(alpha_owner_client, tenant_alpha):
    member_client = staff_client(tenant_alpha, Role.MEMBER)
    member = alpha_user("member@alpha.test")

    response = alpha_owner_client.post(f"/team/members/{member.pk}/remove/", follow=True)

    assert b"was removed from the team" in response.content
    assert b"<td>member@alpha.test" not in response.content
    assert member_client.get("/").status_code == 302


# --- Two-factor requirement --------------------------------------------------------------------

def test_after_the_owner_requires_mfa_a_member_without_totp_is_sent_to_set_it_up(alpha_owner_client, tenant_alpha):
    member_client = staff_client(tenant_alpha, Role.MEMBER)
    alpha_owner_client.post("/settings/", {"name": "Alpha Co", "billing_email": tenant_alpha.billing_email,
                                           "require_mfa": "on"})

    response = member_client.get("/team/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"
