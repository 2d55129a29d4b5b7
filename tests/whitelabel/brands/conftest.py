import pytest

from billing.models import Plan
from billing.services import tenant_plan_assign

WHITE_LABEL_PLAN_CODE = "white-label"


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    """Uploads land in the test's own folder, never in .data/media."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def alpha_white_label(tenant_alpha):
    tenant_plan_assign(tenant=tenant_alpha, plan=Plan.objects.get(code=WHITE_LABEL_PLAN_CODE))
    return tenant_alpha
