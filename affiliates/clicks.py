"""Referral clicks: `/r/CODE` (optionally `?to=/a/public/path/`) and `?ref=CODE` on any page of the public site.

A click with a valid code from a browser (known bots are ignored: data/bot_user_agents.txt) is recorded without a
database write on the request: one record pushed onto a Redis list (one round trip), written in batches by the
beat job `affiliates.clicks_flush` (every 10 seconds). A flush moves a chunk atomically from the list to a leased
processing list of its own, inserts it with ON CONFLICT DO NOTHING on the click id, then deletes it: two flushes
never take the same records, a flush that dies leaves its chunk to a later one once the lease runs out, and a
chunk inserted twice counts once. So every click reaches the table exactly once.

Redis unreachable (or AFFILIATE_CLICK_BUFFER_ENABLED off): the click is inserted on the request instead. A click
is the evidence an affiliate is paid on, so losing it costs someone money, while an insert costs the visitor about
a millisecond; clicks are rare next to API calls, and an outage is rarer still, so the database can take them. Only
when both Redis and the database fail is a click lost (logged, at most once a minute).

The visitor keeps two first-party cookies: `tg_ref`, signed (django.core.signing) and valid for the program's
cookie window, with the first and the latest click in the window (click id, affiliate, time): attribution picks
one of the two by the program's setting at signup (affiliates.attribution), so the first click is never
overwritten; and `tg_device`, a random device id (stored only hashed, for the self-referral checks; the affiliate
portal gives its affiliate one too, so that the affiliate's own browser is known).
"""

from __future__ import annotations

import logging
import re
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import orjson
from django.conf import settings
from django.core import signing
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from redis.exceptions import LockError

from affiliates.fingerprints import client_ip, device_hash, ip_hash, network_hash
from affiliates.models import ReferralClick
from affiliates.program import program_get
from affiliates.selectors import affiliate_route
from config.lookup_cache import lookup_request
from config.redis_buffer import chunk_take, orphan_adopt
from config.redis_guard import failure_log, redis_available, redis_connection, redis_key

logger = logging.getLogger(__name__)

REDIRECT_PREFIX = "/r/"
REF_PARAMETER = "ref"
COOKIE_NAME = "tg_ref"
COOKIE_SALT = "affiliates.referral-cookie"
DEVICE_COOKIE_NAME = "tg_device"
DEVICE_COOKIE_MAX_AGE_S = 2 * 365 * 86400
BOT_MARKERS_FILE = Path(__file__).resolve().parent / "data" / "bot_user_agents.txt"
FLUSH_CHUNK = 1000
FLUSH_LOCK_TIMEOUT_S = 60
PROCESSING_LEASE_S = 300
FAILED_RETRY_S = 60

@dataclass(frozen=True)
class Touch:
    """One click as the referral cookie remembers it."""

    click_id: uuid.UUID
    affiliate_id: int
    at: datetime


@dataclass(frozen=True)
class ReferralCookie:
    first: Touch
    last: Touch


