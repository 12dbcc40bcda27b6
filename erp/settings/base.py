"""Every setting, each value taken from the environment (HackSoft: nothing only in production)."""

from pathlib import Path

from django.utils.translation import gettext_lazy as _

from erp.env import env

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env("ERP_VAR_DIR", default=str(BASE_DIR / "var")))

SECRET_KEY = env("DJANGO_SECRET_KEY")
# Derives the key that encrypts store and carrier credentials (django-fernet-encrypted-fields).
# Rotating SECRET_KEY keeps old values readable while the old key is in SECRET_KEY_FALLBACKS.
SALT_KEY = env.list("FIELD_ENCRYPTION_SALT", default=["dtc-erp-credentials"])
SECRET_KEY_FALLBACKS = env.list("DJANGO_SECRET_KEY_FALLBACKS", default=[])
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "erp.core",
    "inventory",
    "logistics",
    "finance",
    "orders",
    "connectors",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "erp.core.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "erp.urls"
WSGI_APPLICATION = "erp.wsgi.application"

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
                "erp.core.context_processors.staff_header",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default is shared by web, worker and beat processes: WAL lets readers
    # go on during a write, IMMEDIATE takes the write lock at BEGIN so two writers queue
    # (up to the timeout) instead of failing with "database is locked" mid-transaction.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Sign-in refuses a username (or a client address) for LOGIN_LOCKOUT_SECONDS after this
# many failures within that window: password guessing gets a handful of tries.
AUTHENTICATION_BACKENDS = ["erp.core.auth.ThrottledModelBackend"]
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_FAILURE_LIMIT_PER_ADDRESS = env.int("LOGIN_FAILURE_LIMIT_PER_ADDRESS", default=50)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=900)

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("ERP_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("ERP_MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Pick lists printed in Chinese embed this font (Debian package fonts-wqy-microhei).
PDF_CJK_FONT_FILE = env(
    "PDF_CJK_FONT_FILE", default="/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

LOGIN_URL = "admin:login"

REDIS_URL = env("REDIS_URL", default="")
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

EMAIL_BACKEND = env(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend"
)
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="erp@localhost")

# --- Business settings -------------------------------------------------------------
ERP_BASE_CURRENCY = env("ERP_BASE_CURRENCY", default="USD")

# --- Celery ------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
# Results are off: tasks report through the database. A result backend can be set for
# tools that wait on tasks (bench_orders measures the no-op task rate with it).
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Outbox -----------------------------------------------------------------------
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=8)
OUTBOX_BACKOFF_BASE_SECONDS = env.int("OUTBOX_BACKOFF_BASE_SECONDS", default=30)
OUTBOX_BACKOFF_MAX_SECONDS = env.int("OUTBOX_BACKOFF_MAX_SECONDS", default=3600)
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=300)
OUTBOX_BATCH_SIZE = env.int("OUTBOX_BATCH_SIZE", default=100)

# --- DRF ----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "erp.core.api.exception_handler.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "DTC ERP API",
    "DESCRIPTION": "Orders, stock, shipments and finance across Shopify and WooCommerce stores.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Many models have a "status" or "kind"; each choice set gets its own schema name.
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.choices.OrderStatus",
        "FinancialStatusEnum": "orders.choices.FinancialStatus",
        "FulfillmentStatusEnum": "orders.choices.FulfillmentStatus",
        "ReviewRuleKindEnum": "orders.choices.ReviewRuleKind",
        "OrderImportStatusEnum": "orders.models.OrderImportStatus",
        "PaymentKindEnum": "finance.choices.PaymentKind",
        "PayoutLineKindEnum": "finance.choices.PayoutLineKind",
        "PayoutImportStatusEnum": "finance.choices.PayoutImportStatus",
        "ReconciliationRunStatusEnum": "finance.choices.ReconciliationRunStatus",
        "DifferenceKindEnum": "finance.choices.DifferenceKind",
        "DifferenceStatusEnum": "finance.choices.DifferenceStatus",
        "CostKindEnum": "finance.choices.CostKind",
        "FxStatusEnum": "finance.choices.FxStatus",
        "CarrierKindEnum": "logistics.choices.CarrierKind",
        "ShipmentStatusEnum": "logistics.choices.ShipmentStatus",
        "TrackingStatusEnum": "logistics.choices.TrackingStatus",
        "RateQuoteStatusEnum": "logistics.choices.RateQuoteStatus",
        "WarehouseKindEnum": "inventory.choices.WarehouseKind",
        "AllocationStatusEnum": "inventory.choices.AllocationStatus",
        "TransferStatusEnum": "inventory.choices.TransferStatus",
        "StockAlertStatusEnum": "inventory.choices.StockAlertStatus",
        "BufferKindEnum": "inventory.choices.BufferKind",
        "ChannelKindEnum": "connectors.models.ChannelKind",
        "WebhookReceiptStatusEnum": "connectors.models.WebhookReceiptStatus",
        "SyncKindEnum": "connectors.models.SyncKind",
        "SyncRunKindEnum": "connectors.models.SyncRunKind",
        "SyncRunStatusEnum": "connectors.models.SyncRunStatus",
        "OutboxStatusEnum": "erp.core.models.OutboxStatus",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # karrio's data classes warn about every field a carrier adds to its answers.
    "loggers": {"jstruct": {"level": "ERROR"}},
}

# --- Stores -------------------------------------------------------------------------
# The https address stores call back to (Shopify OAuth, webhook subscriptions).
ERP_PUBLIC_URL = env("ERP_PUBLIC_URL", default="")
# App-level Shopify credentials; per-store tokens live encrypted on the store row.
SHOPIFY_API_KEY = env("SHOPIFY_API_KEY", default="")
SHOPIFY_API_SECRET = env("SHOPIFY_API_SECRET", default="")

# --- Logistics --------------------------------------------------------------------
LOGISTICS_PACKAGING_GRAMS = env.int("LOGISTICS_PACKAGING_GRAMS", default=150)
# Quotes in different currencies are compared with finance's rate of the day; logistics
# reaches it through this hook because it may not import finance itself.
LOGISTICS_FX_CONVERTER = "orders.services.shipping.finance_fx_converter"
