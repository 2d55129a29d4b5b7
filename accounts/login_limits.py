"""The failed-login limit (allauth's `login_failed` in ACCOUNT_RATE_LIMITS: per client IP and per email) for every
place that checks a staff member's password, not only allauth's login form."""

from allauth.account.adapter import get_adapter
from django.core.exceptions import ValidationError
from django.http import HttpRequest


def login_attempts_key(*, schema_name: str, email: str) -> str:
    """The per-email key of the limit: the workspace and the address, whatever host or page the attempt came from."""
    return f"{schema_name}:{email.strip().lower()}"


def staff_password_check(request: HttpRequest, *, email: str, password: str) -> bool:
    """Whether `password` is the password of the staff member `email` of the current schema's workspace.

    Checked exactly as allauth's login checks it (its adapter's `authenticate`): a wrong password counts as a
    failed login for the email and for the client's IP, a right one takes its count back, and once the limit is
    reached the answer is False without the password being looked at, so no other form can be used to guess
    passwords past the login page's limit. Run it inside the workspace's schema (the counts live in its cache
    namespace).
    """
    try:
        user = get_adapter(request).authenticate(request, email=email, password=password)
    except ValidationError:
        # allauth's "too many failed login attempts": refused before any password check.
        return False
    return user is not None
