"""Settings shared by every environment. Every secret and deployment choice comes from the environment."""

from pathlib import Path
from urllib.parse import quote

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

SECRET_KEY = env_str("SECRET_KEY", "")
DEBUG = env_bool("DEBUG", False)
BASE_DOMAIN = env_str("BASE_DOMAIN", "localhost")
# Every host reaches tenant routing, which is the allow-list: it serves only the host names of its routing table
# (BASE_DOMAIN, tenants' subdomains, active custom domains, which are added at run time) and answers any other
# with the plain 404 page before a view runs, so no page ever builds a link from a host that is not ours.
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["*"])
# Scheme and port used when the platform builds links to a tenant host (signup redirect, emails).
SITE_SCHEME = env_str("SITE_SCHEME", "https")
SITE_PORT = env_str("SITE_PORT", "")

# --- Apps -------------------------------------------------------------------------------------
# Public schema: what the operator routes, bills and pays on, plus ops accounts and admin.
SHARED_APPS = [
    # Before django_tenants so that tenants' migrate/migrate_schemas (which keep the template migrated) win.
    "tenants",
    "django_tenants",
    "accounts",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "config.apps.OpsAdminConfig",  # django.contrib.admin with the ops site
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "djstripe",
    "django_celery_beat",
    "django_ratelimit",
    "billing",
    "metering",
    "notifications",  # ops' notifications (the AI cost alert)
    "creators.catalog",  # content templates, edited by ops
    "affiliates",  # the affiliate program, tenant referrals and agencies (they span tenants)
    "whitelabel",  # brands, custom domains, sender domains, reseller prices (routing reads them before a schema)
]
# Tenant schemas: what the tenant's people create and own.
TENANT_APPS = [
    "accounts",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    # tenant-schemas-celery's TenantAwareDatabaseScheduler reads beat tables in every schema.
    "django_celery_beat",
    "notifications",  # staff notifications live with the staff they are for
    "creators",  # the coach and saved content, per staff user
]
INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
# Send `SET search_path` once per schema switch rather than before every query (half the round trips of a
# request). Safe with django-tenants 4: a rollback or a savepoint rollback, which would undo the SET, makes
# it send the SET again (tests/isolation/test_search_path.py).
TENANT_LIMIT_SET_CALLS = True
PUBLIC_SCHEMA_NAME = "public"
# New tenants are cloned from this pre-migrated schema instead of running every migration.
TENANT_BASE_SCHEMA = "tenant_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
# Processes `migrate` uses for the tenant schemas that are behind the template (up-to-date ones are skipped).
TENANT_MULTIPROCESSING_MAX_PROCESSES = int(env_str("MIGRATE_PROCESSES", "2"))
DATABASE_ROUTERS = ("django_tenants.routers.TenantSyncRouter",)
ROOT_URLCONF = "config.urls_tenant"
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
# A reseller agency's own custom domain: its public pages (landing, pricing, signup) before its workspace's URLs
# (whitelabel.portals.middleware picks it).
RESELLER_PORTAL_URLCONF = "config.urls_portal"
# Unknown hosts: a custom domain claimed but not routed yet gets a neutral "not ready" page, any other the 404 page.
DEFAULT_NOT_FOUND_TENANT_VIEW = "whitelabel.domains.views.unknown_host"

