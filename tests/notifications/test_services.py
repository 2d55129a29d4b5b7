"""notify tells each person a cause once, in the app and by email, as their role and preferences allow."""

import pytest
from django.core import mail
from django.db import connection
from django_tenants.utils import get_public_schema_name, schema_context

from notifications.categories import Category
from notifications.models import Notification, NotificationEmail
from notifications.selectors import Channels
from notifications.services import notification_email_send, notification_preferences_update, notify, notify_ops
from tests.support.factories import OpsUserFactory, StaffUserFactory
from tests.support.staff import staff_user_create
from tests.support.tenants import owner_of

pytestmark = pytest.mark.django_db


def announce(tenant, *, category=Category.PAYMENT_FAILED, cause="payment:1:attempt:1", **options):
    return notify(tenant=tenant, category=category, cause=cause, title="Payment failed",
                  body="The payment of invoice TG-1 failed.", link="/billing/", **options)


def prefer(tenant, category: str, *, in_app: bool, email: bool) -> None:
    with schema_context(tenant.schema_name):
        notification_preferences_update(user=owner_of(tenant), choices={category: Channels(in_app=in_app, email=email)})


def told(tenant, category=Category.PAYMENT_FAILED) -> list[str]:
    with schema_context(tenant.schema_name):
        return sorted(Notification.objects.filter(category=category).values_list("recipient__email", flat=True))


def test_a_cause_announced_twice_makes_one_row_per_person_and_one_email(tenant_alpha,
                                                                        django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = announce(tenant_alpha)
        second = announce(tenant_alpha)

    assert (first.notified, second.notified) == (1, 0)
    assert first.email is not None and second.email is None
    assert told(tenant_alpha) == [tenant_alpha.owner_email]
    assert [message.to for message in mail.outbox] == [[tenant_alpha.owner_email]]


def test_each_payment_attempt_is_its_own_cause(tenant_alpha, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        announce(tenant_alpha, cause="payment:1:attempt:1")
        announce(tenant_alpha, cause="payment:1:attempt:2")

    assert len(told(tenant_alpha)) == 2 and len(mail.outbox) == 2


def test_the_email_waits_for_the_announcing_transaction_to_commit(tenant_alpha, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        announce(tenant_alpha)

    assert mail.outbox == [] and len(callbacks) == 1


def test_a_retried_email_task_sends_nothing_more(tenant_alpha, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        email = announce(tenant_alpha).email

    again = notification_email_send(schema_name=tenant_alpha.schema_name, email_id=email.pk)

    assert again is False and len(mail.outbox) == 1


def test_an_email_whose_task_was_lost_goes_out_when_the_cause_is_announced_again(tenant_alpha,
                                                                                  django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        announce(tenant_alpha)  # its task never runs: the broker lost it
    with django_capture_on_commit_callbacks(execute=True):
        announce(tenant_alpha)

    assert len(mail.outbox) == 1
    with schema_context(tenant_alpha.schema_name):
        assert NotificationEmail.objects.get().sent_at is not None


def test_the_email_has_the_title_body_and_an_absolute_link(tenant_alpha, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        announce(tenant_alpha)

    [message] = mail.outbox
    assert message.subject == "Payment failed"
    assert "The payment of invoice TG-1 failed." in message.body
    assert "http://alpha.localhost/billing/" in message.body
    assert "http://alpha.localhost/billing/" in message.alternatives[0][0]


def test_a_person_who_turned_email_off_is_told_in_the_app_only(tenant_alpha, django_capture_on_commit_callbacks):
    prefer(tenant_alpha, Category.PAYMENT_FAILED, in_app=True, email=False)

    with django_capture_on_commit_callbacks(execute=True):
        delivery = announce(tenant_alpha)

    assert delivery.email is None and mail.outbox == []
    assert told(tenant_alpha) == [tenant_alpha.owner_email]


def test_a_person_who_turned_in_app_off_gets_only_the_email(tenant_alpha, django_capture_on_commit_callbacks):
    prefer(tenant_alpha, Category.PAYMENT_FAILED, in_app=False, email=True)

    with django_capture_on_commit_callbacks(execute=True):
        announce(tenant_alpha)

    assert told(tenant_alpha) == [] and len(mail.outbox) == 1


def test_a_preference_for_one_category_leaves_the_others_alone(tenant_alpha, django_capture_on_commit_callbacks):
    prefer(tenant_alpha, Category.USAGE_ALERT, in_app=False, email=False)

    with django_capture_on_commit_callbacks(execute=True):
        announce(tenant_alpha)

    assert told(tenant_alpha) == [tenant_alpha.owner_email] and len(mail.outbox) == 1


def test_billing_categories_reach_owners_and_billing_members_only(tenant_alpha, django_capture_on_commit_callbacks):
    for role in ("admin", "member", "billing"):
        staff_user_create(tenant_alpha, role)

    with django_capture_on_commit_callbacks(execute=True):
        announce(tenant_alpha)

    assert told(tenant_alpha) == ["billing@alpha.test", tenant_alpha.owner_email]
    assert sorted(mail.outbox[0].to) == ["billing@alpha.test", tenant_alpha.owner_email]


def test_roles_given_by_the_caller_replace_the_categorys(tenant_alpha, django_capture_on_commit_callbacks):
    staff_user_create(tenant_alpha, "member")

    with django_capture_on_commit_callbacks(execute=True):
        announce(tenant_alpha, roles=["member"])

    assert told(tenant_alpha) == ["member@alpha.test"]


def test_removed_staff_are_not_told(tenant_alpha, django_capture_on_commit_callbacks):
    StaffUserFactory(tenant=tenant_alpha, role="billing", email="gone@alpha.test", is_active=False)

    with django_capture_on_commit_callbacks(execute=True):
        announce(tenant_alpha)

    assert told(tenant_alpha) == [tenant_alpha.owner_email]


def test_email_to_replaces_the_members_addresses(tenant_alpha, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        announce(tenant_alpha, email_to=["accounts@alpha.test"])

    assert [message.to for message in mail.outbox] == [["accounts@alpha.test"]]
    assert told(tenant_alpha) == [tenant_alpha.owner_email]


def test_a_tenants_notification_is_written_in_its_own_schema_only(tenant_alpha, tenant_beta):
    announce(tenant_alpha)

    assert told(tenant_beta) == []
    assert connection.schema_name == get_public_schema_name()


def test_a_new_staff_member_is_welcomed_in_the_bell_without_an_email(tenant_alpha,
                                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        member = staff_user_create(tenant_alpha, "member")

    with schema_context(tenant_alpha.schema_name):
        welcome = Notification.objects.get(category=Category.WELCOME, recipient=member)
    assert welcome.title == "Welcome to Alpha Co"
    assert mail.outbox == []


def test_ops_are_told_in_the_public_schema(tenant_alpha, django_capture_on_commit_callbacks):
    operator = OpsUserFactory()

    with django_capture_on_commit_callbacks(execute=True):
        notify_ops(category=Category.AI_COST_ALERT, cause="ai_cost:2026-11-20", title="AI spend", body="High.")

    assert list(Notification.objects.values_list("recipient_id", flat=True)) == [operator.pk]
    assert [message.to for message in mail.outbox] == [[operator.email]]
    assert told(tenant_alpha, Category.AI_COST_ALERT) == []
