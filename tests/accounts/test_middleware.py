import pytest
from allauth.mfa.models import Authenticator
from django_tenants.utils import schema_context

from accounts.models import Role, User
from tenants.models import Tenant
from tests.support.tenants import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def member_client(tenant_alpha):
    with schema_context("alpha"):
        member = User.objects.create_user("member@alpha.test", "pw-member-12345", role=Role.MEMBER)
    client = client_for(tenant_alpha)
    with schema_context("alpha"):
        client.force_login(member, backend="django.contrib.auth.backends.ModelBackend")
    client.member = member
    return client


@pytest.fixture
def mfa_required(tenant_alpha):
    Tenant.objects.filter(pk=tenant_alpha.pk).update(require_mfa=True)


def test_without_the_requirement_members_without_mfa_use_the_product(member_client):
    assert member_client.get("/").status_code == 200


def test_when_required_a_member_without_mfa_is_sent_to_set_it_up(mfa_required, member_client):
    response = member_client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"


def test_when_required_the_mfa_setup_flow_itself_stays_reachable(mfa_required, member_client):
    response = member_client.get("/accounts/2fa/totp/activate/", follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0].startswith("/accounts/")


def test_when_required_api_calls_with_the_session_answer_mfa_required(mfa_required, member_client):
    response = member_client.get("/api/v1/tenant")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "mfa_required"


def test_when_required_a_member_with_totp_goes_on(mfa_required, member_client):
    with schema_context("alpha"):
        Authenticator.objects.create(user=member_client.member, type=Authenticator.Type.TOTP,
                                     data={"secret": "JBSWY3DPEHPK3PXP"})

    assert member_client.get("/").status_code == 200


def test_the_requirement_of_one_tenant_does_not_touch_another(mfa_required, beta_owner_client):
    assert beta_owner_client.get("/").status_code == 200