MIDDLEWARE = [
    "config.api.middleware.RequestIdMiddleware",
    # GET /r/CODE on BASE_DOMAIN, answered before routing with the security headers added (affiliates.clicks).
    "affiliates.clicks.ReferralRedirectMiddleware",
    "config.health.HealthCheckMiddleware",
    # Caddy's on-demand TLS question, on any host and before routing (whitelabel/domains/tls.py).
    "whitelabel.domains.tls.TlsAskMiddleware",
    # Before tenant routing, so even a failure there (database down) answers /api/ in the JSON error shape.
    "config.api.middleware.ApiErrorMiddleware",
    # The Content-Security-Policy of HTML pages (config/csp.py), the routing's own pages included.
    "config.csp.ContentSecurityPolicyMiddleware",
    "tenants.middleware.TenantRoutingMiddleware",
    # ?ref=CODE on any page of the public host (affiliates.clicks).
    "affiliates.clicks.ReferralClickMiddleware",
    "metering.limits.tracking.ApiCallTrackingMiddleware",
    "metering.limits.rate_limits.RateLimitHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "tenants.middleware.TenantAccessMiddleware",
    # On a reseller's own domain, its public pages (needs the tenant and, for "/", whether someone is signed in).
    "whitelabel.portals.middleware.ResellerPortalMiddleware",
    # Re-checks an agency's grant on every request of its staff in a client's workspace (before the MFA rule).
    "affiliates.agencies.middleware.AgencySessionMiddleware",
    "accounts.middleware.MfaRequiredMiddleware",
    "accounts.ops_admin.OpsAdminMfaMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenants.context_processors.current_tenant",
                "accounts.context_processors.staff_permissions",
                "billing.context_processors.current_plan",
                "metering.context_processors.usage_notices",
                "notifications.context_processors.unread_notifications",
                "whitelabel.context_processors.brand",
                "config.csp.nonce",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

# --- Database ---------------------------------------------------------------------------------
# Locally (DJANGO_ENV=local, the default) a bare `manage.py` reaches the databases `./dev up` runs.
LOCAL_DEFAULTS = env_str("DJANGO_ENV", "local") == "local"
EMBEDDED_DEV_DATABASE_URL = f"postgresql://postgres@{quote(str(BASE_DIR / '.data' / 'postgres-dev'), safe='')}/tollgate"
DATABASE_URL = env_str("DATABASE_URL", "") or (EMBEDDED_DEV_DATABASE_URL if LOCAL_DEFAULTS else "")
if not DATABASE_URL:
    raise ImproperlyConfigured(
        "DATABASE_URL is not set. `./dev up` and `./dev test` start an embedded PostgreSQL and set it."
    )
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=int(env_str("DATABASE_CONN_MAX_AGE", "60")))}
DATABASES["default"]["ENGINE"] = "config.postgres"  # django-tenants' backend, see config/postgres/base.py
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, Celery ----------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "") or ("redis://127.0.0.1:6390/0" if LOCAL_DEFAULTS else "")
if not REDIS_URL:
    raise ImproperlyConfigured("REDIS_URL is not set. `./dev up` and `./dev test` start an embedded Redis and set it.")
# Redis answers in well under a millisecond here, so a request waits little for one that does not (see
# config/redis_guard.py: no retries, at most one failed command per request, and after a failure the process
# leaves Redis alone for REDIS_CIRCUIT_OPEN_S). The Celery broker has its own connection settings.
REDIS_CONNECT_TIMEOUT_S = float(env_str("REDIS_CONNECT_TIMEOUT_S", "0.25"))
REDIS_SOCKET_TIMEOUT_S = float(env_str("REDIS_SOCKET_TIMEOUT_S", "0.5"))
REDIS_CIRCUIT_OPEN_S = float(env_str("REDIS_CIRCUIT_OPEN_S", "5"))
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        # allauth and django-ratelimit key on user ids, which repeat across tenant schemas.
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        "OPTIONS": {
            "SOCKET_CONNECT_TIMEOUT": REDIS_CONNECT_TIMEOUT_S,
            "SOCKET_TIMEOUT": REDIS_SOCKET_TIMEOUT_S,
            "CONNECTION_POOL_CLASS": "config.redis_guard.GuardedConnectionPool",
            # Django's cache API (allauth's login throttle and TOTP replay check, django-ratelimit on signup)
            # answers "not stored" instead of raising when Redis fails: those refuse, never answer 500.
            "IGNORE_EXCEPTIONS": True,
        },
    }
}
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "tenant_schemas_celery.db_scheduler:TenantAwareDatabaseScheduler"
# Redis hands a message a worker took but never acknowledged to another worker after this long. A task acknowledged
# late (billing.invoice_charge) comes back this way from a worker killed outright; the timeout must exceed the
# longest a task runs and the longest countdown it is retried with (invoice_charge: at most one hour), or a retry
# waiting in a worker would be delivered a second time while the first still waits (kombu's default is one hour).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(env_str("CELERY_VISIBILITY_TIMEOUT_S", "7200"))}
CELERY_TASK_ALWAYS_EAGER = False

