import re
import time
from datetime import UTC, datetime

import pytest
import time_machine
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.core import mail
from django.test import Client, override_settings
from django.utils import timezone

from accounts.models import User
from affiliates.exceptions import AffiliateEmailTaken, ApplicationNotPending
from affiliates.models import Affiliate, AffiliateApplication
from affiliates.services import affiliate_suspend, application_approve, application_reject, application_submit
from tests.support.factories import OpsUserFactory

pytestmark = pytest.mark.django_db

FORM = {"name": "Dana Writer", "email": "Dana@Blog.test", "website": "https://blog.test",
        "promotion": "A newsletter for 20,000 indie founders."}


def _client(ip: str = "198.51.100.20") -> Client:
    return Client(HTTP_HOST="localhost", REMOTE_ADDR=ip)


def _application(email: str = "dana@blog.test") -> AffiliateApplication:
    return application_submit(name="Dana Writer", email=email, website="https://blog.test", promotion="Newsletter",
                              ip_hash="", now=timezone.now())


def test_the_apply_page_shows_the_form():
    response = _client().get("/affiliates/apply/")

    assert response.status_code == 200
    assert b"How will you promote Tollgate?" in response.content


def test_an_application_is_stored_pending():
    response = _client().post("/affiliates/apply/", FORM)

    assert response.status_code == 302 and response["Location"] == "/affiliates/apply/done/"
    application = AffiliateApplication.objects.get()
    assert (application.email, application.status) == ("dana@blog.test", "pending") and application.ip_hash


def test_a_filled_honeypot_is_answered_like_a_success_and_stores_nothing():
    response = _client().post("/affiliates/apply/", FORM | {"company_url": "http://spam.test"})

    assert response.status_code == 302
    assert not AffiliateApplication.objects.exists()


def test_a_second_pending_application_from_one_email_is_refused_on_the_field():
    _client().post("/affiliates/apply/", FORM)

    response = _client(ip="198.51.100.21").post("/affiliates/apply/", FORM)

    assert response.status_code == 400
    assert b"already waiting for review" in response.content
    assert AffiliateApplication.objects.count() == 1


@override_settings(AFFILIATE_APPLY_RATE_LIMIT="2/h")
def test_applications_are_rate_limited_per_ip():
    client = _client(ip="198.51.100.99")
    for n in range(2):
        client.post("/affiliates/apply/", FORM | {"email": f"person{n}@blog.test"})

    response = client.post("/affiliates/apply/", FORM | {"email": "person9@blog.test"})

    assert response.status_code == 429
    assert AffiliateApplication.objects.count() == 2


