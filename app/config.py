"""Configuration from the environment, in one class; tests pass overrides to create_app."""

from __future__ import annotations

import os


def _str(name: str, default: str = "") -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    try:
        return int(value) if value else default
    except ValueError as exc:
        raise RuntimeError(f"{name} must be a whole number, got {value!r}") from exc


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    return value in ("1", "true", "yes", "on")


# The key a development checkout runs with when SECRET_KEY is unset: never for serving (app/__init__.py says so).
DEVELOPMENT_SECRET_KEY = "dev-only-not-secret"


class Config:
    """Every setting the service reads; see .env.example for what each means."""

    ENV = _str("TRACEGRAPH_ENV", "development")  # "production" refuses to start without a real SECRET_KEY
    SECRET_KEY = _str("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
    NEO4J_URI = _str("NEO4J_URI", f"bolt://{_str('NEO4J_BOLT_HOST', '127.0.0.1')}:{_int('NEO4J_BOLT_PORT', 7687)}")
    NEO4J_USER = _str("NEO4J_USER", "neo4j")
    NEO4J_PASSWORD = _str("NEO4J_PASSWORD", "")
    NEO4J_DATABASE = _str("NEO4J_DATABASE", "neo4j")
    NEO4J_POOL_SIZE = _int("NEO4J_POOL_SIZE", 50)
    MIGRATE_ON_START = _bool("MIGRATE_ON_START", True)
    PUBLIC_BASE_URL = _str("PUBLIC_BASE_URL", f"http://127.0.0.1:{_int('PORT', 8000)}").rstrip("/")
    # Largest request body accepted (bytes); EPCIS capture documents are the biggest legitimate ones.
    MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 20 * 1024 * 1024)
    CAPTURE_MAX_EVENTS = _int("CAPTURE_MAX_EVENTS", 10000)
    # How long a process trusts a valid token without reading it again: 0 (default) makes a revocation hold from
    # the next request in every worker; more saves one indexed read per request and delays revocation as long.
    TOKEN_CACHE_SECONDS = _int("TOKEN_CACHE_SECONDS", 0)
    # Header language of the FSMA 204 spreadsheet and KDE gap list: "en" (the FDA reads English) or "zh".
    FSMA_HEADERS = _str("FSMA_HEADERS", "en")
    # The most events an FSMA period export reads: a period holding more answers 413 (ask for shorter periods).
    PERIOD_EXPORT_MAX_EVENTS = _int("PERIOD_EXPORT_MAX_EVENTS", 50000)
    # Producer capture rules: output mass at most this factor of the input mass; events at most this far ahead.
    TRANSFORM_MAX_YIELD = float(os.environ.get("TRANSFORM_MAX_YIELD", "").strip() or 1.05)
    CAPTURE_MAX_FUTURE_SECONDS = _int("CAPTURE_MAX_FUTURE_SECONDS", 300)
    JSON_AS_ASCII = False
    # Audit trail (app/audit.py): the HMAC key of its chain, kept outside the database (unset: derived from
    # SECRET_KEY under its own domain), and the largest request body kept in an entry (its SHA-256 always is).
    AUDIT_KEY = _str("AUDIT_KEY", "")
    AUDIT_BODY_MAX = _int("AUDIT_BODY_MAX", 1024 * 1024)
    # Labs' report PDFs (app/web/reports.py): stored by their SHA-256 outside Neo4j, in this directory (default
    # .data/reports beside the code, git-ignored), each at most REPORT_MAX_BYTES.
    REPORTS_DIR = _str("REPORTS_DIR", os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                                   ".data", "reports"))
    REPORT_MAX_BYTES = _int("REPORT_MAX_BYTES", 10 * 1024 * 1024)

    # Workbench accounts (app/accounts.py): wrong passwords in a row that lock an account, and for how long (the
    # lock is per account, never per address); how long a log-in lasts. Session cookies are HttpOnly and
    # SameSite=Lax, and Secure in production (they then travel only over HTTPS).
    LOGIN_MAX_FAILURES = _int("LOGIN_MAX_FAILURES", 5)
    LOGIN_LOCK_MINUTES = _int("LOGIN_LOCK_MINUTES", 15)
    SESSION_COOKIE_NAME = "tg_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = ENV == "production"
    PERMANENT_SESSION_LIFETIME = _int("SESSION_HOURS", 12) * 3600
    # CSRF (Flask-WTF) is checked by the workbench's pages only: the JSON API authenticates with bearer tokens,
    # which a browser never sends on its own, so it needs no CSRF token. A form's token lasts as long as the session.
    WTF_CSRF_CHECK_DEFAULT = False
    WTF_CSRF_TIME_LIMIT = None

    # Recall notifications (app/notify.py, docs/notifications.md): the key webhook secrets and one-time links are
    # derived from (unset: derived from SECRET_KEY under its own domain; never stored), the SMTP relay, the SMS
    # sender ("log": written to the log, no gateway), and the worker's poll, lease, batch, tries and threads.
    NOTIFY_KEY = _str("NOTIFY_KEY", "")
    SMTP_HOST = _str("SMTP_HOST", "127.0.0.1")
    SMTP_PORT = _int("SMTP_PORT", 25)
    SMTP_FROM = _str("SMTP_FROM", "recall@tracegraph.local")
    SMTP_TIMEOUT_S = _int("SMTP_TIMEOUT_S", 10)
    SMS_SENDER = _str("SMS_SENDER", "log")
    WEBHOOK_TIMEOUT_S = _int("WEBHOOK_TIMEOUT_S", 10)
    WEBHOOK_SECRET_OVERLAP_S = _int("WEBHOOK_SECRET_OVERLAP_S", 86400)  # after a rotation the old secret signs too
    NOTIFY_POLL_SECONDS = float(os.environ.get("NOTIFY_POLL_SECONDS", "").strip() or 0.5)
    NOTIFY_LEASE_SECONDS = _int("NOTIFY_LEASE_SECONDS", 60)
    NOTIFY_BATCH = _int("NOTIFY_BATCH", 200)
    NOTIFY_THREADS = _int("NOTIFY_THREADS", 16)
    NOTIFY_MAX_ATTEMPTS = _int("NOTIFY_MAX_ATTEMPTS", 15)
    NOTIFY_ESCALATE_SECONDS = _int("NOTIFY_ESCALATE_SECONDS", 300)
    # EPCIS query subscriptions (app/subscriptions.py, docs/subscriptions.md): events per pushed document, how long
    # a scheduled window waits for captures still committing, the shortest time between two runs of one schedule,
    # the most events one run reads (a longer window goes on at the next pass), subscriptions one token may hold.
    SUBSCRIPTION_BATCH_EVENTS = _int("SUBSCRIPTION_BATCH_EVENTS", 500)
    SUBSCRIPTION_FEED_BATCH = _int("SUBSCRIPTION_FEED_BATCH", 200)  # captures one pass reads for stream subscriptions
    SUBSCRIPTION_SETTLE_SECONDS = _int("SUBSCRIPTION_SETTLE_SECONDS", 5)
    SUBSCRIPTION_MIN_INTERVAL_S = _int("SUBSCRIPTION_MIN_INTERVAL_S", 10)
    SUBSCRIPTION_MAX_EVENTS_PER_RUN = _int("SUBSCRIPTION_MAX_EVENTS_PER_RUN", 10000)
    SUBSCRIPTIONS_PER_TOKEN = _int("SUBSCRIPTIONS_PER_TOKEN", 50)

    # flask-smorest / OpenAPI
    API_TITLE = "TraceGraph"
    API_VERSION = "1.0"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_REDOC_PATH = None
    OPENAPI_SWAGGER_UI_PATH = None  # /docs is our own page: no CDN, works offline

    # Shared state of several web instances (docs/scaling.md): with REDIS_URL (redis://host:6379/0) the rate limits
    # and the token-failure lockout live in Redis, so every worker and host counts the same; unset, each process
    # counts alone in memory (one box, `make run`). Account lockouts, sessions' validity, serials, scans and the
    # outbox live in Neo4j either way.
    REDIS_URL = _str("REDIS_URL", "")
    # Rate limits (Flask-Limiter). A RATELIMIT_STORAGE_URI other than memory:// wins over REDIS_URL (any `limits`
    # storage URI).
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI = _str("RATELIMIT_STORAGE_URI", "memory://")
    if REDIS_URL and RATELIMIT_STORAGE_URI == "memory://":
        RATELIMIT_STORAGE_URI = REDIS_URL
    # Redis that stops answering must not stop the pages: each process counts in memory meanwhile (and logs it),
    # and a Redis call waits at most this long.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = _bool("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    RATELIMIT_STORAGE_OPTIONS = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5} if \
        RATELIMIT_STORAGE_URI.startswith(("redis://", "rediss://")) else {}
    RATELIMIT_RESOLVER = _str("RATELIMIT_RESOLVER", "600/minute")  # per client address, public QR resolver
    # Failed token checks, counted per client address and per presented token (its hash); past the limit only
    # requests with a token that is not valid get 429 (valid tokens, /healthz and the consumer pages never do).
    RATELIMIT_AUTH_FAILURES = _str("RATELIMIT_AUTH_FAILURES", "30/minute")
    RATELIMIT_LOGIN = _str("RATELIMIT_LOGIN", "30/minute")  # workbench log-in attempts per client address
    # How many reverse proxies (load balancer, ingress) add X-Forwarded-For/-Proto in front of the service: the
    # client address (rate limits, lockout) is read that many hops from the right. 0: the socket's peer (direct).
    TRUSTED_PROXIES = _int("TRUSTED_PROXIES", 0)
    RATELIMIT_HEADERS_ENABLED = True

    # Scan page and labels (issue 4): scans are queued in-process and written in batches by a background thread.
    SCAN_QUEUE_MAX = _int("SCAN_QUEUE_MAX", 10000)
    SCAN_BATCH_SIZE = _int("SCAN_BATCH_SIZE", 500)
    SCAN_FLUSH_SECONDS = float(_int("SCAN_FLUSH_MS", 500)) / 1000
    # How long a process reuses a code's lineage facts on the consumer page (statuses are always read live).
    # Unset: 5 s when serving, 0 under TESTING.
    SCAN_CACHE_SECONDS = float(os.environ["SCAN_CACHE_SECONDS"]) if os.environ.get("SCAN_CACHE_SECONDS") else None
    # Seconds a consumer page's read may take before it answers 503 (unset: graph/scan.py PAGE_TIMEOUT, 3 s).
    if os.environ.get("SCAN_QUERY_TIMEOUT", "").strip():
        SCAN_QUERY_TIMEOUT = float(os.environ["SCAN_QUERY_TIMEOUT"])

    # Risk warnings and pass-rate targets (issue 15, docs/supervision.md): a hazard failing N times in one county
    # within the window; certificates warned this many days before they end; N counterfeit or impossible scans of a
    # product within the hours. SUPERVISION_TARGETS adds or changes targets: JSON {"programme": 0.95, ...}.
    ALERT_HAZARD_CLUSTER_N = _int("ALERT_HAZARD_CLUSTER_N", 3)
    ALERT_HAZARD_CLUSTER_DAYS = _int("ALERT_HAZARD_CLUSTER_DAYS", 30)
    ALERT_CERTIFICATE_DAYS = _int("ALERT_CERTIFICATE_DAYS", 30)
    ALERT_SCAN_BURST_N = _int("ALERT_SCAN_BURST_N", 5)
    ALERT_SCAN_BURST_HOURS = _int("ALERT_SCAN_BURST_HOURS", 24)
    SUPERVISION_TARGETS = _str("SUPERVISION_TARGETS", "")
