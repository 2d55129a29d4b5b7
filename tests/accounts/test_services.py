"""accounts.services called directly, in a tenant's schema: invitations, role changes and removal (the team page's
tests in test_views.py go through the forms)."""

import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django_tenants.utils import schema_context

from accounts.exceptions import AlreadyMember, InvitationInvalid, LastOwner, NotAllowed
from accounts.models import Invitation, Role, User
from accounts.services import (
    invitation_accept,
    invitation_create,
    invitation_for_token,
    invitation_resend,
    invitation_revoke,
    member_remove,
    member_role_change,
    token_hash,
)
from tests.support.clock import NOW
from tests.support.factories import StaffUserFactory
from tests.support.tenants import owner_of

pytestmark = pytest.mark.django_db

SITE = "http://alpha.localhost"
NEW_PASSWORD = "a-long-unusual-passphrase-77"


@pytest.fixture
def owner(tenant_alpha):
    """Alpha's owner, with the connection in alpha's schema for the whole test (services run in the current one)."""
    owner = owner_of(tenant_alpha)
    with schema_context(tenant_alpha.schema_name):
        yield owner


def invite(inviter: User, email: str = "new@alpha.test", role: str = Role.MEMBER) -> Invitation:
    return invitation_create(email=email, role=role, invited_by=inviter, site_url=SITE, workspace_name="Alpha Co")


def invite_and_read_token(inviter: User, capture, **fields) -> str:
    """Invite, send the email as the commit would, and return the token its link carries."""
    with capture(execute=True):
        invite(inviter, **fields)
    return re.search(r"/invitations/([^/]+)/", mail.outbox[-1].body).group(1)


# --- Invitations ----------------------------------------------------------------------------------

def test_an_invitation_keeps_only_the_tokens_hash_and_lasts_seven_days(owner, frozen_now,
                                                                          django_capture_on_commit_callbacks):
    token = invite_and_read_token(owner, django_capture_on_commit_callbacks, email=" New@Alpha.TEST ")

    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.token_hash) == ("new@alpha.test", token_hash(token))
    assert invitation.expires_at == NOW + timedelta(days=7)