# --- Auth -------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
# Argon2 first: memory-hard, and fast enough that signup stays inside its one-second budget.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"

ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_ADAPTER = "accounts.adapters.TenantAccountAdapter"
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}
# Behind proxies, how many append to X-Forwarded-For: the login throttle then counts the client's address, not
# the proxy's (0 counts REMOTE_ADDR, which behind a proxy would be one address for every client).
ALLAUTH_TRUSTED_PROXY_COUNT = int(env_str("ALLAUTH_TRUSTED_PROXY_COUNT", "0"))
ACCOUNT_DEFAULT_HTTP_PROTOCOL = SITE_SCHEME
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Tollgate"
# Every staff account using the ops admin must have TOTP and pass it (accounts/ops_admin.py). On in production;
# off here so that the local demo's operator signs in with a password.
OPS_REQUIRE_MFA = env_bool("OPS_REQUIRE_MFA", False)

# --- Sessions, security -----------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# --- I18N, static -----------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploads (brand logos and favicons) go through the default storage: the filesystem under .data/media here, any
# django-storages backend in production (set STORAGES["default"] in the production settings).
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / ".data" / "media")))
MEDIA_URL = env_str("MEDIA_URL", "/media/")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Email ------------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env_str("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"Tollgate <no-reply@{BASE_DOMAIN}>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Every transactional email is rendered and addressed through config.mail by this module: the workspace's brand
# in one layout, its sender and reply-to (whitelabel.email).
EMAIL_COMPOSER = "whitelabel.email.composer"
# A brand's sender domain must include the platform's SPF record (the ESP's sending hosts) in its own.
EMAIL_SPF_INCLUDE = env_str("EMAIL_SPF_INCLUDE", "_spf.tollgate.example")
# Production sends through an ESP with django-anymail: EMAIL_BACKEND=anymail.backends.sendgrid.EmailBackend (or
# anymail.backends.postmark.EmailBackend, or anymail.backends.amazon_ses.EmailBackend with the boto3 extra and
# AWS_* credentials) and that ESP's key here; keys left unset are left out.
ANYMAIL = {name: value for name, value in {
    "SENDGRID_API_KEY": env_str("SENDGRID_API_KEY", ""),
    "POSTMARK_SERVER_TOKEN": env_str("POSTMARK_SERVER_TOKEN", ""),
    "AMAZON_SES_CONFIGURATION_SET_NAME": env_str("AMAZON_SES_CONFIGURATION_SET_NAME", ""),
}.items() if value}

# --- Custom domains (whitelabel.domains) ----------------------------------------------------------
# A tenant's custom domain points with a CNAME to <slug>.CUSTOM_DOMAIN_TARGET, or (an apex, which cannot hold a
# CNAME) with A records equal to CUSTOM_DOMAIN_APEX_ADDRESSES. Neither may be claimed as a custom domain.
CUSTOM_DOMAIN_TARGET = env_str("CUSTOM_DOMAIN_TARGET", f"domains.{BASE_DOMAIN}")
CUSTOM_DOMAIN_APEX_ADDRESSES = env_list("CUSTOM_DOMAIN_APEX_ADDRESSES", ["127.0.0.1"])
# Certificates are issued on demand (the TLS ask endpoint), so a verified domain is active at once; off, it
# waits at `verified` until a certificate is recorded.
CUSTOM_DOMAIN_ON_DEMAND_TLS = env_bool("CUSTOM_DOMAIN_ON_DEMAND_TLS", True)
# When set, /internal/tls/ask answers only requests carrying it in X-Tls-Ask-Token (beside keeping /internal/ off
# the public listener).
TLS_ASK_TOKEN = env_str("TLS_ASK_TOKEN", "")
# The resolver verification asks (whitelabel/dns.py): empty nameservers means the system's (/etc/resolv.conf).
DNS_RESOLVER_NAMESERVERS = env_list("DNS_RESOLVER_NAMESERVERS", [])
DNS_RESOLVER_PORT = int(env_str("DNS_RESOLVER_PORT", "53"))
DNS_TIMEOUT_S = float(env_str("DNS_TIMEOUT_S", "5"))
# Host names under BASE_DOMAIN a tenant may still claim (and must still prove). Empty except in the local demo,
# where BASE_DOMAIN is localhost and every name a browser sends to 127.0.0.1 on its own is one of ours
# (`./dev up` sets portal.northwind.localhost).
CUSTOM_DOMAIN_DEMO_HOSTNAMES = env_list("CUSTOM_DOMAIN_DEMO_HOSTNAMES", [])
# The records file the demo's local DNS server serves (`./dev up` sets it); the demo seed writes its records there.
DEMO_DNS_RECORDS_FILE = env_str("DEMO_DNS_RECORDS_FILE", "")

# --- Stripe (dj-stripe), Anthropic --------------------------------------------------------------
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY", "")
STRIPE_PUBLISHABLE_KEY = env_str("STRIPE_PUBLISHABLE_KEY", "")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET", "")
STRIPE_LIVE_MODE = env_bool("STRIPE_LIVE_MODE", False)
# The Stripe API that the SDK and dj-stripe call: Stripe's own unless set (tests point it at a local fake).
STRIPE_API_BASE = env_str("STRIPE_API_BASE", "https://api.stripe.com")
# Pinned to the version stripe 15.6.2 speaks, so requests, responses and webhook payloads keep one shape until
# the SDK is upgraded on purpose (the webhook endpoint is created with it: stripe_webhook_setup).
STRIPE_API_VERSION = "2026-08-26.dahlia"
# The SDK retries network failures; every POST we send carries an Idempotency-Key, so a retry never repeats one.
STRIPE_MAX_NETWORK_RETRIES = int(env_str("STRIPE_MAX_NETWORK_RETRIES", "2"))
# The Stripe customer is the tenant's (billing.payments.services.stripe_customer_ensure).
DJSTRIPE_SUBSCRIBER_MODEL = "tenants.Tenant"
DJSTRIPE_FOREIGN_KEY_TO_FIELD = "id"
DJSTRIPE_WEBHOOK_VALIDATION = "verify_signature"
DJSTRIPE_USE_NATIVE_JSONFIELD = True
ANTHROPIC_API_KEY = env_str("ANTHROPIC_API_KEY", "")
# A proxy or (in benchmarks) a fake upstream; unset means Anthropic's API.
ANTHROPIC_BASE_URL = env_str("ANTHROPIC_BASE_URL", "") or None
# For a stream: the longest wait between two events.
ANTHROPIC_TIMEOUT_S = float(env_str("ANTHROPIC_TIMEOUT_S", "120"))
# The gateway answers upstream overload and rate limits at once (with Retry-After) instead of retrying.
ANTHROPIC_MAX_RETRIES = int(env_str("ANTHROPIC_MAX_RETRIES", "0"))
# The SDK's OpenTelemetry spans of each call: off unless the deployment exports traces (they cost time on
# every request even with no exporter).
ANTHROPIC_OPEN_TELEMETRY = env_bool("ANTHROPIC_OPEN_TELEMETRY", False)
AI_MAX_TOKENS_CAP = int(env_str("AI_MAX_TOKENS_CAP", "8192"))
AI_CODE_MODEL = env_str("AI_CODE_MODEL", "claude-sonnet-4-6")
# The model content generation writes with (creators.content), while it is an active model price.
AI_CONTENT_MODEL = env_str("AI_CONTENT_MODEL", "claude-sonnet-4-6")
# The coach's chat (creators.chat): its model while it is an active model price, its answer's length and warmth,
# the messages a user may send a day when the plan does not say (Plan.coach_messages_per_day), and the confidence
# from which a detected task completion is recorded without asking the user.
AI_COACH_MODEL = env_str("AI_COACH_MODEL", "claude-sonnet-4-6")
COACH_MAX_TOKENS = int(env_str("COACH_MAX_TOKENS", "4096"))
COACH_TEMPERATURE = float(env_str("COACH_TEMPERATURE", "0.7"))
COACH_MESSAGES_PER_DAY = int(env_str("COACH_MESSAGES_PER_DAY", "50"))
COACH_AUTO_COMPLETE_CONFIDENCE = env_str("COACH_AUTO_COMPLETE_CONFIDENCE", "0.8")
# Ops are notified (once a day) when the platform's Anthropic spend in a UTC day passes this many US dollars.
AI_COST_ALERT_USD_PER_DAY = env_str("AI_COST_ALERT_USD_PER_DAY", "50")

# --- Logging ----------------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"keyvalue": {"format": "time=%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "keyvalue"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # At DEBUG it logs whole template contexts: request paths with tokens, a just-created API key.
        "django.template": {"level": "INFO"},
        # The Anthropic SDK's HTTP client logs every request at INFO: one line per AI call, in the hot path.
        "httpx2": {"level": "WARNING"},
        "httpcore2": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}

