"""Settings for bench/download.py only: the app's settings, with a URLconf that adds a bare view.

Everything else (middleware, cache, database, DEBUG) is exactly aggregator.settings, read
from the same environment, so the bare view and the gateway view run in the same process
behind the same middleware on the same gunicorn. MUDHUB_BENCH_REDIS_CLIENT=reuse swaps in
the experimental cache backend of bench/baseline/cache.py (off unless asked for).
"""

import os

from aggregator.settings import *  # noqa: F403
from aggregator.settings import CACHES

ROOT_URLCONF = "bench.baseline.urls"

if os.environ.get("MUDHUB_BENCH_REDIS_CLIENT") == "reuse":
    CACHES["default"]["BACKEND"] = "bench.baseline.cache.ReusedClientRedisCache"
