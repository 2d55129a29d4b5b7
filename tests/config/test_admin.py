import pytest
from django.contrib import admin
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from config.admin import ReadOnlyAdminMixin
from metering.models import AiReservationRecord, Wallet, WalletEntry
from tenants.models import TenantAuditLog


class Superuser(AnonymousUser):
    """Every permission Django could grant: only the mixin can say no."""

    is_active = is_staff = is_superuser = True

    def has_perm(self, perm, obj=None) -> bool:
        return True


@pytest.fixture
def superuser_request():
    request = RequestFactory().get("/admin/")
    request.user = Superuser()
    return request


@pytest.mark.parametrize("model", [TenantAuditLog, WalletEntry, AiReservationRecord])
def test_read_only_admins_refuse_add_change_and_delete_even_to_a_superuser(model, superuser_request):
    model_admin = admin.site._registry[model]

    assert isinstance(model_admin, ReadOnlyAdminMixin)
    assert (model_admin.has_add_permission(superuser_request), model_admin.has_change_permission(superuser_request),
            model_admin.has_delete_permission(superuser_request)) == (False, False, False)


def test_a_read_only_inline_refuses_add_change_and_delete_on_its_parent(superuser_request):
    wallet_admin = admin.site._registry[Wallet]
    (ledger,) = [inline for inline in wallet_admin.get_inline_instances(superuser_request, obj=Wallet())
                 if inline.model is WalletEntry]

    assert isinstance(ledger, ReadOnlyAdminMixin)
    assert (ledger.has_add_permission(superuser_request, Wallet()), ledger.has_change_permission(superuser_request),
            ledger.has_delete_permission(superuser_request)) == (False, False, False)


def test_the_viewing_permission_is_left_to_django(superuser_request):
    assert admin.site._registry[TenantAuditLog].has_view_permission(superuser_request) is True