class ReferralRedirectMiddleware:
    """Answers `/r/CODE` on BASE_DOMAIN first, before tenant routing and everything after it: the host is the
    platform's own (as /healthz assumes), and a redirect needs no session, CSRF, user or message, while it is the
    one URL affiliates send traffic to in bulk (bench/clicks.py measures it).

    What it skips that a click still needs is done here: the HTTPS redirect comes first and the security headers
    are added (SecurityMiddleware's and XFrameOptionsMiddleware's own methods, so the settings they read still
    apply); the lookups run in a request scope of their own (config.lookup_cache.lookup_request: one read of the
    generation, zero SQL while the code and the program are cached); the connection is pointed at the public
    schema before the unbuffered fallback may insert. Another name of the public site (www.BASE_DOMAIN) gets the
    same answer from the view affiliates.views_public.referral_link, through the whole stack."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.security = SecurityMiddleware(get_response)
        self.frame_options = XFrameOptionsMiddleware(get_response)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        code = _redirect_code(request)
        if code is None or request.META.get("HTTP_HOST", "").split(":")[0] != settings.BASE_DOMAIN:
            return self.get_response(request)
        response = self.security.process_request(request)
        if response is None:
            connection.set_schema_to_public()
            with lookup_request():
                response = referral_redirect(request, code)
        self.security.process_response(request, response)
        return self.frame_options.process_response(request, response)


class ReferralClickMiddleware:
    """Records `?ref=CODE` on any page of the public host, after the page is rendered. (`/r/CODE` is
    ReferralRedirectMiddleware's on BASE_DOMAIN, and a view on the public host's other names.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        tenant = getattr(request, "tenant", None)
        if tenant is None or not tenant.is_public or request.method != "GET" or response.status_code >= 400:
            return response
        code = request.GET.get(REF_PARAMETER, "")
        if code and _redirect_code(request) is None:
            click_track(request, response, code=code, landing_path=request.path_info)
        return response


def referral_redirect(request: HttpRequest, code: str) -> HttpResponseRedirect:
    """The answer to `/r/CODE?to=...`: a redirect to the target, the click tracked on a GET (a HEAD is a link
    checker or a previewer, not a visit)."""
    target = redirect_target(request.GET.get("to", ""))
    response = HttpResponseRedirect(target)
    if request.method == "GET":
        click_track(request, response, code=code, landing_path=target)
    return response


def redirect_target(requested: str) -> str:
    """Where `/r/CODE?to=...` may send a visitor: a path of the public site other than another referral link,
    never another host (no open redirect: absolute URLs, scheme-relative `//host`, backslash tricks and control
    characters are refused), else the landing page."""
    if (not requested.startswith("/") or requested.startswith(("//", "/\\", REDIRECT_PREFIX)) or "\\" in requested
            or any(ord(character) < 33 or ord(character) == 127 for character in requested)
            or not url_has_allowed_host_and_scheme(requested, allowed_hosts=set())):
        return "/"
    path = requested.split("?", 1)[0].split("#", 1)[0]
    try:
        resolve(path, urlconf=settings.PUBLIC_SCHEMA_URLCONF)
    except Resolver404:
        return "/"
    return requested[:500]


def click_track(request: HttpRequest, response: HttpResponse, *, code: str, landing_path: str) -> uuid.UUID | None:
    """Record a click on `code` (unless it comes from a bot or names no active affiliate) and set the visitor's
    cookies on `response`. Returns the click's id, or None when nothing was recorded."""
    user_agent = request.META.get("HTTP_USER_AGENT", "")
    if is_bot(user_agent):
        return None
    route = affiliate_route(code)
    if route is None or not route.active:
        return None
    now = timezone.now()
    device_token = device_token_ensure(request, response)
    ip = client_ip(request)
    click_id = uuid.uuid4()
    click_record({
        "click_id": str(click_id), "affiliate_id": route.affiliate_id, "landing_path": landing_path[:500],
        "referrer": request.META.get("HTTP_REFERER", "")[:500], "ip_hash": ip_hash(ip),
        "network_hash": network_hash(ip), "device_hash": device_hash(device_token),
        "user_agent_class": user_agent_class(user_agent), "created_at": now.isoformat(),
    })
    program = program_get()
    touch = Touch(click_id=click_id, affiliate_id=route.affiliate_id, at=now)
    previous = referral_cookie_read(request.COOKIES, now=now, window_days=program.cookie_days)
    cookie = ReferralCookie(first=previous.first if previous else touch, last=touch)
    response.set_cookie(COOKIE_NAME, _cookie_dump(cookie), max_age=program.cookie_days * 86400, httponly=True,
                        samesite="Lax", secure=settings.SESSION_COOKIE_SECURE)
    return click_id


def device_token_ensure(request: HttpRequest, response: HttpResponse) -> str:
    """The browser's device id (the `tg_device` cookie), given one on `response` when it has none yet."""
    device_token = request.COOKIES.get(DEVICE_COOKIE_NAME, "")
    if not _device_token_valid(device_token):
        device_token = secrets.token_hex(16)
        response.set_cookie(DEVICE_COOKIE_NAME, device_token, max_age=DEVICE_COOKIE_MAX_AGE_S, httponly=True,
                            samesite="Lax", secure=settings.SESSION_COOKIE_SECURE)
    return device_token


def referral_cookie_read(cookies: dict[str, str], *, now: datetime, window_days: int) -> ReferralCookie | None:
    """The visitor's first and latest clicks, if the cookie is ours (signed) and its first click is inside the
    window; a latest click outside it cannot be (it is newer). None otherwise."""
    raw = cookies.get(COOKIE_NAME, "")
    if not raw:
        return None
    try:
        data = signing.loads(raw, salt=COOKIE_SALT, max_age=timedelta(days=window_days))
        first, last = (_touch_load(data[key]) for key in ("f", "l"))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    window_start = now - timedelta(days=window_days)
    if last.at < window_start:
        return None
    return ReferralCookie(first=first if first.at >= window_start else last, last=last)


def is_bot(user_agent: str) -> bool:
    """An empty user agent, or one with a known crawler's, previewer's or script's marker."""
    return not user_agent or _bot_pattern().search(user_agent) is not None


def user_agent_class(user_agent: str) -> str:
    lowered = user_agent.lower()
    if "ipad" in lowered or "tablet" in lowered or ("android" in lowered and "mobile" not in lowered):
        return ReferralClick.UserAgentClass.TABLET
    if "mobi" in lowered or "iphone" in lowered:
        return ReferralClick.UserAgentClass.MOBILE
    if any(system in lowered for system in ("windows", "macintosh", "x11", "linux", "cros")):
        return ReferralClick.UserAgentClass.DESKTOP
    return ReferralClick.UserAgentClass.OTHER


def click_record(record: dict) -> None:
    """Buffer one click in Redis, or insert it when the buffer is off or Redis is unavailable (see the module)."""
    payload = orjson.dumps(record)
    if settings.AFFILIATE_CLICK_BUFFER_ENABLED and redis_available():
        try:
            redis_connection().rpush(clicks_key(), payload)
            return
        except Exception as error:
            failure_log("affiliate_click_buffer_unavailable", error=type(error).__name__)
    try:
        clicks_insert([record])
    except Exception as error:
        failure_log("affiliate_click_lost", error=type(error).__name__)


def clicks_insert(records: list[dict]) -> int:
    """Insert clicks, skipping ids already stored and affiliates deleted since the click (one statement)."""
    if not records:
        return 0
    rows = [
        (record["click_id"], record["affiliate_id"], record["landing_path"], record["referrer"], record["ip_hash"],
         record["network_hash"], record["device_hash"], record["user_agent_class"], record["created_at"])
        for record in records
    ]
    placeholders = ", ".join(["(%s::uuid, %s::bigint, %s, %s, %s, %s, %s, %s, %s::timestamptz)"] * len(rows))
    table = ReferralClick._meta.db_table
    affiliate_table = ReferralClick._meta.get_field("affiliate").related_model._meta.db_table
    sql = (
        f"INSERT INTO {table} (click_id, affiliate_id, landing_path, referrer, ip_hash, network_hash, device_hash, "
        f"user_agent_class, created_at) "
        f"SELECT v.* FROM (VALUES {placeholders}) AS v(click_id, affiliate_id, landing_path, referrer, ip_hash, "
        f"network_hash, device_hash, user_agent_class, created_at) "
        f"JOIN {affiliate_table} a ON a.id = v.affiliate_id "
        f"ON CONFLICT (click_id) DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for row in rows for value in row])
        return cursor.rowcount


def clicks_flush(*, max_chunks: int = 100) -> int:
    """Write buffered clicks to the table: chunks a dead flush left behind first, then the buffer. Returns how many
    records were taken off Redis (stored, or already stored)."""
    redis = redis_connection()
    lock = redis.lock(clicks_key("flush-lock"), timeout=FLUSH_LOCK_TIMEOUT_S)
    if not lock.acquire(blocking=False):
        return 0
    processed = 0
    try:
        for _ in range(max_chunks):
            processing_key = clicks_key("processing", uuid.uuid4().hex)
            items = _orphan_adopt(redis, processing_key) or _chunk_take(redis, processing_key)
            if not items:
                break
            try:
                clicks_insert([orjson.loads(item) for item in items])
            except Exception:
                # Retried in a minute; the flushes in between go on with the buffer.
                redis.zadd(_registry_key(), {processing_key: time.time() + FAILED_RETRY_S})
                raise
            redis.pipeline(transaction=True).delete(processing_key).zrem(_registry_key(), processing_key).execute()
            processed += len(items)
            try:
                lock.reacquire()
            except LockError:
                logger.warning("affiliate_clicks_flush_lock_lost processed=%s", processed)
                break
    finally:
        try:
            lock.release()
        except LockError:
            logger.warning("affiliate_clicks_flush_lock_lapsed processed=%s", processed)
    return processed


def clicks_key(*parts: str) -> str:
    """The buffer (no parts), "flush-lock", "processing" (the registry of chunks being flushed) and
    "processing", <id> (one chunk)."""
    return redis_key("affiliate-clicks", *parts)


def _registry_key() -> str:
    return clicks_key("processing")


def _chunk_take(redis, processing_key: str) -> list[bytes]:
    return chunk_take(redis, buffer_key=clicks_key(), processing_key=processing_key, registry_key=_registry_key(),
                      chunk=FLUSH_CHUNK, lease_s=PROCESSING_LEASE_S)


def _orphan_adopt(redis, processing_key: str) -> list[bytes]:
    return orphan_adopt(redis, processing_key=processing_key, registry_key=_registry_key(),
                        lease_s=PROCESSING_LEASE_S)


def _redirect_code(request: HttpRequest) -> str | None:
    """The code of a GET or HEAD `/r/CODE`, else None."""
    path = request.path_info
    if not path.startswith(REDIRECT_PREFIX) or request.method not in ("GET", "HEAD"):
        return None
    code = path[len(REDIRECT_PREFIX):].strip("/")
    return code if code and "/" not in code else None


@cache
def _bot_pattern() -> re.Pattern:
    # One case-insensitive alternation: one scan of the user agent instead of one per marker.
    lines = BOT_MARKERS_FILE.read_text().splitlines()
    markers = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    return re.compile("|".join(re.escape(marker) for marker in markers), re.IGNORECASE)


def _device_token_valid(token: str) -> bool:
    return 16 <= len(token) <= 64 and token.isalnum()


def _cookie_dump(cookie: ReferralCookie) -> str:
    return signing.dumps({"f": _touch_dump(cookie.first), "l": _touch_dump(cookie.last)}, salt=COOKIE_SALT,
                         compress=False)


def _touch_dump(touch: Touch) -> list:
    return [touch.click_id.hex, touch.affiliate_id, int(touch.at.timestamp())]


def _touch_load(data: list) -> Touch:
    click_id, affiliate_id, at = data
    return Touch(click_id=uuid.UUID(click_id), affiliate_id=int(affiliate_id),
                 at=datetime.fromtimestamp(int(at), tz=UTC))
