"""Django settings for epigrid. Every knob comes from the environment (see README)."""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from epigrid.core.env import env_bool, env_choice, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("EPIGRID_DATA_DIR", str(BASE_DIR)))

DEBUG = env_bool("DEBUG", False)
PRODUCTION = env_bool("EPIGRID_PRODUCTION", False)
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set in production (EPIGRID_PRODUCTION=1)")
    # Development and the embedded default: a fixed key is acceptable because nothing
    # outside 127.0.0.1 is served; production sets EPIGRID_PRODUCTION=1 and a real key.
    SECRET_KEY = "epigrid-insecure-development-key"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "django_tables2",
    "django_htmx",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "django_tasks_db",
    "django_rq",
    "axes",
    "csp",
    "epigrid.core",
    "epigrid.accounts",
    "epigrid.audit",
    "epigrid.areas",
    "epigrid.people",
    "epigrid.jobs",
    "epigrid.control",
    "epigrid.testing",
    "epigrid.antigen",
    "epigrid.transport",
    "epigrid.results",
    "epigrid.isolation",
    "epigrid.retests",
    "epigrid.tracing",
    "epigrid.assistance",
    "epigrid.checkpoints",
    "epigrid.passes",
    "epigrid.reports",
    "epigrid.supervision",
    "epigrid.rosters",
    "epigrid.markets",
    "epigrid.supplies",
    "epigrid.homeservices",
    "epigrid.enterprises",
    "epigrid.disinfection",
    "epigrid.dashboard",
    "epigrid.demo",
]

MIDDLEWARE = [
    # First: a server process runs at most EPIGRID_WEB_ACTIVE requests at once (decision 0043).
    "epigrid.core.admission.AdmissionMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "epigrid.core.middleware.RefuseNulMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "epigrid.core.middleware.RequestContextMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes requires: it turns a lockout flagged during login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "epigrid.urls"
WSGI_APPLICATION = "epigrid.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "epigrid" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "epigrid.core.context_processors.navigation",
            ],
        },
    },
]


def _database():
    url = env_str("DATABASE_URL", "")
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "db.sqlite3",
            # WAL lets the web process read while the worker writes; IMMEDIATE makes
            # concurrent writers queue for the lock instead of failing mid-transaction.
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            "TEST": {"NAME": env_str("EPIGRID_TEST_SQLITE", "") or None},
        }
    try:
        config = dj_database_url.parse(url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a usable database URL: {exc}") from None
    if config["ENGINE"] not in ("django.db.backends.postgresql", "django.db.backends.sqlite3"):
        raise ImproperlyConfigured("DATABASE_URL must point to PostgreSQL (or SQLite for development)")
    if config["ENGINE"] == "django.db.backends.postgresql" and env_int("DB_SERVER_BINDING", 1):
        # Parameters sent apart from the SQL (no quoting in Python), and the statements a gate scan
        # runs on every request prepared, planned once per connection (`core.prepared`, decision
        # 0041). Not every statement: a prepared list query's generic plan was up to three times
        # slower, so psycopg prepares nothing of itself (a threshold never reached) but what is
        # asked for. DB_SERVER_BINDING=0 behind a pooler in transaction mode.
        config.setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=2**31 - 1)
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# AxesStandaloneBackend first: it refuses a locked-out username + address before any password check.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
# One date format in every row (Y-m-d, Y-m-d H:i), in Chinese and English alike (epigrid/formats).
FORMAT_MODULE_PATH = ["epigrid.formats"]
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "epigrid" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "staticfiles"
NODE_MODULES = BASE_DIR / "node_modules"
# Front-end packages are installed from the npm registry (package-lock.json); Django serves
# their dist folders under vendor/ so nothing third-party is copied into the repository.
STATICFILES_DIRS = [
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/echarts", NODE_MODULES / "echarts" / "dist"),
    # The desk's camera reader: the BarcodeDetector polyfill (a plain script, no import map needed
    # under the CSP) and the ZXing .wasm it loads from here instead of a public CDN.
    ("vendor/barcode-detector", NODE_MODULES / "barcode-detector" / "dist" / "iife"),
    ("vendor/zxing-wasm", NODE_MODULES / "zxing-wasm" / "dist" / "reader"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env_str("STATICFILES_BACKEND", "django.contrib.staticfiles.storage.StaticFilesStorage")
    },
}
MEDIA_ROOT = DATA_DIR / "media"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "epigrid.accounts.throttle.ThrottledTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["epigrid.core.permissions.ScopedPermission"],
    "DEFAULT_PARSER_CLASSES": [
        "epigrid.core.parsers.JSONParser",
        "epigrid.core.parsers.FormParser",
        "epigrid.core.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "epigrid API",
    "DESCRIPTION": "Grid-based epidemic prevention and control. Personal data is masked unless revealed.",
    "VERSION": "1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Choice sets that share a field name with another app's get their own schema names.
    "ENUM_NAME_OVERRIDES": {
        "CampaignKindEnum": "epigrid.testing.models.Kind",
        "MeasureKindEnum": "epigrid.control.models.MeasureKind",
        "SampleStatusEnum": "epigrid.testing.models.Sample.Status",
        "TubeStatusEnum": "epigrid.testing.models.Tube.Status",
        "FindStatusEnum": "epigrid.testing.models.Find.Status",
        "AntigenResultEnum": "epigrid.antigen.models.Result",
        "AntigenFollowUpStatusEnum": "epigrid.antigen.models.AntigenFollowUp.Status",
        "BoxStatusEnum": "epigrid.transport.models.Box.Status",
        "LabResultEnum": "epigrid.results.models.Result",
        "ResultSourceEnum": "epigrid.results.models.Source",
        "CheckpointDecisionEnum": "epigrid.checkpoints.models.Decision",
        "CheckpointDirectionEnum": "epigrid.checkpoints.models.Direction",
        "PassageOutcomeEnum": ["accepted", "duplicate", "refused"],
        "PassUseOutcomeEnum": "epigrid.passes.models.PassUse.Outcome",
        "CheckInOutcomeEnum": "epigrid.control.models.CheckIn.Outcome",
        "ProactiveCheckOutcomeEnum": "epigrid.homeservices.models.ProactiveCheck.Outcome",
        "ConfirmedHowEnum": "epigrid.homeservices.models.ConfirmedHow",
        # Areas' levels, also the level of the units that send a report form (reports.ReportForm).
        "AreaLevelEnum": "epigrid.areas.models.Level",
        "SupervisionStatusEnum": "epigrid.supervision.models.Item.Status",
        "SupervisionCategoryEnum": "epigrid.supervision.models.Category",
        "KeyPersonCategoryEnum": "epigrid.control.models.Category",
        "SupervisionFoundByEnum": "epigrid.supervision.models.FoundBy",
        "SupervisionPhotoKindEnum": "epigrid.supervision.models.ItemPhoto.Kind",
        "SupplyMovementKindEnum": "epigrid.supplies.models.Movement.Kind",
        "RequisitionStatusEnum": "epigrid.supplies.models.Requisition.Status",
        "DonationLineKindEnum": "epigrid.supplies.models.DonationLine.Kind",
        "PurchaseStatusEnum": "epigrid.supplies.models.Purchase.Status",
        "ServiceRequestStatusEnum": "epigrid.homeservices.models.ServiceRequest.Status",
        "ServiceKindEnum": "epigrid.homeservices.kinds.Kind",
        "ProactiveCheckKindEnum": "epigrid.homeservices.models.ProactiveCheck.Kind",
    },
}

DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5-responsive.html"

# Jobs travel on a database-backed queue by default (nothing else to run); production may pick
# Redis (EPIGRID_TASKS=rq, REDIS_URL) and run `epigrid worker`, which starts the matching worker.
_TASK_BACKENDS = {
    "db": "django_tasks_db.DatabaseBackend",
    "rq": "django_tasks_rq.RQBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
EPIGRID_TASKS = env_choice("EPIGRID_TASKS", list(_TASK_BACKENDS), "db")
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[EPIGRID_TASKS]}}
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 3600}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {
        "handlers": ["console"],
        "level": env_choice("LOG_LEVEL", ["DEBUG", "INFO", "WARNING", "ERROR"], "WARNING"),
    },
}

# Caches hold throttle counters (bad API tokens). The default is per process; with several web
# processes set EPIGRID_CACHE=redis (REDIS_URL) so they share one count.
_CACHE_BACKENDS = {
    "locmem": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "redis": {"BACKEND": "epigrid.core.cache.RedisCache", "LOCATION": REDIS_URL},  # one client kept per pool
}
CACHES = {"default": _CACHE_BACKENDS[env_choice("EPIGRID_CACHE", list(_CACHE_BACKENDS), "locmem")]}

# Behind N reverse proxies (EPIGRID_PROXY_COUNT) the client's address is the N-th from the right
# of X-Forwarded-For and the scheme comes from X-Forwarded-Proto; with none, REMOTE_ADDR.
EPIGRID_PROXY_COUNT = env_int("EPIGRID_PROXY_COUNT", 0)
if EPIGRID_PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Login throttle (django-axes, decision 0014): the site's login and the admin's share one count per
# username + address; EPIGRID_LOGIN_FAILURE_LIMIT failures lock that pair out for the cool-off.
AXES_ENABLED = env_bool("EPIGRID_LOGIN_THROTTLE", True)
AXES_FAILURE_LIMIT = env_int("EPIGRID_LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("EPIGRID_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "epigrid.accounts.views.locked_out"
AXES_CLIENT_IP_CALLABLE = "epigrid.accounts.throttle.client_ip"
AXES_VERBOSE = False
# Bad API tokens: this many from one address within the cool-off answer 429 until it has passed.
EPIGRID_TOKEN_FAILURE_LIMIT = env_int("EPIGRID_TOKEN_FAILURE_LIMIT", 20)
# An API token, its user and the user's grants are kept this many seconds per process (decision
# 0040). A change moves the shared cache's auth epoch: with Redis every process reads them again at
# once; with the per-process cache, the other processes within these seconds (0: every request).
EPIGRID_AUTH_CACHE_SECONDS = env_int(
    "EPIGRID_AUTH_CACHE_SECONDS", 60 if CACHES["default"]["BACKEND"].endswith("RedisCache") else 5
)

# Batches of more than a few scans (phones syncing their offline queues) ingest at most this many
# at a time per server process; live scans from the desks pass them (testing.api).
EPIGRID_INGEST_BULK_SLOTS = env_int("EPIGRID_INGEST_BULK_SLOTS", 1)

# Requests a server process runs at once (core.admission; 0: no limit, the default). Its other
# threads wait without competing for the interpreter lock: 2 made gate scans faster under load on
# two cores but slowed the sampling desks' syncs, so it is off until both hold (decision 0043).
EPIGRID_WEB_ACTIVE = env_int("EPIGRID_WEB_ACTIVE", 0)

# Content-Security-Policy in every environment: pages load scripts and styles only from static
# files (no inline script, style or handler; htmx's indicator styles are off, see base.html).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # Bootstrap draws its icons (toggler, select arrows) as data: SVGs.
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        # The sampling desk's service worker (/testing/desk/sw.js). The desk page alone adds
        # 'wasm-unsafe-eval' to script-src for its camera reader (testing.desk_views).
        "worker-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# HSTS in production (sent on HTTPS requests only; behind a proxy see EPIGRID_PROXY_COUNT).
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)