def test_the_invitation_email_goes_out_only_once_the_invitation_is_committed(owner,
                                                                              django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        invite(owner)

    assert mail.outbox == [] and len(callbacks) == 1


def test_a_role_without_team_management_cannot_invite(owner, tenant_alpha):
    member = StaffUserFactory(tenant=tenant_alpha, role=Role.MEMBER)

    with pytest.raises(NotAllowed):
        invite(member)
    assert not Invitation.objects.exists()


def test_an_admin_cannot_invite_an_owner(owner, tenant_alpha):
    admin = StaffUserFactory(tenant=tenant_alpha, role=Role.ADMIN)

    with pytest.raises(NotAllowed) as refused:
        invite(admin, role=Role.OWNER)
    assert refused.value.field == "role"


def test_a_current_member_cannot_be_invited(owner, tenant_alpha):
    StaffUserFactory(tenant=tenant_alpha, email="already@alpha.test")

    with pytest.raises(AlreadyMember):
        invite(owner, email="Already@alpha.test")


def test_a_second_open_invitation_to_the_same_address_is_refused(owner):
    invite(owner)

    with pytest.raises(AlreadyMember):
        invite(owner, email="NEW@alpha.test")
    assert Invitation.objects.count() == 1


def test_accepting_creates_the_account_with_the_invited_role_and_a_verified_email(
        owner, django_capture_on_commit_callbacks):
    token = invite_and_read_token(owner, django_capture_on_commit_callbacks, role=Role.BILLING)

    user = invitation_accept(token=token, password=NEW_PASSWORD, full_name=" Nina New ")

    assert (user.email, user.role, user.full_name, user.is_active) == ("new@alpha.test", Role.BILLING, "Nina New", True)
    assert user.check_password(NEW_PASSWORD)
    assert EmailAddress.objects.get(user=user).verified
    assert Invitation.objects.get().accepted_at is not None


def test_accepting_brings_a_removed_member_back_with_the_new_role(owner, tenant_alpha,
                                                                  django_capture_on_commit_callbacks):
    removed = StaffUserFactory(tenant=tenant_alpha, email="back@alpha.test", role=Role.MEMBER, is_active=False)
    token = invite_and_read_token(owner, django_capture_on_commit_callbacks, email="back@alpha.test",
                                  role=Role.ADMIN)

    user = invitation_accept(token=token, password=NEW_PASSWORD)

    assert (user.pk, user.role, user.is_active) == (removed.pk, Role.ADMIN, True)
    assert User.objects.filter(email="back@alpha.test").count() == 1


def test_an_accepted_token_cannot_be_used_again(owner, django_capture_on_commit_callbacks):
    token = invite_and_read_token(owner, django_capture_on_commit_callbacks)
    invitation_accept(token=token, password=NEW_PASSWORD)

    with pytest.raises(InvitationInvalid, match="already used"):
        invitation_accept(token=token, password=NEW_PASSWORD)


def test_a_token_stops_working_when_its_seven_days_are_over(owner, frozen_now, django_capture_on_commit_callbacks):
    token = invite_and_read_token(owner, django_capture_on_commit_callbacks)
    frozen_now.shift(timedelta(days=7))

    with pytest.raises(InvitationInvalid, match="expired"):
        invitation_for_token(token)


def test_resending_replaces_the_link_and_restarts_the_seven_days(owner, frozen_now,
                                                                 django_capture_on_commit_callbacks):
    old_token = invite_and_read_token(owner, django_capture_on_commit_callbacks)
    frozen_now.shift(timedelta(days=6))

    with django_capture_on_commit_callbacks(execute=True):
        invitation_resend(invitation=Invitation.objects.get(), actor=owner, site_url=SITE, workspace_name="Alpha Co")

    new_token = re.search(r"/invitations/([^/]+)/", mail.outbox[-1].body).group(1)
    assert invitation_for_token(new_token).expires_at == NOW + timedelta(days=13)
    with pytest.raises(InvitationInvalid, match="not valid"):
        invitation_for_token(old_token)


def test_a_revoked_invitation_can_be_neither_accepted_nor_revoked_again(owner, django_capture_on_commit_callbacks):
    token = invite_and_read_token(owner, django_capture_on_commit_callbacks)

    invitation = invitation_revoke(invitation=Invitation.objects.get(), actor=owner)

    assert invitation.revoked_at is not None
    with pytest.raises(InvitationInvalid, match="revoked"):
        invitation_accept(token=token, password=NEW_PASSWORD)
    with pytest.raises(InvitationInvalid):
        invitation_revoke(invitation=invitation, actor=owner)


# --- Roles and removal ----------------------------------------------------------------------------

def test_an_owner_changes_a_members_role(owner, tenant_alpha):
    member = StaffUserFactory(tenant=tenant_alpha, role=Role.MEMBER)

    member_role_change(member=member, role=Role.ADMIN, actor=owner)

    assert User.objects.get(pk=member.pk).role == Role.ADMIN


def test_the_last_owner_cannot_step_down(owner):
    with pytest.raises(LastOwner):
        member_role_change(member=owner, role=Role.ADMIN, actor=owner)
    assert User.objects.get(pk=owner.pk).role == Role.OWNER


def test_an_owner_may_step_down_once_there_is_another_owner(owner, tenant_alpha):
    StaffUserFactory(tenant=tenant_alpha, role=Role.OWNER)

    member_role_change(member=owner, role=Role.ADMIN, actor=owner)

    assert User.objects.get(pk=owner.pk).role == Role.ADMIN


def test_an_admin_cannot_change_an_owners_role(owner, tenant_alpha):
    StaffUserFactory(tenant=tenant_alpha, role=Role.OWNER)
    admin = StaffUserFactory(tenant=tenant_alpha, role=Role.ADMIN)

    with pytest.raises(NotAllowed):
        member_role_change(member=owner, role=Role.ADMIN, actor=admin)


def test_removing_a_member_deactivates_the_account_and_keeps_it(owner, tenant_alpha):
    member = StaffUserFactory(tenant=tenant_alpha, role=Role.MEMBER)

    member_remove(member=member, actor=owner)

    assert User.objects.get(pk=member.pk).is_active is False


def test_the_last_owner_cannot_be_removed(owner):
    with pytest.raises(LastOwner):
        member_remove(member=owner, actor=owner)
    assert User.objects.get(pk=owner.pk).is_active


def test_an_admin_cannot_remove_an_owner(owner, tenant_alpha):
    admin = StaffUserFactory(tenant=tenant_alpha, role=Role.ADMIN)

    with pytest.raises(NotAllowed):
        member_remove(member=owner, actor=admin)
    assert User.objects.get(pk=owner.pk).is_active
