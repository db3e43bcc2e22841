"""Settings shared by every environment.

Environment variables are read here and in the sibling modules only; see
``.env.example`` for the full list.
"""

import math
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("ACADEMY_VAR_DIR", BASE_DIR / "var"))


# A mistyped variable stops the process with its name and the value it got,
# instead of a bare ValueError or a silently different setting.
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    normalized = value.strip().lower()
    if normalized in _TRUE:
        return True
    if normalized in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name} must be one of 1/0, true/false, yes/no, on/off, not {value!r}."
    )


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item]


def _env_number[N: (int, float)](
    name: str, default: N, parse: type[N], kind: str, minimum: N
) -> N:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    try:
        number = parse(value.strip())
    except ValueError:
        number = None
    # float() also reads "nan" and "inf", which no setting here can use.
    if number is None or not math.isfinite(number) or number < minimum:
        raise ImproperlyConfigured(f"{name} must be {kind} ≥ {minimum}, not {value!r}.")
    return number


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    return _env_number(name, default, int, "a whole number", minimum)


def env_float(name: str, default: float, *, minimum: float = 0) -> float:
    return _env_number(name, default, float, "a number", minimum)


def env_int_list(name: str, default: str, *, minimum: int = 0) -> list[int]:
    value = os.environ.get(name, "").strip() or default
    items = [item.strip() for item in value.split(",")]
    if not all(item.isdecimal() and int(item) >= minimum for item in items):
        raise ImproperlyConfigured(
            f"{name} must be comma-separated whole numbers ≥ {minimum} such as "
            f"{default}, not {value!r}."
        )
    return [int(item) for item in items]


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# Apps appear in dependency order: the demo loader and the site navigation
# walk them in this order.
PROJECT_APPS = [
    "users",
    "home",
    "organizations",
    "courses",
    "certificates",
    "dispatch",
    "hr",
    "credentials",
    "ops",
]

INSTALLED_APPS = [
    *PROJECT_APPS,
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.contrib.routable_page",
    "wagtail.contrib.search_promotions",
    "wagtail.embeds",
    "wagtail.sites",
    "users.apps.AcademyWagtailUsersConfig",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_tasks_db",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sites",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "academy.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "academy.security.PathSecurityPolicyMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "users.middleware.ThrottledUserSessionsMiddleware",
    "users.middleware.RequireMfaMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "academy.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
            ],
        },
    },
]

WSGI_APPLICATION = "academy.wsgi.application"

# Database: SQLite in var/ unless DATABASE_URL names a real engine.
DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{VAR_DIR / 'academy.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web process and one task worker share the
    # file without "database is locked" errors.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }


def postgres_statement_options(*, behind_pgbouncer: bool = False) -> dict:
    """psycopg binds parameters on the server and prepares a statement once a
    connection has run it ``DATABASE_PREPARE_THRESHOLD`` times: PostgreSQL
    then skips parsing and planning it (measured: 40 % of its CPU for the
    verify page). Django's default, client-side binding, can never prepare.
    ``off`` keeps server-side binding but prepares nothing, for a pooler in
    transaction mode that cannot keep prepared statements (PgBouncer before
    1.21, or without ``max_prepared_statements``): the default behind one."""
    raw = os.environ.get("DATABASE_PREPARE_THRESHOLD", "")
    value = raw.strip().lower()
    if value == "off" or (not value and behind_pgbouncer):
        threshold = None
    elif not value:
        threshold = 5
    elif value.isdecimal():
        threshold = int(value)
    else:
        raise ImproperlyConfigured(
            "DATABASE_PREPARE_THRESHOLD must be a whole number ≥ 0 or off, "
            f"not {raw!r}."
        )
    return {"server_side_binding": True, "prepare_threshold": threshold}


if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Wagtail's database search backend uses PostgreSQL full-text search.
    INSTALLED_APPS.append("django.contrib.postgres")
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        postgres_statement_options(
            behind_pgbouncer=env_bool("DATABASE_PGBOUNCER", False)
        )
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: Redis when REDIS_URL is set (shared by every process, so rate limits
# hold across workers); a per-process memory cache otherwise.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "academy",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "academy",
        }
    }

# Background tasks: Django's tasks framework. In-process by default; the
# database-backed queue (many workers on many machines) when TASKS_BACKEND=db.
TASKS_BACKEND = os.environ.get("TASKS_BACKEND", "immediate")
if TASKS_BACKEND == "db":
    TASKS = {
        "default": {
            "BACKEND": "django_tasks_db.DatabaseBackend",
            "QUEUES": ["default", "pdf", "email", "exports"],
        }
    }