# A running job whose worker has not reported for this long is failed: its worker died (decision 0013).
EPIGRID_JOB_STALE_SECONDS = env_int("EPIGRID_JOB_STALE_SECONDS", 600)

# What one imported file may hold; larger files are refused before they are read (decision 0013).
# Rows and columns count to the last cell with a value; cells are rows x columns of that area;
# megabytes of a CSV file or of an xlsx once uncompressed.
EPIGRID_IMPORT_MAX_ROWS = env_int("EPIGRID_IMPORT_MAX_ROWS", 200_000)
EPIGRID_IMPORT_MAX_COLUMNS = env_int("EPIGRID_IMPORT_MAX_COLUMNS", 200)
EPIGRID_IMPORT_MAX_CELLS = env_int("EPIGRID_IMPORT_MAX_CELLS", 10_000_000)
EPIGRID_IMPORT_MAX_MB = env_int("EPIGRID_IMPORT_MAX_MB", 300)

# Page size of person and household lists; kept small for phones.
EPIGRID_PAGE_SIZE = env_int("EPIGRID_PAGE_SIZE", 50)
# Exact ID or phone lookups by a role without the reveal right: (per hour, per day); past either,
# refused and reported to the auditors (people.services.charge_lookups, decision 0015).
EPIGRID_LOOKUP_LIMITS = (
    env_int("EPIGRID_LOOKUP_LIMIT_HOUR", 60),
    env_int("EPIGRID_LOOKUP_LIMIT_DAY", 300),
)
# A checkpoint's staff look up every ID card handed to them (decision 0027): counted and audited like
# any exact lookup, against limits a busy gate's shift fits in.
EPIGRID_GATE_LOOKUP_LIMITS = (
    env_int("EPIGRID_GATE_LOOKUP_LIMIT_HOUR", 600),
    env_int("EPIGRID_GATE_LOOKUP_LIMIT_DAY", 4000),
)

# Supervision (decision 0030): an overdue item escalated to the level above waits this long there
# before it goes one level further up.
EPIGRID_SUPERVISION_GRACE_HOURS = env_int("EPIGRID_SUPERVISION_GRACE_HOURS", 24)
# Duty rosters (decision 0031): the least rest between two shifts of one person, and how long after
# a shift's end a forgotten check-out is closed (crediting only the planned hours).
EPIGRID_ROSTER_MIN_REST_HOURS = env_int("EPIGRID_ROSTER_MIN_REST_HOURS", 8)
EPIGRID_ROSTER_CHECKOUT_GRACE_HOURS = env_int("EPIGRID_ROSTER_CHECKOUT_GRACE_HOURS", 2)
# Resident services for sealed homes (decision 0038): hours from a request to its deadline, by
# urgency (urgent: a medicine running out today; low: farming that can wait for the weekend).
EPIGRID_SERVICE_SLA_HOURS = {
    "urgent": env_int("EPIGRID_SERVICE_SLA_URGENT_HOURS", 2),
    "high": env_int("EPIGRID_SERVICE_SLA_HIGH_HOURS", 6),
    "normal": env_int("EPIGRID_SERVICE_SLA_NORMAL_HOURS", 24),
    "low": env_int("EPIGRID_SERVICE_SLA_LOW_HOURS", 72),
}
