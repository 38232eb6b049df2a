"""Settings for bench/download.py only: the app's settings, with a URLconf that adds a bare view.

Everything else (middleware, cache, database, DEBUG) is exactly aggregator.settings, read
from the same environment, so the bare view and the gateway view run in the same process
behind the same middleware on the same gunicorn.
"""

from aggregator.settings import *  # noqa: F403

ROOT_URLCONF = "bench.baseline.urls"
