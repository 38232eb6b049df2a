"""The Celery application: web, worker and beat run the same code from the same image."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aggregator.settings")

app = Celery("mudhub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