def test_approval_creates_a_public_user_who_is_neither_ops_nor_staff(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        affiliate = application_approve(application=_application(), reviewer="ops@tollgate.test", now=timezone.now())

    user = User.objects.get(email="dana@blog.test")
    assert affiliate.user == user and affiliate.kind == Affiliate.Kind.AFFILIATE
    assert (user.is_staff, user.is_superuser, user.role, user.has_usable_password()) == (False, False, "", False)
    assert EmailAddress.objects.get(user=user).verified
    assert AffiliateApplication.objects.get().status == "approved"


def test_approval_gives_a_code_from_the_name_with_a_random_suffix():
    affiliate = application_approve(application=_application(), reviewer="ops@tollgate.test", now=timezone.now())

    assert re.fullmatch(r"dana-writer-[a-z0-9]{5}", affiliate.code)


def test_approval_emails_a_link_that_sets_the_password_and_opens_the_account(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        affiliate = application_approve(application=_application(), reviewer="ops@tollgate.test", now=timezone.now())
    body = mail.outbox[-1].body
    assert mail.outbox[-1].to == ["dana@blog.test"] and affiliate.code in body
    reset_path = re.search(r"http://localhost(/accounts/password/reset/key/\S+)", body).group(1)
    client = _client()

    form_path = client.get(reset_path)["Location"]  # allauth moves the key out of the URL first
    client.post(form_path, {"password1": "a-new-affiliate-pass-77", "password2": "a-new-affiliate-pass-77"})
    client.post("/accounts/login/", {"login": "dana@blog.test", "password": "a-new-affiliate-pass-77"})
    response = client.get("/dashboard/", follow=True)

    assert response.status_code == 200
    assert affiliate.code.encode() in response.content


def test_approving_twice_is_refused():
    application = _application()
    application_approve(application=application, reviewer="ops@tollgate.test", now=timezone.now())

    with pytest.raises(ApplicationNotPending):
        application_approve(application=application, reviewer="ops@tollgate.test", now=timezone.now())
    assert Affiliate.objects.count() == 1


def test_an_ops_accounts_email_is_never_made_an_affiliate():
    OpsUserFactory(email="ops-person@tollgate.test")

    with pytest.raises(AffiliateEmailTaken):
        application_approve(application=_application("OPS-person@tollgate.test"), reviewer="ops@tollgate.test",
                            now=timezone.now())
    assert not Affiliate.objects.exists()
    assert User.objects.get(email="ops-person@tollgate.test").is_staff


def test_a_rejected_application_creates_no_account():
    application_reject(application=_application(), reviewer="ops@tollgate.test", reason="Off topic",
                       now=timezone.now())

    assert AffiliateApplication.objects.get().status == "rejected"
    assert not User.objects.filter(email="dana@blog.test").exists()


def test_ops_approve_applications_from_the_admin():
    ops = OpsUserFactory()
    client = _client()
    client.force_login(ops)
    application = _application()

    client.post("/admin/affiliates/affiliateapplication/", {"action": "approve", "_selected_action": [application.pk]})

    assert Affiliate.objects.get().application == application


def test_ops_suspend_an_affiliate_from_the_admin():
    ops = OpsUserFactory()
    client = _client()
    client.force_login(ops)
    affiliate = application_approve(application=_application(), reviewer="ops@tollgate.test", now=timezone.now())

    client.post("/admin/affiliates/affiliate/", {"action": "suspend", "_selected_action": [affiliate.pk]})

    affiliate.refresh_from_db()
    assert affiliate.status == "suspended" and not affiliate.user.is_active


def test_a_suspended_affiliate_cannot_sign_in():
    affiliate = application_approve(application=_application(), reviewer="ops@tollgate.test", now=timezone.now())
    affiliate.user.set_password("a-known-affiliate-pass-1")
    affiliate.user.save()
    affiliate_suspend(affiliate=affiliate)
    client = _client()

    client.post("/accounts/login/", {"login": "dana@blog.test", "password": "a-known-affiliate-pass-1"})

    assert "_auth_user_id" not in client.session
    assert client.get("/affiliates/account/").status_code == 302


def test_the_admin_lists_clicks_per_affiliate_and_day():
    ops = OpsUserFactory()
    client = _client()
    client.force_login(ops)

    response = client.get("/admin/affiliates/referralclick/")

    assert response.status_code == 200
    assert b"Referral clicks per day" in response.content


def test_the_admin_lists_affiliates_with_their_figures():
    ops = OpsUserFactory()
    client = _client()
    client.force_login(ops)
    application_approve(application=_application(), reviewer="ops@tollgate.test", now=timezone.now())

    response = client.get("/admin/affiliates/affiliate/")

    assert response.status_code == 200 and b"Dana Writer" in response.content and b"Clicks" in response.content


def test_an_affiliate_with_totp_is_asked_for_the_code_after_the_password():
    affiliate = application_approve(application=_application(), reviewer="ops@tollgate.test", now=timezone.now())
    affiliate.user.set_password("a-known-affiliate-pass-2")
    affiliate.user.save()
    secret = generate_totp_secret()
    TOTP.activate(affiliate.user, secret)
    client = _client(ip="198.51.100.61")

    response = client.post("/accounts/login/", {"login": "dana@blog.test", "password": "a-known-affiliate-pass-2"})

    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert "_auth_user_id" not in client.session
    with time_machine.travel(datetime.now(UTC).replace(microsecond=0), tick=False):
        code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
        client.post("/accounts/2fa/authenticate/", {"code": code})
    assert client.get("/affiliates/account/").status_code == 200
