"""Ops see the AI gateway's reservations, open, settled and swept, and cannot change them."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from metering.gateway.services import AI_REQUEST_MAX_S, SWEEP_MARGIN_S, ai_reservations_sweep, ai_reserve, slot_lease_s
from metering.models import AiReservationRecord, ModelPrice
from metering.wallets.services import wallet_credit

pytestmark = pytest.mark.django_db

RESERVATIONS = "/admin/metering/aireservationrecord/"


@pytest.fixture
def admin_client(public_client, db):
    public_client.force_login(User.objects.create_superuser("operator@tollgate.test", "pw-operator-123"))
    return public_client


@pytest.fixture
def swept(tenant_alpha) -> AiReservationRecord:
    wallet_credit(tenant=tenant_alpha, tokens=10_000, kind="purchase", reason="Purchase", idempotency_key="bought")
    reservation = ai_reserve(tenant=tenant_alpha, price=ModelPrice.objects.get(model="claude-haiku-4-5"),
                             tokens=1_000, request_id=uuid.uuid4())
    ai_reservations_sweep(now=timezone.now() + timedelta(seconds=AI_REQUEST_MAX_S + slot_lease_s()
                                                         + SWEEP_MARGIN_S + 1))
    return AiReservationRecord.objects.get(request_id=reservation.request_id)


def test_ops_find_the_reservations_the_sweep_settled(admin_client, swept):
    response = admin_client.get(RESERVATIONS, {"outcome__exact": "swept"})

    assert response.status_code == 200
    assert str(swept.request_id) in response.content.decode()


def test_reservations_cannot_be_added_changed_or_deleted_in_the_admin(admin_client, swept):
    page = admin_client.get(f"{RESERVATIONS}{swept.pk}/change/")

    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert admin_client.post(f"{RESERVATIONS}{swept.pk}/change/", {"outcome": "settled"}).status_code == 403
    assert admin_client.get(f"{RESERVATIONS}add/").status_code == 403
    assert admin_client.post(f"{RESERVATIONS}{swept.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AiReservationRecord.objects.get(pk=swept.pk).outcome == "swept"