# --- API (DRF, drf-spectacular) ----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tenants.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["tenants.authentication.ApiAccess"],
    "DEFAULT_PARSER_CLASSES": ["config.api.parsers.ApiJsonParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # OPTIONS answers 405 like any other undeclared method; the OpenAPI schema documents every operation.
    "DEFAULT_METADATA_CLASS": None,
    "DEFAULT_THROTTLE_CLASSES": ["metering.limits.rate_limits.PlanRateLimit"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Tollgate API",
    "DESCRIPTION": (
        "The API of one Tollgate tenant, served on the tenant's own host. Authenticate with "
        "`Authorization: Bearer tg_live_...`. Errors are `{\"error\": {\"code\", \"message\", \"details\"}}`. "
        "Lists use cursor pagination (`?cursor=`, `limit` 1-100). POSTs that create things accept an "
        "`Idempotency-Key` header (replayed for 24 hours)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Choice sets whose field names ("status", "kind") other components use for other choices.
    "ENUM_NAME_OVERRIDES": {"CoachProjectStatusEnum": "creators.models.coach.Project.Status",
                            "CoachPhaseKindEnum": "creators.playbooks.PHASE_KINDS",
                            "TenantStatusEnum": "tenants.models.Tenant.Status",
                            "CoachMessageRoleEnum": "creators.models.coach.CoachMessage.Role",
                            "CoachMessageStatusEnum": "creators.models.coach.CoachMessage.Status",
                            "CoachActionStatusEnum": "creators.chat.actions.ACTION_STATUSES",
                            "InvoiceStatusEnum": "billing.models.invoices.ISSUED_STATUS_CHOICES"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api.schema.request_bodies_closed",
    ],
}
# Request bodies under /api/ larger than this answer 413 payload_too_large; endpoints may declare more.
API_MAX_BODY_BYTES = int(env_str("API_MAX_BODY_BYTES", str(256 * 1024)))
# A brand's logo and favicon travel base64-encoded in its JSON (BRAND_IMAGE_MAX_BYTES each, a third more as text).
API_BODY_LIMITS: dict[str, int] = {"/api/v1/events": 5 * 1024 * 1024, "/api/v1/branding": 3 * 1024 * 1024}
RATE_LIMITS_ENABLED = env_bool("RATE_LIMITS_ENABLED", True)
# With Redis unreachable, rate limits let requests through (True) or refuse them (False).
RATE_LIMITS_FAIL_OPEN = env_bool("RATE_LIMITS_FAIL_OPEN", True)
# Record every /api/v1/ call as usage (metering.limits.tracking); off only to measure its cost (bench/api_overhead.py).
API_CALL_TRACKING_ENABLED = env_bool("API_CALL_TRACKING_ENABLED", True)
# Where config.api.idempotency keeps its records (the API kit imports no app: the owner of the model plugs it in).
API_IDEMPOTENCY_STORE = "tenants.idempotency_store.IdempotencyStore"
# How long a retry waits for the first request with the same Idempotency-Key to finish.
IDEMPOTENCY_WAIT_S = 5.0
# A request still "in progress" after this long is taken to have crashed: a retry with its Idempotency-Key may
# take it over (and a request that was merely slow then has its work rolled back). Longer than any request
# runs: AI streams may take ANTHROPIC_TIMEOUT_S per read, several minutes in all.
IDEMPOTENCY_IN_PROGRESS_TIMEOUT_S = float(env_str("IDEMPOTENCY_IN_PROGRESS_TIMEOUT_S", "600"))

# --- Tollgate ---------------------------------------------------------------------------------
# Slugs that can never name a tenant: they collide with hosts, schemas or routes the platform uses.
TENANT_RESERVED_SLUGS = frozenset(
    {"public", "admin", "www", "api", "static", "media", "mail", "smtp", "app", "ops", "status",
     "help", "docs", "billing", "support", "root", "postgres", "pg-catalog", "information-schema",
     TENANT_BASE_SCHEMA.replace("_", "-")}
)
# Signups accepted per client IP (django-ratelimit rate). Behind a proxy set RATELIMIT_IP_META_KEY.
SIGNUP_RATE_LIMIT = env_str("SIGNUP_RATE_LIMIT", "20/h")
RATELIMIT_IP_META_KEY = env_str("RATELIMIT_IP_META_KEY", "") or None
# A signup's login link is valid this long, and only once.
TENANT_LOGIN_LINK_MAX_AGE_S = 120

# --- Billing (billing/) --------------------------------------------------------------------------
# The operator: who issues the invoices (printed on each one, copied into it when it is finalised).
BILLING_ISSUER = {
    "name": env_str("BILLING_ISSUER_NAME", "Tollgate Platform Ltd"),
    "address": env_str("BILLING_ISSUER_ADDRESS", "1 Harbour Street\nDublin D02 X285\nIreland"),
    "country": env_str("BILLING_ISSUER_COUNTRY", "IE"),
    "tax_id": env_str("BILLING_ISSUER_TAX_ID", "IE6388047V"),
    "email": env_str("BILLING_ISSUER_EMAIL", "billing@tollgate.example"),
    "payment_instructions": env_str(
        "BILLING_PAYMENT_INSTRUCTIONS",
        "Pay by bank transfer to IBAN IE29 AIBK 9311 5212 3456 78 (BIC AIBKIE2D), quoting the invoice number."),
}
# Invoice number series: TG-2026-000123; credit notes CN-2026-000045.
BILLING_INVOICE_SERIES = "TG"
BILLING_CREDIT_NOTE_SERIES = "CN"
# Hours an invoice stays a draft (ops may add or remove lines) before it is finalised; 0 finalises at once.
BILLING_DRAFT_PERIOD_HOURS = int(env_str("BILLING_DRAFT_PERIOD_HOURS", "0"))
# Days to pay when the tenant's billing profile says nothing else.
BILLING_DEFAULT_NET_TERMS_DAYS = 14
# A past-due subscription keeps its plan this many days, then falls to Free until paid.
BILLING_PAST_DUE_GRACE_DAYS = int(env_str("BILLING_PAST_DUE_GRACE_DAYS", "7"))
# Dunning (billing.payments.dunning): a Stripe-collected invoice whose payment failed is retried this many days
# after the first failure, each retry a new attempt with its own Idempotency-Key.
BILLING_DUNNING_RETRY_DAYS = tuple(int(day) for day in env_str("BILLING_DUNNING_RETRY_DAYS", "1,3,5,7").split(","))
# After the last retry fails the invoice becomes uncollectible and the subscription is "cancel"ed (Stripe Billing's
# default when all retries fail: no service keeps accruing on an invoice nobody pays) or left past due on "free"
# entitlements until the invoice is paid (Stripe's "leave the subscription past due"; paying restores the plan).
BILLING_DUNNING_FINAL_ACTION = env_str("BILLING_DUNNING_FINAL_ACTION", "cancel")
# Reconciliation (billing.payments.reconciliation) checks again, against Stripe, the payments settled in this many
# days (besides every payment still waiting and every open disagreement).
BILLING_RECONCILIATION_LOOKBACK_DAYS = int(env_str("BILLING_RECONCILIATION_LOOKBACK_DAYS", "7"))
# An invoice charge asked for this long ago with no payment recorded for its attempt was lost on its way (a broker
# lost the message): the lost-charge job (billing.payments.lost_charges, every 10 minutes) asks for it again.
BILLING_CHARGE_LOST_AFTER_MINUTES = int(env_str("BILLING_CHARGE_LOST_AFTER_MINUTES", "15"))
# Owners are told this many days before a trial ends.
BILLING_TRIAL_REMINDER_DAYS = 3
# Prorations of a mid-period change: "immediate" (an invoice now) or "next_invoice" (lines on the next one).
BILLING_PRORATION_INVOICING = env_str("BILLING_PRORATION_INVOICING", "immediate")
# AI tokens the wallet could not cover (metering wallets' `owed`) are invoiced at this price per 1,000 tokens.
BILLING_TOKEN_PRICE_PER_1000 = {"USD": "0.10", "EUR": "0.09"}
# The plan a tenant without a subscription (or paused, or past due beyond the grace period) is entitled to.
BILLING_FREE_PLAN_CODE = "free"
# The platform's default currency: the revenue dashboard heads with its figures (every currency keeps its own).
BILLING_DEFAULT_CURRENCY = env_str("BILLING_DEFAULT_CURRENCY", "USD")

# --- Affiliates (affiliates/) -------------------------------------------------------------------------------
# Referral clicks go to a Redis list and a beat job writes them in batches (affiliates.clicks); off, each click is
# one INSERT on the request (what also happens while Redis is unreachable).
AFFILIATE_CLICK_BUFFER_ENABLED = env_bool("AFFILIATE_CLICK_BUFFER_ENABLED", True)
# Affiliate applications accepted per client IP (django-ratelimit rate), like signups.
AFFILIATE_APPLY_RATE_LIMIT = env_str("AFFILIATE_APPLY_RATE_LIMIT", "5/h")
# Fraud checks (affiliates.fraud): this many referred signups of one affiliate from one IP address (else one network)
# within this many minutes are a burst; the refund-rate rule waits until an affiliate has this many paying customers.
AFFILIATE_SIGNUP_BURST_COUNT = int(env_str("AFFILIATE_SIGNUP_BURST_COUNT", "5"))
AFFILIATE_SIGNUP_BURST_MINUTES = int(env_str("AFFILIATE_SIGNUP_BURST_MINUTES", "60"))
AFFILIATE_REFUND_RATE_MIN_CUSTOMERS = int(env_str("AFFILIATE_REFUND_RATE_MIN_CUSTOMERS", "4"))

# --- White-label (whitelabel/) ------------------------------------------------------------------------------
# A brand's custom CSS, in bytes of UTF-8 (whitelabel.brands.css).
BRAND_CSS_MAX_BYTES = int(env_str("BRAND_CSS_MAX_BYTES", str(20 * 1024)))
# Uploaded logos and favicons (whitelabel.brands.images): bytes as uploaded, and width and height in pixels.
BRAND_IMAGE_MAX_BYTES = int(env_str("BRAND_IMAGE_MAX_BYTES", str(1024 * 1024)))
BRAND_LOGO_MAX_SIDE_PX = int(env_str("BRAND_LOGO_MAX_SIDE_PX", "2048"))
BRAND_FAVICON_MAX_SIDE_PX = int(env_str("BRAND_FAVICON_MAX_SIDE_PX", "512"))
