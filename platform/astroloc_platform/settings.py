"""Settings, read from the environment through one ``environ.Env`` object.

Local defaults let ``manage.py`` and the workers run on a developer machine with no configuration; a
``.env`` file in the repository root (written by ``platform/scripts/setup.sh``) records what the setup
chose, e.g. the database of a project-local PostgreSQL cluster. Production (``ASTROLOC_ENV=production``)
has no defaults for secrets and fails fast with a message naming the variable.
"""

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

REPO_ROOT = Path(__file__).resolve().parents[2]



def _dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of ``path`` (missing file: none). Kept out of os.environ on purpose: Celery reads
    CELERY_BROKER_URL from the process environment before its config, which would defeat test settings."""
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs if not key.strip().startswith("#")}


env = environ.Env()
env.ENVIRON = {**_dotenv(REPO_ROOT / ".env"), **os.environ}

ASTROLOC_ENV = env.str("ASTROLOC_ENV", default="development")
if ASTROLOC_ENV not in {"development", "production", "test"}:
    raise ImproperlyConfigured(
        f"ASTROLOC_ENV={ASTROLOC_ENV!r} is not valid: use development, production or test."
    )
PRODUCTION = ASTROLOC_ENV == "production"


def _required_in_production(name: str, development_default: str) -> str:
    """A value that has a safe local default but must be set explicitly in production."""
    if PRODUCTION:
        value = env.str(name, default="")
        if not value:
            raise ImproperlyConfigured(f"{name} must be set when ASTROLOC_ENV=production.")
        return value
    return env.str(name, default=development_default)


SECRET_KEY = _required_in_production("DJANGO_SECRET_KEY", "dev-insecure-key-not-for-production-use-0123456789")
DEBUG = env.bool("DJANGO_DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[] if PRODUCTION else ["*"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must list the served host names in production.")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "leaflet",
    "rest_framework",
    "rest_framework_gis",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "apps.core",
    "apps.imagery",
    "apps.photos",
    "apps.footprints",
    "apps.models_registry",
    "apps.web",
    "apps.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "apps.core.compression.DataGZipMiddleware",  # before WhiteNoise: compresses its static files too
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "astroloc_platform.urls"
WSGI_APPLICATION = "astroloc_platform.wsgi.application"
ASGI_APPLICATION = "astroloc_platform.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# PostgreSQL + PostGIS + pgvector. The setup writes DATABASE_URL into .env when it starts a local cluster.
DATABASE_URL = env.str("DATABASE_URL", default="postgis://postgres@127.0.0.1:5432/astroloc")
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
if DATABASES["default"]["ENGINE"] != "django.contrib.gis.db.backends.postgis":
    raise ImproperlyConfigured(
        f"DATABASE_URL must use the postgis:// scheme (PostgreSQL with PostGIS); got {DATABASE_URL!r}."
    )
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

VAR_DIR = Path(env.str("ASTROLOC_VAR_DIR", default=str(REPO_ROOT / "var")))
STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(VAR_DIR / "static")))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("DJANGO_MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
LOGIN_URL = "admin:login"

# Django's cache on Redis, shared by every web worker: API throttling and login brute-force counters live
# here. Default: the broker's Redis on database 1 (the broker uses 0).
CACHE_URL = env.str("CACHE_URL", default="")
if not CACHE_URL:
    _broker = env.str("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/0")
    CACHE_URL = _broker.rsplit("/", 1)[0] + "/1" if _broker.startswith("redis") else "redis://127.0.0.1:6379/1"
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": CACHE_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="astroloc"),
    }
}

# Failed logins per username and per client address before further attempts are refused for a while.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=15 * 60)
AUTHENTICATION_BACKENDS = ["apps.api.login_limits.LoginLockoutBackend"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="600/min"),
        "user": env.str("API_THROTTLE_USER", default="3000/min"),
        "upload": env.str("API_THROTTLE_UPLOAD", default="60/hour"),
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.api.errors.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer",
                                 "rest_framework.renderers.BrowsableAPIRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "AstroLoc Platform API",
    "DESCRIPTION": (
        "Footprints of astronaut photographs for machines. REST API v1 (GeoJSON lists, cursor pagination) "
        "and a STAC API 1.0 under /stac/. Authenticate with a session (web) or `Authorization: Token <key>` "
        "(scripts; create keys at /api/v1/auth/tokens)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# Celery: Redis broker and result backend; queues `cpu` (ingest, import) and `gpu` (label, train, embed,
# localize). Late acks + prefetch 1 + reject-on-worker-lost: a task whose worker dies is redelivered, and the
# job helpers make every task idempotent so a redelivery finishes the work instead of duplicating it.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/0")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "cpu"
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=6 * 3600)}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# A running job whose heartbeat is this old and whose advisory lock is free lost its worker: beat re-sends it.
ASTROLOC_JOB_STALE_SECONDS = env.int("ASTROLOC_JOB_STALE_SECONDS", default=120)
CELERY_BEAT_SCHEDULE = {
    "recover-stale-jobs": {
        "task": "maintenance.recover_stale_jobs",
        "schedule": env.float("ASTROLOC_RECOVERY_INTERVAL_SECONDS", default=60.0),
        "options": {"queue": "cpu", "expires": 60},
    },
    # The web map's materialized per-cell / per-month counts (apps.web.mapcells): refreshed when footprints or
    # photos changed since the last refresh; until then the map counts live (correct, slower at scale).
    "refresh-map-aggregates": {
        "task": "maintenance.refresh_map_aggregates",
        "schedule": env.float("ASTROLOC_MAP_AGGREGATES_REFRESH_SECONDS", default=60.0),
        "options": {"queue": "cpu", "expires": 60},
    },
}

# Outbound fetches (photos by URL, tile services, COGs; apps.core.remote): off until hosts are listed.
# Host names or shell patterns (*.example.org). Private, loopback, link-local and reserved addresses stay
# refused unless ASTROLOC_FETCH_ALLOW_PRIVATE is set (tests and intranet deployments).
ASTROLOC_FETCH_ALLOWED_HOSTS = env.list("ASTROLOC_FETCH_ALLOWED_HOSTS", default=[])
ASTROLOC_FETCH_ALLOW_PRIVATE = env.bool("ASTROLOC_FETCH_ALLOW_PRIVATE", default=False)
ASTROLOC_FETCH_MAX_BYTES = env.int("ASTROLOC_FETCH_MAX_BYTES", default=200 * 1024 * 1024)
ASTROLOC_FETCH_TIMEOUT_SECONDS = env.float("ASTROLOC_FETCH_TIMEOUT_SECONDS", default=30.0)
ASTROLOC_FETCH_MAX_REDIRECTS = env.int("ASTROLOC_FETCH_MAX_REDIRECTS", default=5)
ASTROLOC_FETCH_USER_AGENT = env.str("ASTROLOC_FETCH_USER_AGENT", default="AstroLoc-Platform/0.1")
# Tile services (manage.py ingest_tiles; apps.imagery.tile_fetch): requests in flight at once and request starts
# per second per ingest (0: no rate limit), the on-disk cache of fetched tiles (a resumed or repeated ingest
# asks the server nothing twice), and the most tiles one ingest may fetch (bbox x zooms; refused above).
ASTROLOC_TILE_FETCH_CONCURRENCY = env.int("ASTROLOC_TILE_FETCH_CONCURRENCY", default=4)
ASTROLOC_TILE_FETCH_RATE = env.float("ASTROLOC_TILE_FETCH_RATE", default=10.0)
ASTROLOC_TILE_FETCH_CACHE_DIR = Path(env.str("ASTROLOC_TILE_FETCH_CACHE_DIR", default=str(VAR_DIR / "tile-cache")))
ASTROLOC_TILE_INGEST_MAX_TILES = env.int("ASTROLOC_TILE_INGEST_MAX_TILES", default=1_000_000)
# A COG by URL (manage.py ingest_tiles --cog): the most bytes one ingest may read from the file, all range
# requests together (each request also obeys ASTROLOC_FETCH_MAX_BYTES).
ASTROLOC_COG_MAX_BYTES = env.int("ASTROLOC_COG_MAX_BYTES", default=4 * 1024**3)
# Bulk footprint exports (/api/v1/footprints/export.{gpkg,fgb,kml,csv}): GeoPackage and FlatGeobuf are built by
# ogr2ogr in a temporary folder under this directory (empty: the system's temporary directory), within this time.
ASTROLOC_EXPORT_TMP_DIR = env.str("ASTROLOC_EXPORT_TMP_DIR", default="") or None
ASTROLOC_EXPORT_TIMEOUT_SECONDS = env.int("ASTROLOC_EXPORT_TIMEOUT_SECONDS", default=600)

LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (20.0, 0.0),
    "DEFAULT_ZOOM": 2,
    "MIN_ZOOM": 1,
    "MAX_ZOOM": 18,
    "RESET_VIEW": False,
    # No third-party tile server: the machines are offline. The imagery basemap comes from our own XYZ
    # endpoint once mosaics are ingested; until then the map shows an empty graticule-free canvas.
    "TILES": [],
    "ATTRIBUTION_PREFIX": "AstroLoc",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"

# Django's GIS layer loads Debian's GDAL (3.6) only for coordinate transforms of values we build ourselves;
# untrusted rasters are read by rasterio's own GDAL with the driver list restricted to GTiff. The check
# asks for GDAL >= 3.9 to block file access from malicious spatial references, which we never parse.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

# Ingestion (apps.imagery, apps.photos). Photos above the pixel limit are refused from their header alone,
# before any decoding (decompression bombs); files above the byte limit are refused before being read.
ASTROLOC_PHOTO_MAX_PIXELS = env.int("ASTROLOC_PHOTO_MAX_PIXELS", default=150_000_000)
ASTROLOC_PHOTO_MAX_BYTES = env.int("ASTROLOC_PHOTO_MAX_BYTES", default=300 * 1024 * 1024)
ASTROLOC_ZIP_MAX_ENTRIES = env.int("ASTROLOC_ZIP_MAX_ENTRIES", default=100_000)
ASTROLOC_WEB_IMAGE_PX = env.int("ASTROLOC_WEB_IMAGE_PX", default=1600)
ASTROLOC_THUMBNAIL_PX = env.int("ASTROLOC_THUMBNAIL_PX", default=256)
# After an import, enqueue `jobs.label` (photos with a center point) and `jobs.localize` (the others). Off
# until those workers exist; the batch report records the intent either way.
ASTROLOC_QUEUE_AFTER_IMPORT = env.bool("ASTROLOC_QUEUE_AFTER_IMPORT", default=False)
# EOL metadata gives a photo's file as images.directory (relative, e.g. /DatabaseImages/ESC/large/ISS064) +
# images.filename: its source URL is this base + directory + filename (downloads still need the host in
# ASTROLOC_FETCH_ALLOWED_HOSTS).
ASTROLOC_EOL_IMAGE_BASE_URL = env.str("ASTROLOC_EOL_IMAGE_BASE_URL", default="https://eol.jsc.nasa.gov")
# NASA's machine footprints (source nasa_ml) are a third party's guesses: they become training pairs only when
# this is on (apps.footprints.selectors.footprint_tile_pairs).
ASTROLOC_TRAIN_ON_NASA_ML = env.bool("ASTROLOC_TRAIN_ON_NASA_ML", default=False)
# Browser cache lifetime of the XYZ basemap tiles (/tiles/...).
ASTROLOC_TILE_CACHE_SECONDS = env.int("ASTROLOC_TILE_CACHE_SECONDS", default=86_400)

# Embedding and localization (workers/embed.py, workers/localize.py). The defaults are justified by measurements
# in docs/benchmarks.md (tests/benchmarks/retrieval.py at 100k/1M, tests/benchmarks/localize_e2e.py on `bench`).
# Tiles per embedding batch within a chunk (one COPY each; the resume granularity of an embed chunk).
ASTROLOC_EMBED_BATCH_TILES = env.int("ASTROLOC_EMBED_BATCH_TILES", default=256)
# Scale-out: an embed / label / localize job is cut into chunks of this many items, each a task any worker may take.
ASTROLOC_EMBED_CHUNK_TILES = env.int("ASTROLOC_EMBED_CHUNK_TILES", default=2048)
ASTROLOC_LOCALIZE_CHUNK_PHOTOS = env.int("ASTROLOC_LOCALIZE_CHUNK_PHOTOS", default=50)
ASTROLOC_LABEL_CHUNK_PHOTOS = env.int("ASTROLOC_LABEL_CHUNK_PHOTOS", default=50)
# Where train jobs keep their run directory (per job: resumable `last.pt`); empty: the system temp dir.
ASTROLOC_TRAIN_DIR = env.str("ASTROLOC_TRAIN_DIR", default="") or None
# GPU workers load the active version's model + index when they start (services.sh sets it for them only).
ASTROLOC_WORKER_PRELOAD = env.bool("ASTROLOC_WORKER_PRELOAD", default=False)
# Below this many vectors (tiles x 4) the FAISS index is exact (flat): one query stays well under a second
# (4 q/s at 1M on the loaded 2-core VM); above, IVF (65x the flat reference at 1M, recall 1.000 after re-rank).
ASTROLOC_LOCALIZE_FAISS_EXACT_THRESHOLD = env.int("ASTROLOC_LOCALIZE_FAISS_EXACT_THRESHOLD", default=1_000_000)
# Candidate tiles from the candidate stage, re-ranked exactly over 4 rotations: top 100 restores recall@10
# 0.994-1.000 from pgvector's own 0.59-0.81 at 1M, and holds the e2e benchmark's R@100.
ASTROLOC_LOCALIZE_CANDIDATES_K = env.int("ASTROLOC_LOCALIZE_CANDIDATES_K", default=100)
# pgvector hnsw.ef_search: 200 lifts its own recall at 1M (0.62 -> 0.78, 0.71 -> 0.81 at 10 %) at ~the same rate.
ASTROLOC_LOCALIZE_HNSW_EF_SEARCH = env.int("ASTROLOC_LOCALIZE_HNSW_EF_SEARCH", default=200)
# A prior holding at most this many tiles (PostGIS) is scored exactly in memory instead of through pgvector
# HNSW (0: never): exact and as fast or faster up to 2,500 tiles (1.9-4x at 100k, equal at 1M); at 25k tiles
# pgvector is 1.2x faster but no longer exact (0.994).
ASTROLOC_LOCALIZE_PRIOR_EXACT_MAX_TILES = env.int("ASTROLOC_LOCALIZE_PRIOR_EXACT_MAX_TILES", default=10_000)
# Verification cascade per photo (ml.verification.cascade; measurements in docs/localization.md): the best
# BUDGET_CANDIDATES re-ranked tiles get the cheap test (robust inliers against the tile's stored features), those
# with at least CHEAP_MIN_INLIERS (and a plausible shape) the full verification, most cheap inliers first, until
# BUDGET_SECONDS of CPU time are spent. CHEAP_MIN_INLIERS=0 turns the cheap test off: the first
# BUDGET_CANDIDATES are fully verified in rank order.
ASTROLOC_LOCALIZE_VERIFY_BUDGET_CANDIDATES = env.int("ASTROLOC_LOCALIZE_VERIFY_BUDGET_CANDIDATES", default=100)
ASTROLOC_LOCALIZE_VERIFY_BUDGET_SECONDS = env.float("ASTROLOC_LOCALIZE_VERIFY_BUDGET_SECONDS", default=20.0)
ASTROLOC_LOCALIZE_VERIFY_CHEAP_MIN_INLIERS = env.int("ASTROLOC_LOCALIZE_VERIFY_CHEAP_MIN_INLIERS", default=6)
# Decoded stored features kept per worker process (database images; ~70-150 kB each).
ASTROLOC_FEATURES_CACHE_TILES = env.int("ASTROLOC_FEATURES_CACHE_TILES", default=2048)
# Candidates kept in the job result for review (R@10 70 % on `bench` with the prior).
ASTROLOC_LOCALIZE_KEEP_CANDIDATES = env.int("ASTROLOC_LOCALIZE_KEEP_CANDIDATES", default=10)
# A new retrieval footprint replaces the current one only when their IoU is below this: the same verified tile
# gives the same footprint (IoU 1.000 for all 17 `bench` photos verified in two runs), so only a real change
# (another tile, a better model) adds history.
ASTROLOC_LOCALIZE_SAME_IOU = env.float("ASTROLOC_LOCALIZE_SAME_IOU", default=0.95)
# Spatial prior: the centre point's default uncertainty, and the largest off-nadir angle per tilt class
# (NASA: NV up to ~20 deg; LO ~20-60 deg; HO beyond, up to the horizon, ~2,300 km at 420 km altitude). On
# `bench` the nadir prior holds the true footprint for 100 % of the test photos and lifts R@1 18 -> 24 %.
ASTROLOC_LOCALIZE_CENTER_UNCERTAINTY_KM = env.float("ASTROLOC_LOCALIZE_CENTER_UNCERTAINTY_KM", default=300.0)
ASTROLOC_LOCALIZE_USE_NADIR_PRIOR = env.bool("ASTROLOC_LOCALIZE_USE_NADIR_PRIOR", default=True)
ASTROLOC_LOCALIZE_TILT_MAX_DEG = {"NV": 30.0, "LO": 65.0, "HO": 90.0, "": 90.0}
ASTROLOC_LOCALIZE_DEFAULT_ALTITUDE_KM = env.float("ASTROLOC_LOCALIZE_DEFAULT_ALTITUDE_KM", default=420.0)
# Matcher used for verification (ml.matching.create_matcher name); the embed job stores every tile's features
# for it, versioned by name + options (ml.verification.feature_key), so changing it needs an embed run.
ASTROLOC_LOCALIZE_MATCHER = env.str("ASTROLOC_LOCALIZE_MATCHER", default="sift")
