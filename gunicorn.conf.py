"""gunicorn's settings for `make serve`, the image and docker compose: gunicorn reads this file
from its working directory (the repository, /app in the image) before the command line.

A sync worker is killed when one request runs longer than `timeout` seconds, and a gateway
reading a long export (`/api/v1/export/`, tens of megabytes at a router's pace) is one such
request: gunicorn's 30 s default cut such downloads short. MUDHUB_GUNICORN_TIMEOUT sets it
(default 300 s: a 10,000-model export, about 15 MB, at 50 KB/s)."""

import os

timeout = int(os.environ.get("MUDHUB_GUNICORN_TIMEOUT") or 300)
if timeout < 1:
    raise ValueError("MUDHUB_GUNICORN_TIMEOUT must be at least 1 (seconds)")
# After a restart signal, how long a worker may finish the requests it holds.
graceful_timeout = int(os.environ.get("MUDHUB_GUNICORN_GRACEFUL_TIMEOUT") or 30)
