import pytest
from django_tenants.utils import schema_context

from accounts.models import Role, User
from tests.support.api import api_client, api_key_for

pytestmark = pytest.mark.django_db


def test_team_members_lists_the_active_staff_of_the_keys_tenant(tenant_alpha, tenant_beta):
    with schema_context("alpha"):
        User.objects.create_user("member@alpha.test", "pw-member-12345", role=Role.MEMBER)
        User.objects.create_user("gone@alpha.test", "pw-member-12345", role=Role.MEMBER, is_active=False)

    response = api_client(tenant_alpha, api_key_for(tenant_alpha, scopes=["read"])).get("/api/v1/team/members")

    assert response.status_code == 200
    members = {item["email"]: item["role"] for item in response.json()["data"]}
    assert members == {"owner@alpha.test": "owner", "member@alpha.test": "member"}
