"""Default settings: safe for production except where the environment must supply a value."""
from datetime import timedelta

SECRET_KEY = None  # from NETWORK_SECRET_KEY or instance/secret_key; production refuses to start without it
MASTER_KEY = None  # key-encryption key for data at rest (TOTP seeds): NETWORK_MASTER_KEY or instance/master_key
SQLALCHEMY_DATABASE_URI = None  # DATABASE_URL, else SQLite in the instance folder
SQLALCHEMY_ENGINE_OPTIONS: dict = {}
DEMO_MODE = False
TESTING = False
# The server process's garbage collector settled once the application is built (network/core/runtime.py): what
# exists then is frozen, and collections come less often and shorter. The test suite turns it off (tests/conftest.py).
SETTLE_HEAP = True

# Sessions: server-side records, idle and absolute timeouts (ASVS 7.3.1 / 7.3.2).
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_IDLE_TIMEOUT = 30 * 60
SESSION_ABSOLUTE_TIMEOUT = 12 * 60 * 60
REAUTH_WINDOW = 10 * 60
PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
HSTS_SECONDS = 63072000

# The audit log's signed checkpoints (network/core/audit.py): a file outside the database ("" = the instance
# folder's audit-checkpoints.jsonl), written every so many entries. Copy it off the host with the backups.
AUDIT_CHECKPOINT_PATH = ""
AUDIT_CHECKPOINT_EVERY = 100

# Passwords: Argon2id (RFC 9106 second recommended option, above ASVS/OWASP minimums).
PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 128
ARGON2_TIME_COST = 3
ARGON2_MEMORY_COST = 65536
ARGON2_PARALLELISM = 4

# Sign-in throttling. Storage: "memory://" (one process) or "redis://host:port/db" (production).
RATELIMIT_STORAGE_URL = "memory://"
LOGIN_ACCOUNT_LIMIT = 5  # failures per account (per untrusted client) before a temporary lockout
LOGIN_ACCOUNT_WINDOW = 15 * 60
LOGIN_ADDRESS_LIMIT = 20  # failures per client address
LOGIN_ADDRESS_WINDOW = 15 * 60
# The second factor counts wrong codes per member, separately for the member's own device (device cookie),
# with LOGIN_ACCOUNT_LIMIT and LOGIN_ACCOUNT_WINDOW.
APPLY_ADDRESS_LIMIT = 10  # applications per client address (every valid form sent counts)
APPLY_ADDRESS_WINDOW = 60 * 60
PASSWORD_RESET_RECIPIENT_LIMIT = 5  # reset requests per e-mail address asked for (known or not)
PASSWORD_RESET_ADDRESS_LIMIT = 20  # reset requests per client address
PASSWORD_RESET_WINDOW = 60 * 60
TRUST_PROXY_HOPS = 0  # number of reverse proxies whose X-Forwarded-* headers are trusted

# Mail: "smtp" or "console"; unset means smtp, or console in demo mode.
MAIL_BACKEND = ""
MAIL_SERVER = "127.0.0.1"
MAIL_PORT = 25
MAIL_USE_TLS = False
MAIL_USERNAME = None
MAIL_PASSWORD = None
MAIL_SENDER = "Practitioners' Network <no-reply@network.invalid>"
MAIL_TIMEOUT = 10
# /apply and /password/forgot hand their mail to SMTP after the response has gone (when the WSGI server closes
# it), so that their answer takes the same time whether a mail was queued or not. False: in the request, as
# every other route does. (The Flask test client closes a response only when asked: buffered=True.)
MAIL_AFTER_RESPONSE = True
# The background worker (`flask --app app worker`, network/core/worker.py). MAIL_SENT_BY_WORKER: requests and commands
# leave their mail in the outbox for the worker and never wait for SMTP (set it on every app server once a worker
# runs). Intervals in seconds; daily jobs run at WORKER_DAILY_HOUR (UTC); a failed job is tried again after
# WORKER_RETRY seconds; a mail refused this many times waits for `mail flush`. A running job's lease is renewed
# every WORKER_LEASE / 4 seconds: a killed worker's job is taken up again at most WORKER_LEASE seconds later.
MAIL_SENT_BY_WORKER = False
WORKER_LEASE = 60
WORKER_MAIL_INTERVAL = 5
WORKER_SEARCH_INTERVAL = 2
WORKER_DAILY_HOUR = 3
WORKER_RETRY = 60
WORKER_MAIL_MAX_ATTEMPTS = 50

# Links sent by mail.
EMAIL_VERIFICATION_MAX_AGE = 48 * 3600
PASSWORD_RESET_MAX_AGE = 3600
INFO_REQUEST_MAX_AGE = 14 * 24 * 3600
VETTING_REMINDER_HOURS = 48
MEMBERSHIP_VALIDITY_DAYS = 365
REVALIDATION_NOTICE_DAYS = 30

# Interface.
LANGUAGES = ["en", "fr", "es", "ru", "ar", "zh"]
BABEL_DEFAULT_LOCALE = "en"
BABEL_TRANSLATION_DIRECTORIES = "translations"
MAX_CONTENT_LENGTH = 2 * 1024 * 1024
WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the server-side session
PLATFORM_NAME = "Practitioners' Network"
PUBLIC_URL = "http://127.0.0.1:5000"  # base of links in mail sent by commands (outside a request)

# Forum attachments (network/forum/attachments.py): sealed at rest in the forum_attachments table.
FORUM_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024  # per file; the upload request may be this plus 256 KiB of form
MESSAGING_ATTACHMENT_MAX_BYTES = 25 * 1024 * 1024  # each encrypted message attachment
MESSAGING_MAX_ATTACHMENTS = 5
FORUM_ATTACHMENT_MAX_UNZIPPED = 50 * 1024 * 1024  # DOCX/XLSX/ODT: total uncompressed size of the entries
FORUM_ATTACHMENT_MAX_RATIO = 100  # DOCX/XLSX/ODT: uncompressed/compressed, per entry and overall

# Search (network/search: the engines, the outbox and the indexer; README "Search").
SEARCH_BACKEND = ""  # "" picks PostgreSQL full-text search on PostgreSQL and Whoosh otherwise; or "whoosh", "postgres"
SEARCH_INDEX_PATH = ""  # the Whoosh index folder (private, 0700); "" is <instance>/search-index
SEARCH_WRITER_TIMEOUT = 5.0  # seconds the indexer waits for Whoosh's writer lock
SEARCH_INDEX_ON_COMMIT = True  # index right after each commit; False when `flask --app app search worker` runs
SEARCH_MAX_LAG = 300  # seconds the oldest outbox row may wait before /healthz reports search degraded
SEARCH_RATE_LIMIT = 60  # searches with words (page or API) per client address per window; more answer 429
SEARCH_RATE_WINDOW = 60
