"""Settings for smpinfo: one module, configured from the environment (12-factor).

Every variable is listed in README.md with its default. The defaults give a
production-like site on the local machine over plain HTTP: DEBUG off, SQLite,
local-memory cache, console email.
"""

import ipaddress
import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
import dj_email_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from smpinfo.cache_url import cache_url, is_shared_cache, page_cache_connected

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=""):
    """Return the environment variable `name` stripped, or `default` when unset or blank."""
    value = os.environ.get(name, "").strip()
    return value if value else default


def env_bool(name, default=False):
    value = env(name)
    if not value:
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {value!r}.")


def env_number(name, default, kind=int, minimum=0):
    """A number from the environment: a whole number (kind=int) or any number (kind=float)."""
    value = env(name)
    if not value:
        return default
    try:
        number = kind(value)
    except ValueError:
        noun = "a whole number" if kind is int else "a number"
        raise ImproperlyConfigured(f"{name} must be {noun}; got {value!r}.") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}; got {number}.")
    return number


def env_int(name, default=None, minimum=0):
    return env_number(name, default, int, minimum)


def env_list(name, default):
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def proxy_networks(value):
    """The networks of FORWARDED_ALLOW_IPS ("10.0.0.5,10.1.0.0/16"); "*" trusts every peer."""
    if value.strip() == "*":
        return [ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")]
    networks = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                "FORWARDED_ALLOW_IPS must list addresses or networks (10.0.0.5,10.1.0.0/16) "
                f"or be *; got {item!r}."
            ) from None
    return networks


