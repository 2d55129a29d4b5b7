"""accounts.permissions: the one role check every app's staff pages use (`staff_action_required`)."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import RequestFactory

from accounts.models import Role, User
from accounts.permissions import Action, staff_action_required

pytestmark = pytest.mark.django_db


@staff_action_required(Action.MANAGE_TEAM)
def team_view(request):
    return HttpResponse("reached")


def request_by(user, method: str = "get"):
    request = getattr(RequestFactory(), method)("/team/")
    request.user = user
    return request


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_role_without_the_action_gets_the_403_page_whatever_the_method(method):
    response = team_view(request_by(User(email="member@alpha.test", role=Role.MEMBER), method))

    assert response.status_code == 403
    assert b"reached" not in response.content


def test_a_role_with_the_action_reaches_the_view():
    response = team_view(request_by(User(email="admin@alpha.test", role=Role.ADMIN)))

    assert (response.status_code, response.content) == (200, b"reached")


def test_an_anonymous_visitor_is_sent_to_the_login_page():
    response = team_view(request_by(AnonymousUser()))

    assert response.status_code == 302
    assert "login" in response["Location"]