else:
    TASKS = {
        "default": {
            "BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
            "QUEUES": ["default", "pdf", "email", "exports"],
        }
    }

AUTH_USER_MODEL = "users.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation."
        "UserAttributeSimilarityValidator"
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
SITE_ID = 1

# django-allauth
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "users.forms.SignupForm"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[计量伙伴学院] "
ACCOUNT_ADAPTER = "users.adapters.AccountAdapter"
ACCOUNT_USER_DISPLAY = "users.models.user_display"
# allauth's defaults are already on; named here so they are visible and tunable.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Metrology Partnership Academy"
# Needed so that every session has a row users (and deactivation) can end.
USERSESSIONS_TRACK_ACTIVITY = True
# users.middleware.ThrottledUserSessionsMiddleware: update a session's
# last_seen_at (and IP / user agent) at most this often; 0 = every request.
ACADEMY_USERSESSIONS_ACTIVITY_SECONDS = 60
# Roles that must have MFA before they reach any page but the MFA set-up.
ACADEMY_MFA_REQUIRED_ROLES = ["coordinator", "expert", "hr"]

# Django 6.1 mailers; console in development (see dev.py / production.py).
MAILERS = {
    "default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"},
}
DEFAULT_FROM_EMAIL = os.environ.get(
    "DJANGO_DEFAULT_FROM_EMAIL", "计量伙伴学院 <noreply@academy.example.cn>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Internationalisation: Chinese first, English available.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
WAGTAIL_I18N_ENABLED = False
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES

# Files
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", VAR_DIR / "media"))
# Certificates and exports are private: never under MEDIA_URL.
PRIVATE_MEDIA_ROOT = Path(
    os.environ.get("DJANGO_PRIVATE_MEDIA_ROOT", VAR_DIR / "private")
)

AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME", "")
if AWS_STORAGE_BUCKET_NAME:
    _s3_options = {
        "bucket_name": AWS_STORAGE_BUCKET_NAME,
        "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
        "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
        "access_key": os.environ.get("AWS_ACCESS_KEY_ID") or None,
        "secret_key": os.environ.get("AWS_SECRET_ACCESS_KEY") or None,
        "file_overwrite": False,
    }
    STORAGES = {
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {**_s3_options, "location": "media", "querystring_auth": False},
        },
        "private": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                **_s3_options,
                "location": "private",
                "default_acl": "private",
                "querystring_auth": True,
            },
        },
        "staticfiles": {
            "BACKEND": "academy.staticfiles.MemoizedManifestStaticFilesStorage"
        },
    }
else:
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": None},
        },
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }

DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Wagtail
WAGTAIL_SITE_NAME = "计量伙伴学院"
WAGTAILADMIN_BASE_URL = os.environ.get("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")
WAGTAILADMIN_LOGIN_URL = "account_login"
# Course reviewers approve without publish permission (courses/workflow_finish.py).
WAGTAIL_FINISH_WORKFLOW_ACTION = "courses.workflow_finish.publish_workflow_state"
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = [
    "pdf",
    "docx",
    "xlsx",
    "pptx",
    "txt",
    "csv",
    "zip",
    "mp4",
    "webm",
]
WAGTAILIMAGES_EXTENSIONS = ["gif", "jpg", "jpeg", "png", "webp"]
WAGTAILIMAGES_MAX_UPLOAD_SIZE = 10 * 1024 * 1024
WAGTAILIMAGES_MAX_IMAGE_PIXELS = 64_000_000
WAGTAILDOCS_SERVE_METHOD = "serve_view"
# Every document is downloaded, never rendered by the browser on our origin.
WAGTAILDOCS_INLINE_CONTENT_TYPES: list[str] = []
WAGTAILDOCS_DOCUMENT_FORM_BASE = "home.uploads.SafeDocumentForm"
ACADEMY_DOCUMENT_MAX_MB = 50
ACADEMY_VIDEO_MAX_MB = 500
WAGTAIL_ENABLE_UPDATE_CHECK = False
# No avatars from gravatar.com: a third-party request (blocked by the admin CSP
# and unreachable from mainland China) that would leak an e-mail hash.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAIL_ALLOW_UNICODE_SLUGS = True

# Security defaults that hold everywhere; production.py tightens the rest.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
# Wagtail's preview panel frames admin pages: PathSecurityPolicyMiddleware
# relaxes this to SAMEORIGIN under /admin/ only.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "academy": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.tasks": {
            "handlers": ["console"],
            "level": "WARNING",
            "propagate": False,
        },
        "academy.security": {
            "handlers": ["console"],
            "level": "INFO",
            "propagate": False,
        },
    },
}