def generated_secret_key(path):
    """Read the local secret key file, creating it once if missing.

    Several gunicorn workers may start at once, so the file is created with
    O_EXCL and a loser of the race reads the winner's key.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text().strip()
        if not key:
            raise ImproperlyConfigured(f"{path} is empty; delete it or set DJANGO_SECRET_KEY.") from None
        return key
    key = secrets.token_urlsafe(50)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


# Core: debug, hosts, secret key.
DEBUG = env_bool("DJANGO_DEBUG", False)
HTTPS = env_bool("DJANGO_HTTPS", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")
SECRET_KEY = env("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if HTTPS:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is required in production (DJANGO_HTTPS=1): every app server "
            "must share the same key."
        )
    SECRET_KEY = generated_secret_key(BASE_DIR / ".secret_key")

# Applications.
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.postgres",  # full-text and trigram search when the database is PostgreSQL
    "reversion",  # article history: every admin save is a revision with its side effects
    "reversion_compare",
    "axes",  # admin login throttling
    "mailer",  # the email queue (django-mailer): see "Email" below
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",  # django-bootstrap-static: Bootstrap 5's CSS and JS as static files
    # The project's apps, each importing only those below it:
    # smpinfo -> comments -> articles -> images -> pagecache -> Django.
    "pagecache",
    "images",
    "articles",
    "comments",
    "smpinfo",
]

MIDDLEWARE = [
    "smpinfo.middleware.RequestLogMiddleware",
    "smpinfo.middleware.ClientAddressMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Uncached answers compressed as the browser accepts (zstd, Brotli or gzip); below
    # whitenoise, which sends its own compressed static files, and above the page cache,
    # whose pages are stored compressed (pagecache.compression) and left as they are.
    "compression_middleware.middleware.CompressionMiddleware",
    "smpinfo.middleware.RejectUnreadableCharsetMiddleware",
    "smpinfo.middleware.RejectUnusableAdminQueriesMiddleware",
    "smpinfo.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Cached pages for anonymous readers are answered here, before users and URLs.
    "pagecache.middleware.PageCacheMiddleware",
    # A 404 to GET/HEAD answered from the redirects (301, or 410 Gone), else counted for the
    # 404 report; below the page cache, whose hits are never 404s (articles.middleware).
    "articles.middleware.RedirectMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "smpinfo.middleware.DatabaseUnavailableMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "smpinfo.urls"
WSGI_APPLICATION = "smpinfo.wsgi.application"

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
                # base.html's links, made once per process (articles.context_processors).
                "articles.context_processors.site_addresses",
            ],
        },
    },
]

# Database: DATABASE_URL, SQLite by default; persistent connections with health checks.
DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several gunicorn workers share one SQLite file: WAL lets readers run beside a
    # writer, IMMEDIATE transactions and a busy timeout queue writers instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Caches: local memory unless CACHE_URL or REDIS_URL names a shared Redis. Two of them:
# "default" for counters (comment rate limits, used form tokens) and "pages" for the
# readers' page cache, so that pages, however many, never evict a counter. On Redis both
# use CACHE_URL unless PAGE_CACHE_URL gives the pages a Redis of their own (README,
# "Sizing Redis").
CACHE_URL = cache_url()
PAGE_CACHE_URL = env("PAGE_CACHE_URL", CACHE_URL)
if is_shared_cache(CACHE_URL):

    def redis_cache(location, **pool_options):
        return {
            # django-redis keeps one client per process; Django's own Redis backend builds
            # a client per call, which tripled the cost of a cached page (bench/RESULTS.md).
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": location,
            "KEY_PREFIX": "smpinfo",
            # A Redis outage must cost a request a second at most, not hang it.
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
                "CONNECTION_POOL_KWARGS": pool_options,
            },
        }

    if not is_shared_cache(PAGE_CACHE_URL):
        raise ImproperlyConfigured(f"PAGE_CACHE_URL must name a Redis; got {PAGE_CACHE_URL!r}.")
    CACHES = {
        "default": redis_cache(CACHE_URL),
        # A new connection tells the page cache that Redis may have restarted with pages
        # it should not keep (pagecache.outages).
        "pages": redis_cache(PAGE_CACHE_URL, redis_connect_func=page_cache_connected),
    }
elif CACHE_URL in ("", "locmem://"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "counters",
            "OPTIONS": {"MAX_ENTRIES": 10_000},
        },
        # Bounded by the bytes it holds, least recently used pages first (pagecache.backends).
        "pages": {
            "BACKEND": "pagecache.backends.BoundedLocMemCache",
            "LOCATION": "pages",
            "OPTIONS": {
                "MAX_BYTES": env_int("PAGE_CACHE_MAX_MB", 64, minimum=1) * 1024 * 1024,
                "MAX_ENTRIES": 100_000,
            },
        },
    }
elif CACHE_URL == "dummy://":
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
        "pages": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
    }
else:
    raise ImproperlyConfigured(
        f"CACHE_URL/REDIS_URL must start with redis://, rediss:// or unix://, "
        f"or be locmem:// or dummy://; got {CACHE_URL!r}."
    )

# The readers' page cache (the pagecache app). A page is kept at most PAGE_CACHE_SECONDS;
# every change a reader would see retires it at once, so this only bounds memory use.
PAGE_CACHE_SECONDS = env_int("PAGE_CACHE_SECONDS", 3600)
PAGE_CACHE_ALIAS = "pages"
# With local-memory caches each process keeps its own pages, and every process of the
# machine (workers, commands, cron jobs, shell) shares their versions through this file,
# so that a change made by any of them is seen by all on the next request.
PAGE_CACHE_VERSIONS_FILE = (
    env("PAGE_CACHE_VERSIONS_FILE", str(BASE_DIR / ".pagecache-versions"))
    if not is_shared_cache(CACHE_URL)
    else None
)
# On Redis, each process keeps the pages and versions it read in its own memory, and Redis
# pushes every change of them (CLIENT TRACKING; pagecache.tracking): a hit makes no round trip.
# The connections that receive the pushes are checked with a PING this often (s); the copies
# take at most PAGE_CACHE_TRACKING_MAX_MB of each process's memory.
PAGE_CACHE_TRACKING = env_bool("PAGE_CACHE_TRACKING", True)
PAGE_CACHE_TRACKING_CHECK_SECONDS = env_number("PAGE_CACHE_TRACKING_CHECK_SECONDS", 1.0, kind=float)
PAGE_CACHE_TRACKING_MAX_MB = env_int("PAGE_CACHE_TRACKING_MAX_MB", 64, minimum=1)
# After a cache call fails, pages are served uncached for this long before it is tried again.
PAGE_CACHE_RETRY_SECONDS = env_number("PAGE_CACHE_RETRY_SECONDS", 5.0, kind=float)
# Every cached page shows articles (lists, feeds, "related articles"); a scheduled
# article changes them when its time comes.
PAGE_CACHE_SCOPES = {"articles": "articles.models.next_scheduled_publication"}
# Per-request values in cached pages: the CSRF token and the comment form's signed token.
PAGE_CACHE_HOLES = {
    "csrfmiddlewaretoken": "pagecache.holes.csrf_token",
    "form_token": "comments.forms.renew_form_token",
}
PAGE_CACHE_QUERY_PARAMETERS = ["page"]
# Cookies that make a reader's pages their own (comments.held: their comments awaiting
# moderation, shown to them in place): such a request is neither served from nor stored in the cache.
PAGE_CACHE_PERSONAL_COOKIES = ["smpinfo_held"]
# What a release is made of: a deploy that changes one of these serves no page built before.
PAGE_CACHE_RELEASE_FILES = [
    f"{app}/**/*.py" for app in ("pagecache", "images", "articles", "comments", "smpinfo")
] + ["templates/**/*.*"]

# Authentication.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
AUTHENTICATION_BACKENDS = [
    "smpinfo.authentication.LoginThrottleBackend",  # refuses web logins while locked out
    "django.contrib.auth.backends.ModelBackend",
]

# Admin login throttling (django-axes): after N failed logins for one username from one
# address, that pair is locked out for a while, with a clear message.
AXES_FAILURE_LIMIT = env_int("ADMIN_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("ADMIN_LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "smpinfo.middleware.admin_login_locked_out"
AXES_VERBOSE = False  # its log lines carry usernames and addresses
# Axes reads REMOTE_ADDR (its default), which ClientAddressMiddleware makes the reader's
# address behind trusted proxies.

# Language and time. The site and its admin are in English only: with the translation
# machinery off, every page renders about 5% faster (bench/RESULTS.md).
LANGUAGE_CODE = "en-us"
TIME_ZONE = env("DJANGO_TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

# Static files: whitenoise serves them, hashed and compressed at collectstatic.
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Uploaded images (the images app): on local disk under MEDIA_ROOT by default, served by
# the site at /media/; with AWS_STORAGE_BUCKET_NAME, in S3-compatible object storage
# through django-storages, which every app server shares. The site still serves them at
# /media/ (a private bucket works) unless MEDIA_URL names the bucket's or a CDN's address.
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = env("MEDIA_URL", "/media/")
if not MEDIA_URL.endswith("/"):
    raise ImproperlyConfigured(f"MEDIA_URL must end with a slash; got {MEDIA_URL!r}.")
if env("AWS_STORAGE_BUCKET_NAME"):
    # Credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or any other way
    # boto3 finds them); AWS_S3_ENDPOINT_URL points at a non-Amazon service (MinIO, R2, ...).
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env("AWS_S3_ENDPOINT_URL") or None,
            "region_name": env("AWS_S3_REGION_NAME") or None,
            "location": env("AWS_LOCATION", ""),
            "default_acl": None,
            "file_overwrite": False,
            "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
        },
    }
# Limits of an upload, and the widths its renditions are made at (never wider than it).
IMAGES_MAX_UPLOAD_MB = env_int("IMAGES_MAX_UPLOAD_MB", 20, minimum=1)
IMAGES_MAX_PIXELS = env_int("IMAGES_MAX_PIXELS", 50_000_000, minimum=1_000_000)
IMAGES_WIDTHS = [int(width) for width in env_list("IMAGES_WIDTHS", "480,960,1600")]
# An upload up to the limit is held in memory, read once by the checks and the renditions.
FILE_UPLOAD_MAX_MEMORY_SIZE = IMAGES_MAX_UPLOAD_MB * 1_000_000 + 1

# Forms.
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Email: every message is queued in the database, in the transaction of the change that
# causes it, and `manage.py deliver_mail` (a process of its own) delivers it through the
# backend that EMAIL_URL (smtp://user:pass@host:587/?tls=True) or Django's EMAIL_* name,
# the console by default. A reader's request never talks to a mail server.
# The queue is django-mailer: its backend queues whatever Django's send_mail sends, and it
# sends each message inside a transaction that locks its row (NOWAIT on PostgreSQL), so
# several senders never send one message twice, and a sender that dies mid-send leaves it
# queued. Not django-post-office: it renders every queued subject and body as a Django
# template (a comment with "{{" in it is changed) and keeps senders apart with a lock file,
# on one machine only. Not django-tasks with django-tasks-db: no retries, and a task that
# dies mid-run stays "running" for ever; its email backend would be ours to write.
EMAIL_BACKEND = "mailer.backend.DbBackend"
MAILER_EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
# Seconds the sender waits on each step of an SMTP conversation before it defers the message.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 5, minimum=1)
if env("EMAIL_URL"):
    try:
        _email = dj_email_url.parse(env("EMAIL_URL"))
    except (KeyError, ValueError) as error:
        raise ImproperlyConfigured(f"EMAIL_URL could not be read: {error}") from None
    MAILER_EMAIL_BACKEND = _email["EMAIL_BACKEND"]
    EMAIL_HOST = _email["EMAIL_HOST"] or EMAIL_HOST
    EMAIL_PORT = _email["EMAIL_PORT"] or EMAIL_PORT
    EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
    EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
    EMAIL_USE_TLS = _email["EMAIL_USE_TLS"]
    EMAIL_USE_SSL = _email["EMAIL_USE_SSL"]
    EMAIL_TIMEOUT = _email["EMAIL_TIMEOUT"] or EMAIL_TIMEOUT
if MAILER_EMAIL_BACKEND == EMAIL_BACKEND:
    raise ImproperlyConfigured(
        "EMAIL_BACKEND names the mail queue itself; name the backend that delivers the mail "
        "(e.g. django.core.mail.backends.smtp.EmailBackend): every email is queued anyway."
    )
# The sender (smpinfo/mail_queue.py): locked rows keep several senders apart (on SQLite,
# the IMMEDIATE transactions above), so no lock file, which a crash would leave behind.
# Any failure defers the message instead of stopping the sender at it; deferred mail is
# tried again every EMAIL_RETRY_SECONDS for a day, then stays in the admin's queue.
MAILER_USE_FILE_LOCK = False
MAILER_ERROR_HANDLER = "smpinfo.mail_queue.defer_failed_message"
EMAIL_RETRY_SECONDS = env_int("EMAIL_RETRY_SECONDS", 600, minimum=1)
MAILER_EMAIL_MAX_RETRIES = 24 * 60 * 60 // EMAIL_RETRY_SECONDS
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "smpinfo <noreply@localhost>")
SERVER_EMAIL = env("SERVER_EMAIL", DEFAULT_FROM_EMAIL)

# The site's own address, for links in emails sent outside a request (review reminders).
SITE_URL = env("SITE_URL", "http://localhost:8000")

# Medical review: each article is due for review this many days after its last approved
# one; with ARTICLES_REVIEW_REQUIRED, only reviewed content can be published.
ARTICLES_REVIEW_INTERVAL_DAYS = env_int("ARTICLES_REVIEW_INTERVAL_DAYS", 365, minimum=1)
ARTICLES_REVIEW_REQUIRED = env_bool("ARTICLES_REVIEW_REQUIRED", False)
# The 404 report: missing paths are counted in each process's memory and written every
# ARTICLES_MISSING_PATHS_FLUSH_SECONDS; it keeps the ARTICLES_MISSING_PATHS_KEPT most requested.
ARTICLES_MISSING_PATHS_FLUSH_SECONDS = env_int("ARTICLES_MISSING_PATHS_FLUSH_SECONDS", 60, minimum=1)
ARTICLES_MISSING_PATHS_KEPT = env_int("ARTICLES_MISSING_PATHS_KEPT", 500, minimum=1)

# Comments: the moderation policy's knobs (validated at startup by comments.apps).
COMMENTS_MODERATION = env("COMMENTS_MODERATION", "all")
COMMENTS_CLOSE_AFTER_DAYS = env_int("COMMENTS_CLOSE_AFTER_DAYS", None)
COMMENTS_RATE_LIMIT = env("COMMENTS_RATE_LIMIT", "5/10m")
COMMENTS_MIN_SUBMIT_SECONDS = env_number("COMMENTS_MIN_SUBMIT_SECONDS", 2.0, kind=float)
COMMENTS_MAX_LINKS = env_int("COMMENTS_MAX_LINKS", 2)
COMMENTS_NOTIFY_EMAILS = env_list("COMMENTS_NOTIFY_EMAILS", "")
# Readers' reports: this many send an approved comment back to moderation; reports per address.
COMMENTS_REPORTS_TO_HOLD = env_int("COMMENTS_REPORTS_TO_HOLD", 3, minimum=1)
COMMENTS_REPORT_RATE_LIMIT = env("COMMENTS_REPORT_RATE_LIMIT", "10/h")
# How long the Approve, Reject and Spam links of a held-comment email work (once each).
COMMENTS_MODERATION_LINK_DAYS = env_int("COMMENTS_MODERATION_LINK_DAYS", 7, minimum=1)
# How long the link that confirms a reader's address for email about their comments works.
COMMENTS_CONFIRMATION_LINK_DAYS = env_int("COMMENTS_CONFIRMATION_LINK_DAYS", 7, minimum=1)
# How many reverse proxies append to X-Forwarded-For in front of the app (0: none): the
# client-address middleware then takes the reader's address from that header.
TRUSTED_PROXY_COUNT = env_int("DJANGO_TRUSTED_PROXIES", 0)
# The proxies' own addresses or networks, as gunicorn reads them (gunicorn.conf.py): the
# X-Forwarded-* headers of any other peer are dropped before the site reads them.
TRUSTED_PROXY_ADDRESSES = proxy_networks(env("FORWARDED_ALLOW_IPS"))

# Content-Security-Policy: scripts and styles only from our own static files; no inline
# script anywhere. Images also from MEDIA_URL's host when it names one (a bucket or a CDN).
_media = urlsplit(MEDIA_URL)
MEDIA_ORIGINS = [f"{_media.scheme}://{_media.netloc}"] if _media.netloc else []
# Inline styles stay allowed for the Django admin's widgets.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:", *MEDIA_ORIGINS],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Security headers; the HTTPS group switches on behind TLS with DJANGO_HTTPS=1.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if HTTPS:
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Logging: one JSON object per line on stdout (one per request, one per error), where
# gunicorn and the platform collect it. DJANGO_LOG_FORMAT=text gives plain lines.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "formatter": env("DJANGO_LOG_FORMAT", "json"),
            "stream": "ext://sys.stdout",
        },
    },
    "root": {"handlers": ["stdout"], "level": env("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        # 4xx answers are already in the request line; server errors keep their traceback.
        "django.request": {"handlers": ["stdout"], "level": "ERROR", "propagate": False},
        "axes": {"level": "WARNING"},
        "mailer": {"level": "WARNING"},  # its INFO lines name every recipient
    },
}
