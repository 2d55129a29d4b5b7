"""Subscription services racing for real: two threads, each on its own connection, committing. The tenant who
wants two subscriptions (two trials) by starting twice at once, and two tenants racing for a promotion code's
last redemption."""

import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection

from billing.errors import CouponInvalid, SubscriptionStateInvalid
from billing.models import (
    Coupon, CouponRedemption, PendingInvoiceItem, Price, PromotionCode, Subscription, SubscriptionEvent,
)
from billing.subscriptions import services
from billing.subscriptions.services import promotion_code_redeem, subscription_start
from tenants.models import Tenant
from tests.support.clock import NOW


@pytest.fixture
def committed_tenants(committed_db, monkeypatch):
    for name in ("_start_invoice", "_prorations_invoice_now", "_period_close_invoice"):
        monkeypatch.setattr(services, name, lambda *args, **kwargs: None)
    tenants = list(Tenant.objects.filter(slug__in=["alpha", "beta"]).order_by("slug"))
    yield tenants
    CouponRedemption.objects.filter(tenant__in=tenants).delete()
    SubscriptionEvent.objects.filter(tenant__in=tenants).delete()
    PendingInvoiceItem.objects.filter(tenant__in=tenants).delete()
    Subscription.objects.filter(tenant__in=tenants).delete()
    PromotionCode.objects.filter(code="LASTONE").delete()
    Coupon.objects.filter(code="last-one").delete()


def race(*works: Callable[[], object]) -> tuple[list[object], list[Exception]]:
    barrier = threading.Barrier(len(works))
    results: list[object] = []
    errors: list[Exception] = []

    def run(work) -> None:
        try:
            barrier.wait(timeout=10)
            results.append(work())
        except Exception as error:  # the outcome under test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(work,)) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


def test_two_simultaneous_starts_make_one_subscription(committed_tenants):
    alpha = committed_tenants[0]
    pro = Price.objects.get(code="pro-month-usd")

    def start():
        return subscription_start(tenant=alpha, price=pro, actor="owner@alpha.test", now=NOW)

    results, errors = race(start, start)

    assert (len(results), [type(error) for error in errors]) == (1, [SubscriptionStateInvalid])
    assert Subscription.objects.filter(tenant=alpha).count() == 1


def test_two_tenants_racing_for_the_last_redemption_get_it_once(committed_tenants):
    coupon = Coupon.objects.create(code="last-one", name="Last one", percent_off=Decimal("50"))
    PromotionCode.objects.create(code="LASTONE", coupon=coupon, max_redemptions=1)
    pro = Price.objects.get(code="pro-month-usd")
    subscriptions = [subscription_start(tenant=tenant, price=pro, actor="owner", now=NOW, trial=False)
                     for tenant in committed_tenants]

    results, errors = race(*[
        (lambda subscription=subscription: promotion_code_redeem(subscription=subscription, code="LASTONE",
                                                                 actor="owner", now=NOW))
        for subscription in subscriptions])

    assert (len(results), [type(error) for error in errors]) == (1, [CouponInvalid])
    assert CouponRedemption.objects.filter(coupon=coupon).count() == 1
    assert PromotionCode.objects.get(code="LASTONE").times_redeemed == 1
    assert Coupon.objects.get(code="last-one").times_redeemed == 1