ACADEMY_PUBLIC_BASE_URL = os.environ.get(
    "ACADEMY_PUBLIC_BASE_URL", "http://127.0.0.1:8000"
)
ACADEMY_INVITATION_VALID_DAYS = 14
WAGTAIL_FRONTEND_LOGIN_URL = "/accounts/login/"

# Content Security Policy (Django's built-in middleware). Public and learner
# pages: scripts only from our origin or with the per-request nonce
# (``{{ csp_nonce }}`` in templates); no inline event handlers.
ACADEMY_CSP_FRAME_SRC = env_list(
    "ACADEMY_CSP_FRAME_SRC",
    "https://player.bilibili.com,https://v.qq.com,https://www.youtube-nocookie.com",
)
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:", "blob:"],
    "font-src": [CSP.SELF, "data:"],
    "media-src": [CSP.SELF, "blob:"],
    "connect-src": [CSP.SELF],
    "frame-src": [CSP.SELF, *ACADEMY_CSP_FRAME_SRC],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
# The Wagtail admin uses inline scripts and styles; it is only reachable by
# experts and coordinators with MFA.
ACADEMY_CSP_BY_PATH = {
    "/admin/": {
        "default-src": [CSP.SELF],
        "script-src": [CSP.SELF, CSP.UNSAFE_INLINE, CSP.UNSAFE_EVAL],
        "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
        "img-src": [CSP.SELF, "data:", "blob:"],
        "font-src": [CSP.SELF, "data:"],
        "media-src": [CSP.SELF, "blob:"],
        "connect-src": [CSP.SELF],
        "frame-src": [CSP.SELF, *ACADEMY_CSP_FRAME_SRC],
        "object-src": [CSP.NONE],
        "base-uri": [CSP.SELF],
        "form-action": [CSP.SELF],
        "frame-ancestors": [CSP.SELF],
    },
}

# App settings that operators tune (defaults suit most installations).
COURSES_HEARTBEAT_SECONDS = env_int("COURSES_HEARTBEAT_SECONDS", 15, minimum=1)


def _rate_limit(name: str, default: str) -> tuple[int, int]:
    value = os.environ.get(name, default)
    requests, _, seconds = value.partition("/")
    if not (requests.strip().isdecimal() and seconds.strip().isdecimal()) or (
        int(requests) < 1 or int(seconds) < 1
    ):
        raise ImproperlyConfigured(
            f"{name} must be requests/seconds such as {default}, not {value!r}."
        )
    return int(requests), int(seconds)


CERTIFICATES_VERIFY_RATE_LIMIT = _rate_limit("CERTIFICATES_VERIFY_RATE_LIMIT", "30/60")
# Behind a proxy: the request header that carries the client address
# (e.g. HTTP_X_REAL_IP), so that rate limits count clients, not the proxy.
CERTIFICATES_CLIENT_IP_HEADER = os.environ.get("CERTIFICATES_CLIENT_IP_HEADER", "")
# Certificate PDFs: 0 renders in the calling process (development, tests);
# N > 0 renders in a pool of N slim renderer processes (certificates.renderer),
# each replaced after CERTIFICATES_RENDERER_MAX_RENDERS renders (0: never) and
# stopped when one render takes longer than CERTIFICATES_RENDER_TIMEOUT s.
CERTIFICATES_RENDER_PROCESSES = env_int("CERTIFICATES_RENDER_PROCESSES", 0)
CERTIFICATES_RENDERER_MAX_RENDERS = env_int("CERTIFICATES_RENDERER_MAX_RENDERS", 500)
CERTIFICATES_RENDER_TIMEOUT = env_float("CERTIFICATES_RENDER_TIMEOUT", 60.0, minimum=1)
# Renderer processes unused this long (seconds) are stopped; 0 keeps them.
CERTIFICATES_RENDERER_IDLE_SECONDS = env_float(
    "CERTIFICATES_RENDERER_IDLE_SECONDS", 300.0
)
HR_IMPORT_MAX_BYTES = env_int("HR_IMPORT_MAX_BYTES", 2 * 1024 * 1024, minimum=1)
HR_IMPORT_MAX_ROWS = env_int("HR_IMPORT_MAX_ROWS", 5000, minimum=1)
# Protects the Open Badges signing keys stored in the database (falls back to
# SECRET_KEY; set it in production so that rotating SECRET_KEY keeps the keys).
CREDENTIALS_KEY_PASSWORD = os.environ.get("CREDENTIALS_KEY_PASSWORD", "")
